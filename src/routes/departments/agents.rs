//! The agents of a department (`livechat/department/:_id/agents`) and the
//! departments of an agent (`livechat/agents/:agentId/departments`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use super::links_json;
use crate::domain::agent_link::{AgentLinkInput, AgentLinkSpecs, AgentRemoveInput};
use crate::domain::listing::{Sort, parse_flag};
use crate::domain::pagination::Page;
use crate::domain::permission::{
    ADD_DEPARTMENT_AGENTS, MANAGE_DEPARTMENTS, VIEW_DEPARTMENTS, VIEW_L_ROOM,
};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::{UnparsedJson, parse_value};
use crate::http::paged::paged;
use crate::state::AppState;
use crate::store::department_agents::SORTABLE_FIELDS;

#[derive(Debug, Deserialize)]
pub struct AgentsQuery {
    pub count: Option<String>,
    pub offset: Option<String>,
    pub sort: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/department/{_id}/agents", tag = "departments",
    params(("_id" = String, Path), ("count" = Option<u64>, Query), ("offset" = Option<u64>, Query),
           ("sort" = Option<String>, Query, description = "JSON over username, count, order, agentId, _updatedAt")),
    responses((status = 200, description = "`{agents, count, offset, total, success}` (empty for an unknown department)"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
    query: web::Query<AgentsQuery>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_DEPARTMENTS, VIEW_L_ROOM]).await?;
    let sort = Sort::parse(query.sort.as_deref(), SORTABLE_FIELDS, Sort::by("username"))?;
    let page = Page::parse(query.offset.as_deref(), query.count.as_deref())?;
    let (agents, total) = state
        .store
        .department_agents()
        .list(&id, &sort, page)
        .await?;
    Ok(paged("agents", links_json(&agents), page, total))
}

/// `{upsert: [...], remove: [...]}`, both required.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct AgentsBody {
    /// `[{agentId, count?, order?}]`: absent `count`/`order` keep stored values.
    #[schema(value_type = Vec<Object>)]
    pub upsert: Vec<AgentLinkInput>,
    /// `[{agentId}]`
    #[schema(value_type = Vec<Object>)]
    #[validate(nested)]
    pub remove: Vec<AgentRemoveInput>,
}

#[utoipa::path(post, path = "/api/v1/livechat/department/{_id}/agents", tag = "departments",
    params(("_id" = String, Path)),
    request_body = AgentsBody,
    responses((status = 200, description = "`{success: true}`"),
              (status = 400, description = "Invalid input or `error-department-not-found`; nothing was written"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn save(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
    body: UnparsedJson,
) -> Result<HttpResponse, Error> {
    caller
        .require_any(&[MANAGE_DEPARTMENTS, ADD_DEPARTMENT_AGENTS])
        .await?;
    let body: AgentsBody = parse_value(body.0)?;
    let upsert = AgentLinkSpecs::parse("upsert", body.upsert)?;
    let remove: Vec<String> = body.remove.into_iter().map(|r| r.agent_id).collect();
    state.departments.save_agents(&id, &upsert, &remove).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

#[derive(Debug, Deserialize)]
pub struct AgentDepartmentsQuery {
    #[serde(rename = "enabledDepartmentsOnly")]
    pub enabled_departments_only: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/agents/{agentId}/departments", tag = "departments",
    params(("agentId" = String, Path), ("enabledDepartmentsOnly" = Option<bool>, Query)),
    responses((status = 200, description = "`{departments: [<link>], success}`"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn of_agent(
    state: web::Data<AppState>,
    caller: AuthUser,
    agent_id: web::Path<String>,
    query: web::Query<AgentDepartmentsQuery>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_L_ROOM, VIEW_DEPARTMENTS]).await?;
    let enabled_only = parse_flag(
        "enabledDepartmentsOnly",
        query.enabled_departments_only.as_deref(),
    )?
    .unwrap_or(false);
    let links = state
        .store
        .department_agents()
        .of_agent(&agent_id, enabled_only)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"departments": links_json(&links), "success": true})))
}
