//! `PUT` and `DELETE livechat/department/:_id`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::save::{SaveBody, saved};
use crate::domain::agent_link::AgentLinkSpecs;
use crate::domain::department::DepartmentPatch;
use crate::domain::permission::{ADD_DEPARTMENT_AGENTS, MANAGE_DEPARTMENTS, REMOVE_DEPARTMENT};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::{UnparsedJson, parse_value};
use crate::state::AppState;

#[utoipa::path(put, path = "/api/v1/livechat/department/{_id}", tag = "departments",
    params(("_id" = String, Path)),
    request_body = SaveBody,
    responses((status = 200, description = "`{department, agents, success}`"),
              (status = 400, description = "Invalid input, `error-not-allowed` without manage-livechat-departments, or `error-department-not-found`; nothing was written"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
    body: UnparsedJson,
) -> Result<HttpResponse, Error> {
    caller
        .require_any(&[MANAGE_DEPARTMENTS, ADD_DEPARTMENT_AGENTS])
        .await?;
    let may_save = caller.has(MANAGE_DEPARTMENTS).await?;
    let may_add_agents = caller.has(ADD_DEPARTMENT_AGENTS).await?;
    let body: SaveBody = parse_value(body.0)?;
    if !may_save {
        return Err(Error::code("error-not-allowed"));
    }
    let patch = DepartmentPatch::parse(body.department)?;
    // As in Rocket.Chat, agents are ignored without the add-agents permission.
    let agents = match body.agents {
        Some(items) if may_add_agents => Some(AgentLinkSpecs::parse("agents", items)?),
        _ => None,
    };
    let updated = state
        .departments
        .update(&id, &patch, agents.as_ref())
        .await?;
    Ok(saved(updated))
}

#[utoipa::path(delete, path = "/api/v1/livechat/department/{_id}", tag = "departments",
    params(("_id" = String, Path)),
    responses((status = 200, description = "`{success: true}`"),
              (status = 400, description = "`error-department-not-found` or `error-department-removal-disabled`"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn remove(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    caller
        .require_any(&[MANAGE_DEPARTMENTS, REMOVE_DEPARTMENT])
        .await?;
    state.departments.remove(&id).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}
