//! Visitors, rooms, agents and messages as Rocket.Chat's livechat API
//! shows them.

use serde_json::{Value, json};

use crate::live::shapes;
pub use crate::live::shapes::{agent, message};
use crate::livechat::RoomView;
use crate::store::visitors::Visitor;

pub fn visitor(v: &Visitor) -> Value {
    let mut out = json!({
        "_id": v.id, "username": v.username, "token": v.token, "ts": v.ts,
        "status": v.status.as_deref().unwrap_or("online"),
    });
    if let Some(name) = &v.name {
        out["name"] = json!(name);
    }
    if !v.emails.is_empty() {
        out["visitorEmails"] = v.emails.iter().map(|a| json!({"address": a})).collect();
    }
    if !v.phones.is_empty() {
        out["phone"] = v.phones.iter().map(|p| json!({"phoneNumber": p})).collect();
    }
    if let Some(d) = &v.department {
        out["department"] = json!(d);
    }
    out
}

pub fn room(view: &RoomView) -> Value {
    let r = &view.room;
    let mut out = json!({
        "_id": r.id, "t": "l", "ts": r.ts, "fname": r.fname, "msgs": r.msgs,
        "v": {"_id": r.visitor_id, "username": r.visitor_username, "token": r.visitor_token,
              "status": r.visitor_status},
        "open": r.open,
    });
    if let Some(d) = &r.department_id {
        out["departmentId"] = json!(d);
    }
    if let Some((id, username, ts)) = view.served_by() {
        out["servedBy"] = json!({"_id": id, "username": username, "ts": ts});
    }
    if let Some(closed) = r.closed_at {
        out["closedAt"] = json!(closed);
    }
    out
}

/// Rocket.Chat's queue information for a waiting room.
pub fn queue_info(view: &RoomView) -> Value {
    shapes::queue_info(view.queue_position)
}
