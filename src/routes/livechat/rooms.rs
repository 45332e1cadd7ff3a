//! The visitor's room — where its chat is routed — its agent, and its
//! close. Public and rate-limited; a token reaches only its own room.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use super::json;
use crate::error::Error;
use crate::http::extract::JsonBody;
use crate::livechat::CLOSED_BY_VISITOR;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct RoomQuery {
    pub token: Option<String>,
    pub rid: Option<String>,
    /// Rocket.Chat's preferred agent. Switchboard's engine decides who
    /// takes the chat, so it is accepted and not used.
    #[serde(rename = "agentId")]
    #[expect(dead_code, reason = "accepted for compatibility, see above")]
    pub agent_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/room", tag = "livechat",
    params(("token" = String, Query), ("rid" = Option<String>, Query), ("agentId" = Option<String>, Query)),
    responses((status = 200, description = "`{room: {_id, t: l, ts, fname, msgs, v, departmentId, open, servedBy?}, newRoom, success}`: a new room is routed through the engine with the visitor's department; `servedBy` is the agent that took it, none while it waits"),
              (status = 400, description = "A bad token, the visitor's department is gone, `invalid-token`, or `invalid-room`: `rid` names no open livechat room of this visitor (a new room's id is always chosen by the server); nothing is routed"),
              (status = 429), (status = 503, description = "Nothing was recorded: a chat decided for a request that failed is withdrawn")))]
pub async fn room(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<RoomQuery>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let token = super::token(query.token.as_deref())?;
    let rid = query.rid.as_deref().filter(|r| !r.is_empty());
    if rid.is_some_and(|r| r.len() > 64) {
        return Err(crate::domain::ValidationError::new(
            "rid",
            "length",
            "must be at most 64 characters",
        )
        .into());
    }
    let (view, new) = state.livechat.room(&token, rid).await?;
    Ok(
        HttpResponse::Ok()
            .json(json!({"room": json::room(&view), "newRoom": new, "success": true})),
    )
}

#[derive(Debug, Deserialize)]
pub struct AgentPath {
    pub rid: String,
    pub token: String,
}

#[utoipa::path(get, path = "/api/v1/livechat/agent.info/{rid}/{token}", tag = "livechat",
    params(("rid" = String, Path), ("token" = String, Path)),
    responses((status = 200, description = "`{agent: {_id, username, name, emails, status}, success}`, or `{agent: {hiddenInfo: true}}` with `Livechat_show_agent_info` off"),
              (status = 400, description = "`[invalid-agent]`: no agent serves the room (yet); `invalid-token`, or `invalid-room`"),
              (status = 429)))]
pub async fn agent_info(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<AgentPath>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let token = super::token(Some(&path.token))?;
    let agent = state.livechat.agent_of_room(&token, &path.rid).await?;
    Ok(HttpResponse::Ok().json(json!({"agent": json::agent(&agent), "success": true})))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct CloseBody {
    pub rid: String,
    pub token: String,
}

#[utoipa::path(post, path = "/api/v1/livechat/room.close", tag = "livechat", request_body = CloseBody,
    responses((status = 200, description = "`{rid, comment, success}`: the room closes; the agent's slot is freed and handed to the queue"),
              (status = 400, description = "`[room-closed]` when it already is; `invalid-token`, or `invalid-room`"),
              (status = 429)))]
pub async fn close(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<CloseBody>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let body = body.into_inner();
    let token = super::token(Some(&body.token))?;
    state.livechat.close(&token, &body.rid).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"rid": body.rid, "comment": CLOSED_BY_VISITOR, "success": true})))
}
