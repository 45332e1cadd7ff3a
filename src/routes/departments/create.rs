//! `POST livechat/department`: register a department with its agents.

use actix_web::{HttpResponse, web};

use super::save::{SaveBody, saved};
use crate::domain::agent_link::AgentLinkSpecs;
use crate::domain::department::NewDepartment;
use crate::domain::permission::MANAGE_DEPARTMENTS;
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::{UnparsedJson, parse_value};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/livechat/department", tag = "departments",
    request_body = SaveBody,
    responses((status = 200, description = "`{department, agents, success}`"),
              (status = 400, description = "Invalid input; nothing was written"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: UnparsedJson,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[MANAGE_DEPARTMENTS]).await?;
    let body: SaveBody = parse_value(body.0)?;
    let department = NewDepartment::parse(body.department)?;
    let agents = AgentLinkSpecs::parse("agents", body.agents.unwrap_or_default())?;
    let created = state.departments.create(&department, &agents).await?;
    Ok(saved(created))
}
