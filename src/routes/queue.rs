//! `livechat/queue`: the waiting chats per department, in order, as
//! Rocket.Chat's queue endpoint lists its queue per department.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::inquiry_json::InquiryJson;
use crate::domain::pagination::Page;
use crate::domain::permission::VIEW_L_ROOM;
use crate::error::Error;
use crate::http::AuthUser;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueDepartment {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
}

/// One queue: a department's (or, with `department: null`, the chats that
/// asked for none).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub department: Option<QueueDepartment>,
    /// How many chats wait in it.
    pub chats: u64,
    /// The first of them (at most 100), oldest first: the next to be placed
    /// comes first.
    pub inquiries: Vec<InquiryJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuePage {
    /// Queues, the longest-waiting first.
    pub queue: Vec<QueueItem>,
    pub count: usize,
    pub offset: u64,
    pub total: u64,
    pub success: bool,
}

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    #[serde(rename = "departmentId")]
    pub department_id: Option<String>,
    pub count: Option<String>,
    pub offset: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/queue", tag = "routing",
    params(("departmentId" = Option<String>, Query), ("count" = Option<u64>, Query), ("offset" = Option<u64>, Query)),
    responses((status = 200, body = QueuePage), (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_L_ROOM]).await?;
    let page = Page::parse(query.offset.as_deref(), query.count.as_deref())?;
    let department = query.department_id.as_deref().filter(|d| !d.is_empty());
    let queues = state.distribution.waiting_queues(department).await?;
    let total = queues.len() as u64;
    let shown: Vec<QueueItem> = queues
        .into_iter()
        .skip(page.offset as usize)
        .take(page.count as usize)
        .map(|q| QueueItem {
            department: q.department_id.map(|id| QueueDepartment {
                name: q.department_name.unwrap_or_default(),
                id,
            }),
            chats: q.total,
            inquiries: q.chats.into_iter().map(InquiryJson::from).collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(QueuePage {
        count: shown.len(),
        queue: shown,
        offset: page.offset,
        total,
        success: true,
    }))
}
