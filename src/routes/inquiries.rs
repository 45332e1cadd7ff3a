//! Rocket.Chat's inquiry API over Switchboard's waiting chats: an inquiry
//! is a queued assignment (its `_id` is the assignment's), and taking it
//! gives the chat to the agent (Manual Selection, or auto distribution
//! disabled).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::inquiry_json::InquiryJson;
use crate::domain::assignment::Assignment;
use crate::domain::pagination::Page;
use crate::domain::permission::{VIEW_L_ROOM, VIEW_LIVECHAT_MANAGER};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::JsonBody;
use crate::state::AppState;
use crate::store::assignments::QueueScope;

/// A page of inquiries, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InquiryPage {
    pub inquiries: Vec<InquiryJson>,
    pub count: usize,
    pub offset: u64,
    pub total: u64,
    pub success: bool,
}

/// One inquiry (`null` when the room has none).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InquiryAnswer {
    pub inquiry: Option<InquiryJson>,
    pub success: bool,
}

fn page_json(found: Vec<Assignment>, total: u64, page: Page) -> HttpResponse {
    HttpResponse::Ok().json(InquiryPage {
        count: found.len(),
        inquiries: found.into_iter().map(InquiryJson::from).collect(),
        offset: page.offset,
        total,
        success: true,
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub department: Option<String>,
    pub count: Option<String>,
    pub offset: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/inquiries.list", tag = "routing",
    params(("department" = Option<String>, Query, description = "Only this department's queue"),
           ("count" = Option<u64>, Query), ("offset" = Option<u64>, Query)),
    responses((status = 200, description = "The waiting chats, oldest first", body = InquiryPage),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_LIVECHAT_MANAGER]).await?;
    let page = Page::parse(query.offset.as_deref(), query.count.as_deref())?;
    let scope = query
        .department
        .clone()
        .filter(|d| !d.is_empty())
        .map(QueueScope::Department);
    let (found, total) = state
        .store
        .assignments()
        .waiting(scope.as_ref(), page)
        .await?;
    Ok(page_json(found, total, page))
}

#[utoipa::path(get, path = "/api/v1/livechat/inquiries.queuedForUser", tag = "routing",
    params(("department" = Option<String>, Query, description = "Only this department of the caller's"),
           ("count" = Option<u64>, Query), ("offset" = Option<u64>, Query)),
    responses((status = 200, description = "The waiting chats the caller may take, oldest first", body = InquiryPage),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn queued_for_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_L_ROOM]).await?;
    let page = Page::parse(query.offset.as_deref(), query.count.as_deref())?;
    let department = query.department.as_deref().filter(|d| !d.is_empty());
    let (found, total) = state
        .distribution
        .waiting_for_agent(caller.id(), department, page)
        .await?;
    Ok(page_json(found, total, page))
}

#[derive(Debug, Deserialize)]
pub struct GetOneQuery {
    #[serde(rename = "roomId")]
    pub room_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/inquiries.getOne", tag = "routing",
    params(("roomId" = String, Query)),
    responses((status = 200, description = "The room's latest chat as an inquiry, or `null`", body = InquiryAnswer),
              (status = 400, description = "`roomId` missing"), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<GetOneQuery>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_L_ROOM]).await?;
    let room_id = query
        .room_id
        .as_deref()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            crate::domain::ValidationError::new("roomId", "required", "must be given")
        })?;
    let found = state.store.assignments().live_for_room(room_id).await?;
    Ok(HttpResponse::Ok().json(InquiryAnswer {
        inquiry: found.map(InquiryJson::from),
        success: true,
    }))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct TakeBody {
    #[serde(rename = "inquiryId")]
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub inquiry_id: String,
    /// The agent to take it for; the caller when absent.
    #[serde(rename = "userId")]
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub user_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/livechat/inquiries.take", tag = "routing", request_body = TakeBody,
    responses((status = 200, description = "Taken: the inquiry with status `taken`", body = InquiryAnswer),
              (status = 400, description = "Already taken, not an agent of its department, not online and available (`error-agent-status-service-offline`), or at the chat limit"),
              (status = 401), (status = 403, description = "Without `view-l-room`, or taking for another user without `view-livechat-manager`")),
    security(("userId" = [], "authToken" = [])))]
pub async fn take(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<TakeBody>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_L_ROOM]).await?;
    let body = body.into_inner();
    let agent = body.user_id.as_deref().unwrap_or(caller.id());
    // Taking a chat for someone else is a manager's act.
    if agent != caller.id() {
        caller.require_any(&[VIEW_LIVECHAT_MANAGER]).await?;
    }
    let taken = state
        .distribution
        .take_manually(&body.inquiry_id, agent)
        .await?;
    Ok(HttpResponse::Ok().json(InquiryAnswer {
        inquiry: Some(taken.into()),
        success: true,
    }))
}
