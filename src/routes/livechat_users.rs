//! `livechat/users/{agent|manager}` and `livechat/agent.status`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use super::user_json::UserJson;
use crate::domain::pagination::Page;
use crate::domain::permission::{MANAGE_AGENTS, MANAGE_MANAGERS, VIEW_LIVECHAT_MANAGER};
use crate::domain::user::{LivechatStatus, ROLE_AGENT, ROLE_MANAGER};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::JsonBody;
use crate::http::paged::paged;
use crate::state::AppState;

/// The role behind a `{type}` path segment, and who may manage it.
fn role_of(kind: &str) -> Result<(&'static str, &'static str), Error> {
    match kind {
        "agent" => Ok((ROLE_AGENT, MANAGE_AGENTS)),
        "manager" => Ok((ROLE_MANAGER, MANAGE_MANAGERS)),
        _ => Err(Error::meteor(
            "error-invalid-type",
            "Invalid type: must be agent or manager",
        )),
    }
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct AddBody {
    #[validate(length(min = 1, message = "must not be empty"))]
    pub username: String,
}

#[utoipa::path(post, path = "/api/v1/livechat/users/{type}", tag = "livechat users",
    params(("type" = String, Path, description = "agent or manager")),
    request_body = AddBody,
    responses((status = 200, description = "`{success, user}`"), (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn add(
    state: web::Data<AppState>,
    caller: AuthUser,
    kind: web::Path<String>,
    body: JsonBody<AddBody>,
) -> Result<HttpResponse, Error> {
    let (role, permission) = role_of(&kind)?;
    caller.require_all(&[permission]).await?;
    let username = body.into_inner().username;
    let users = state.store.users();
    let user = users
        .find_by_username(username.trim())
        .await?
        .ok_or_else(|| {
            Error::meteor(
                "error-invalid-user",
                &format!("No user with username `{}`", username.trim()),
            )
        })?;
    let user = if role == ROLE_AGENT {
        state
            .store
            .add_agent(&user.id, !state.settings.routing.strict_counts)
            .await?
    } else {
        users.add_role(&user.id, role).await?
    }
    .ok_or_else(|| Error::meteor("error-invalid-user", "Invalid user"))?;
    state.access.users_changed();
    Ok(HttpResponse::Ok().json(json!({"success": true, "user": UserJson::from(user)})))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub text: Option<String>,
    pub count: Option<String>,
    pub offset: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/users/{type}", tag = "livechat users",
    params(("type" = String, Path, description = "agent or manager"),
           ("text" = Option<String>, Query), ("count" = Option<u64>, Query), ("offset" = Option<u64>, Query)),
    responses((status = 200, description = "`{users, count, offset, total, success}`"), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: AuthUser,
    kind: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    let (role, permission) = role_of(&kind)?;
    caller
        .require_any(&[permission, VIEW_LIVECHAT_MANAGER])
        .await?;
    let page = Page::parse(query.offset.as_deref(), query.count.as_deref())?;
    let (users, total) = state
        .store
        .users()
        .list_with_role(role, query.text.as_deref(), page)
        .await?;
    let users: Vec<UserJson> = users.into_iter().map(UserJson::from).collect();
    Ok(paged("users", users, page, total))
}

#[utoipa::path(get, path = "/api/v1/livechat/users/{type}/{_id}", tag = "livechat users",
    params(("type" = String, Path), ("_id" = String, Path)),
    responses((status = 200, description = "`{user: {...} | null, success}`"), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (kind, id) = path.into_inner();
    let (role, permission) = role_of(&kind)?;
    caller
        .require_any(&[permission, VIEW_LIVECHAT_MANAGER])
        .await?;
    let user = state
        .store
        .users()
        .find_by_id(&id)
        .await?
        .filter(|u| u.has_role(role))
        .map(UserJson::from);
    Ok(HttpResponse::Ok().json(json!({"user": user, "success": true})))
}

#[utoipa::path(delete, path = "/api/v1/livechat/users/{type}/{_id}", tag = "livechat users",
    params(("type" = String, Path), ("_id" = String, Path)),
    responses((status = 200, description = "`{success: true}`"), (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn remove(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (kind, id) = path.into_inner();
    let (role, permission) = role_of(&kind)?;
    caller.require_all(&[permission]).await?;
    let removed = if role == ROLE_AGENT {
        state.store.remove_agent(&id).await?
    } else {
        state.store.users().remove_role_if_held(&id, role).await?
    };
    if !removed {
        return Err(Error::meteor(
            "error-user-not-found",
            &format!("No {kind} with id `{id}`"),
        ));
    }
    state.access.users_changed();
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct AgentStatusBody {
    /// available or not-available; toggles when absent.
    pub status: Option<String>,
    /// Another agent's id; needs `manage-livechat-agents`.
    #[serde(rename = "agentId")]
    pub agent_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/livechat/agent.status", tag = "livechat users",
    request_body = AgentStatusBody,
    responses((status = 200, description = "`{status, success}`"), (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn agent_status(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<AgentStatusBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let target = body.agent_id.unwrap_or_else(|| caller.id().to_string());
    if target != caller.id() {
        caller.require_all(&[MANAGE_AGENTS]).await?;
    }
    let requested: Option<LivechatStatus> = body.status.as_deref().map(str::parse).transpose()?;
    let agent = state
        .store
        .users()
        .find_by_id(&target)
        .await?
        .filter(|u| u.has_role(ROLE_AGENT))
        .ok_or_else(Error::not_a_livechat_agent)?;
    let status = requested.unwrap_or_else(|| agent.status_livechat.toggled());
    state
        .distribution
        .set_livechat_status(&agent.id, status)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": status.as_str(), "success": true})))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct AgentSettingsBody {
    /// Most open chats this agent may hold; 0 = no limit of its own.
    #[serde(rename = "maxNumberSimultaneousChat")]
    #[validate(range(max = 100000, message = "must be between 0 and 100000"))]
    pub max_number_simultaneous_chat: u32,
}

#[utoipa::path(put, path = "/api/v1/livechat/users/agent/{_id}", tag = "livechat users",
    params(("_id" = String, Path)), request_body = AgentSettingsBody,
    responses((status = 200, description = "`{user, success}`"), (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn update_agent(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
    body: JsonBody<AgentSettingsBody>,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[MANAGE_AGENTS]).await?;
    let limit = body.into_inner().max_number_simultaneous_chat;
    let agent = state
        .store
        .users()
        .find_by_id(&id)
        .await?
        .filter(|u| u.has_role(ROLE_AGENT))
        .ok_or_else(Error::not_a_livechat_agent)?;
    let user = state
        .distribution
        .set_agent_limit(&agent.id, limit)
        .await?
        .ok_or_else(Error::not_a_livechat_agent)?;
    Ok(HttpResponse::Ok().json(json!({"user": UserJson::from(user), "success": true})))
}
