//! Assignments — the record of every routing decision — and Rocket.Chat's
//! public `agent.next` widget call, both served by the routing engine.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use validator::Validate;

use crate::distribution::{RouteRequest, Routed, Shown, Shows};
use crate::domain::assignment::{Assignment, Channel, StateChange, Status};
use crate::domain::pagination::Page;
use crate::domain::permission::VIEW_LIVECHAT_MANAGER;
use crate::domain::user::ROLE_AGENT;
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::JsonBody;
use crate::state::AppState;
use crate::store::assignments::AssignmentFilter;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssignmentJson {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "visitorToken")]
    pub visitor_token: String,
    #[serde(rename = "roomId")]
    pub room_id: Option<String>,
    #[serde(rename = "departmentId")]
    pub department_id: Option<String>,
    #[serde(rename = "requestedDepartmentId")]
    pub requested_department_id: Option<String>,
    #[serde(rename = "agentId")]
    pub agent_id: Option<String>,
    pub username: Option<String>,
    /// open, offered, queued or closed.
    pub status: String,
    pub method: String,
    /// Why this agent was chosen (or why none was), in words.
    pub reason: String,
    #[serde(rename = "createdAt")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When an agent took it (later than `createdAt` if it waited queued).
    #[serde(rename = "routedAt", skip_serializing_if = "Option::is_none")]
    pub routed_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(rename = "closedAt", skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For a queued chat answered alone: its place in its queue (1 = next).
    #[serde(rename = "queuePosition", skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u64>,
    /// `chat` or `audioVideo`.
    pub channel: String,
    /// Agents that declined it (or let its offer time out).
    #[serde(rename = "declinedBy")]
    pub declined_by: Vec<String>,
    /// Its state changes, oldest first.
    pub history: Vec<StateChangeJson>,
}

/// One state change: `queued`, `offered`, `declined`, `timedOut`, `open`,
/// `takenManually` or `closed`, with the agent it concerned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StateChangeJson {
    pub status: String,
    pub at: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "agentId", skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl From<StateChange> for StateChangeJson {
    fn from(c: StateChange) -> Self {
        StateChangeJson {
            status: c.change.as_str().to_string(),
            at: c.at,
            agent_id: c.agent_id,
            username: c.username,
        }
    }
}

/// One assignment answered alone.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssignmentAnswer {
    pub assignment: AssignmentJson,
    pub success: bool,
}

/// A page of assignments, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssignmentPage {
    pub assignments: Vec<AssignmentJson>,
    pub count: usize,
    pub offset: u64,
    pub total: u64,
    pub success: bool,
}

