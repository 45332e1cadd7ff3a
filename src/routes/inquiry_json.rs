//! The inquiry shape Rocket.Chat answers, built from a waiting (or taken)
//! assignment; shared by the inquiry and queue handlers.

use serde::Serialize;

use crate::domain::assignment::{Assignment, Status};

/// The visitor of an inquiry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InquiryVisitor {
    pub token: String,
}

/// An inquiry as Rocket.Chat answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InquiryJson {
    /// The assignment's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The room, when the chat named one.
    pub rid: Option<String>,
    pub name: String,
    /// When the chat arrived.
    pub ts: chrono::DateTime<chrono::Utc>,
    /// The department it waits for.
    pub department: Option<String>,
    /// `queued` while it waits, `taken` once an agent has it, `closed`.
    pub status: String,
    pub v: InquiryVisitor,
    pub t: String,
}

impl From<Assignment> for InquiryJson {
    fn from(a: Assignment) -> Self {
        let status = match a.status {
            Status::Queued => "queued",
            Status::Open | Status::Offered => "taken",
            Status::Closed | Status::Abandoned => "closed",
        };
        InquiryJson {
            id: a.id,
            rid: a.room_id,
            name: a.visitor_token.clone(),
            ts: a.created_at,
            department: a.requested_department_id,
            status: status.to_string(),
            v: InquiryVisitor {
                token: a.visitor_token,
            },
            t: "l".to_string(),
        }
    }
}
