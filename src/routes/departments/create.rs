//! `POST livechat/department`: register a department with its agents.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use validator::Validate;

use super::{RawBody, department_json, links_json};
use crate::auth::AuthUser;
use crate::auth::permissions::MANAGE_DEPARTMENTS;
use crate::domain::agent_link::{AgentLinkInput, AgentLinkSpecs};
use crate::domain::department::NewDepartment;
use crate::error::Error;
use crate::routes::extract::{JsonBody, parse_value};
use crate::state::AppState;

/// The body of a create or an update.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// `name`, `email`, `enabled`, `showOnRegistration`, `showOnOfflineForm`
    /// (required on create), the optional known fields, and custom scalar
    /// fields.
    #[schema(value_type = Object)]
    pub department: Map<String, Value>,
    /// `[{agentId, count?, order?}]`: agents to link (never removes).
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(default)]
    pub agents: Option<Vec<AgentLinkInput>>,
    /// Accepted for compatibility and ignored: units are a Rocket.Chat
    /// Enterprise feature.
    #[schema(value_type = Option<Object>)]
    #[serde(rename = "departmentUnit", default)]
    pub department_unit: Option<Value>,
}

#[utoipa::path(post, path = "/api/v1/livechat/department", tag = "departments",
    request_body = SaveBody,
    responses((status = 200, description = "`{department, agents, success}`"),
              (status = 400, description = "Invalid input; nothing was written"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<RawBody>,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[MANAGE_DEPARTMENTS]).await?;
    let body: SaveBody = parse_value(body.into_inner().0)?;
    let department = NewDepartment::parse(body.department)?;
    let agents = AgentLinkSpecs::parse("agents", body.agents.unwrap_or_default())?;
    let id = state
        .store
        .create_department(&department, &agents, state.settings.routing.strict_counts)
        .await?;
    saved(&state, &id).await
}

/// The answer to a save: the department as stored now and all its links.
pub(super) async fn saved(state: &AppState, id: &str) -> Result<HttpResponse, Error> {
    state.distribution.department_changed(id).await;
    let department = state.store.departments().find_by_id(id).await?;
    let agents = state
        .store
        .department_agents()
        .all_of_department(id)
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "department": department.as_ref().map(department_json),
        "agents": links_json(&agents),
        "success": true,
    })))
}