impl From<Assignment> for AssignmentJson {
    fn from(a: Assignment) -> Self {
        AssignmentJson {
            id: a.id,
            visitor_token: a.visitor_token,
            room_id: a.room_id,
            department_id: a.department_id,
            requested_department_id: a.requested_department_id,
            agent_id: a.agent_id,
            username: a.username,
            status: a.status.as_str().to_string(),
            method: a.method.as_str().to_string(),
            reason: a.reason,
            created_at: a.created_at,
            routed_at: a.routed_at,
            closed_at: a.closed_at,
            queue_position: None,
            channel: a.channel.as_str().to_string(),
            declined_by: a.declined_by,
            history: a.history.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct CreateBody {
    #[serde(rename = "visitorToken")]
    #[validate(length(min = 1, max = 256, message = "must be 1 to 256 characters"))]
    pub visitor_token: String,
    #[serde(rename = "departmentId")]
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub department_id: Option<String>,
    #[serde(rename = "roomId")]
    #[validate(length(min = 1, max = 256, message = "must be 1 to 256 characters"))]
    pub room_id: Option<String>,
    /// `chat` (the default) or `audioVideo`.
    pub channel: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/livechat/assignments", tag = "routing", request_body = CreateBody,
    responses((status = 200, description = "Open with an agent, or queued", body = AssignmentAnswer),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_LIVECHAT_MANAGER]).await?;
    let body = body.into_inner();
    let channel = match body.channel.as_deref() {
        None => Channel::Chat,
        Some(c) => Channel::parse(c).ok_or_else(|| {
            crate::domain::ValidationError::new("channel", "enum", "must be chat or audioVideo")
        })?,
    };
    let request = RouteRequest {
        visitor_token: body.visitor_token,
        department_id: body.department_id,
        room_id: body.room_id,
        record_queued: true,
        channel,
    };
    let answered = state
        .distribution
        .route_and_read(request, Shows::QueuePlace)
        .await?;
    let queue_position = match answered.shown {
        Shown::QueuePlace(place) => place,
        _ => None,
    };
    let assignment = match answered.routed {
        Routed::New(a) | Routed::Existing(a) => a,
        Routed::NoAgent => {
            return Err(Error::Unexpected(anyhow::anyhow!(
                "a queued decision was not recorded"
            )));
        }
    };
    Ok(HttpResponse::Ok().json(AssignmentAnswer {
        assignment: AssignmentJson {
            queue_position,
            ..AssignmentJson::from(assignment)
        },
        success: true,
    }))
}

/// One assignment as answered alone: a queued one with its place in the
/// queue.
async fn answer_one(state: &AppState, a: Assignment) -> Result<HttpResponse, Error> {
    let position = state.store.assignments().queue_position(&a).await?;
    let json = AssignmentJson {
        queue_position: position,
        ..AssignmentJson::from(a)
    };
    Ok(HttpResponse::Ok().json(AssignmentAnswer {
        assignment: json,
        success: true,
    }))
}

/// Managers see everything; an agent only its own assignments.
async fn may_see(caller: &AuthUser, a: &Assignment) -> Result<(), Error> {
    if caller.has(VIEW_LIVECHAT_MANAGER).await? {
        return Ok(());
    }
    if caller.user.has_role(ROLE_AGENT) && a.agent_id.as_deref() == Some(caller.id()) {
        return Ok(());
    }
    Err(Error::Forbidden)
}

fn not_found() -> Error {
    Error::NotFound("assignment-not-found".into())
}

/// The assignment, if it exists and the caller may see it.
async fn find_visible(state: &AppState, caller: &AuthUser, id: &str) -> Result<Assignment, Error> {
    let assignment = state
        .store
        .assignments()
        .find(id)
        .await?
        .filter(|a| a.status != Status::Abandoned)
        .ok_or_else(not_found)?;
    may_see(caller, &assignment).await?;
    Ok(assignment)
}

#[utoipa::path(get, path = "/api/v1/livechat/assignments/{_id}", tag = "routing",
    params(("_id" = String, Path)),
    responses((status = 200, body = AssignmentAnswer), (status = 404, description = "`{success: false, error: assignment-not-found}`"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let assignment = find_visible(&state, &caller, &id).await?;
    answer_one(&state, assignment).await
}

#[utoipa::path(post, path = "/api/v1/livechat/assignments/{_id}/close", tag = "routing",
    params(("_id" = String, Path)),
    responses((status = 200, description = "The closed assignment", body = AssignmentAnswer), (status = 404),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn close(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    find_visible(&state, &caller, &id).await?;
    let closed = state.distribution.close(&id).await?.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(AssignmentAnswer {
        assignment: closed.into(),
        success: true,
    }))
}

/// The agent the chat is offered to (a manager may answer for it).
fn offered_agent(a: &Assignment) -> Result<String, Error> {
    match (a.status, a.agent_id.clone()) {
        (Status::Offered, Some(agent)) => Ok(agent),
        _ => Err(Error::meteor(
            "error-not-allowed",
            "Not allowed: the chat is not offered to this agent",
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/livechat/assignments/{_id}/accept", tag = "routing",
    params(("_id" = String, Path)),
    responses((status = 200, description = "The chat, now open with the agent", body = AssignmentAnswer),
              (status = 400, description = "Not offered (any more) to this agent"), (status = 404),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn accept(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let offered = find_visible(&state, &caller, &id).await?;
    let agent = offered_agent(&offered)?;
    let accepted = state.distribution.accept(&id, &agent).await?;
    answer_one(&state, accepted).await
}

#[utoipa::path(post, path = "/api/v1/livechat/assignments/{_id}/decline", tag = "routing",
    params(("_id" = String, Path)),
    responses((status = 200, description = "The chat, handed to the next eligible agent or queued", body = AssignmentAnswer),
              (status = 400, description = "Not offered (any more) to this agent"), (status = 404),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn decline(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let offered = find_visible(&state, &caller, &id).await?;
    let agent = offered_agent(&offered)?;
    let handed_on = state.distribution.decline(&id, &agent).await?;
    answer_one(&state, handed_on).await
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "departmentId")]
    pub department_id: Option<String>,
    #[serde(rename = "agentId")]
    pub agent_id: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "visitorToken")]
    pub visitor_token: Option<String>,
    pub count: Option<String>,
    pub offset: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/assignments", tag = "routing",
    params(("departmentId" = Option<String>, Query), ("agentId" = Option<String>, Query),
           ("status" = Option<String>, Query), ("visitorToken" = Option<String>, Query),
           ("count" = Option<u64>, Query), ("offset" = Option<u64>, Query)),
    responses((status = 200, body = AssignmentPage),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let page = Page::parse(query.offset.as_deref(), query.count.as_deref())?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse_public(s).ok_or_else(|| {
            crate::domain::ValidationError::new(
                "status",
                "enum",
                "must be open, offered, queued or closed",
            )
        })?),
    };
    let mut filter = AssignmentFilter {
        department_id: query.department_id,
        agent_id: query.agent_id,
        status,
        visitor_token: query.visitor_token,
    };
    if !caller.has(VIEW_LIVECHAT_MANAGER).await? {
        let own = caller.user.has_role(ROLE_AGENT)
            && filter.agent_id.as_deref().is_none_or(|a| a == caller.id());
        if !own {
            return Err(Error::Forbidden);
        }
        filter.agent_id = Some(caller.id().to_string());
    }
    let (found, total) = state.store.assignments().list(&filter, page).await?;
    Ok(HttpResponse::Ok().json(AssignmentPage {
        count: found.len(),
        assignments: found.into_iter().map(AssignmentJson::from).collect(),
        offset: page.offset,
        total,
        success: true,
    }))
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    pub department: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/agent.next/{token}", tag = "routing",
    params(("token" = String, Path, description = "The visitor token"),
           ("department" = Option<String>, Query)),
    responses((status = 200, description = "`{agent: {_id, username, name}, success}`"),
              (status = 400, description = "`{success: false, error: agent-not-found}`"),
              (status = 429, description = "Too many requests from this address")))]
pub async fn agent_next(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, Error> {
    state
        .limits
        .agent_next
        .check(&state.store, &crate::http::bounds::client_address(&req))
        .await?;
    let token = token.into_inner();
    if token.trim().is_empty() || token.len() > 256 {
        return Err(crate::domain::ValidationError::new(
            "token",
            "length",
            "must be 1 to 256 characters",
        )
        .into());
    }
    let request = RouteRequest {
        visitor_token: token,
        department_id: query.into_inner().department.filter(|d| !d.is_empty()),
        room_id: None,
        record_queued: false,
        channel: Channel::Chat,
    };
    let agent = match state
        .distribution
        .route_and_read(request, Shows::Agent)
        .await?
        .shown
    {
        Shown::Agent(Some(agent)) => agent,
        _ => return Err(Error::code("agent-not-found")),
    };
    Ok(HttpResponse::Ok().json(json!({
        "agent": {"_id": agent.id, "username": agent.username, "name": agent.name},
        "success": true,
    })))
}
