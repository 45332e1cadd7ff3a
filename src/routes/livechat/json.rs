//! Visitors, rooms, agents and messages as Rocket.Chat's livechat API
//! shows them.

use serde_json::{Value, json};

use crate::livechat::{AgentView, RoomView};
use crate::store::messages::Message;
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

pub fn agent(a: &AgentView) -> Value {
    match a {
        AgentView::Hidden => json!({"hiddenInfo": true}),
        AgentView::Shown(u) => json!({
            "_id": u.id, "username": u.username, "name": u.name,
            "emails": u.emails.iter().map(|e| json!({"address": e.address})).collect::<Vec<_>>(),
            "status": u.status.as_str(),
        }),
    }
}

/// Rocket.Chat's queue information for a waiting room (`spot` 1 = next).
pub fn queue_info(view: &RoomView) -> Value {
    match view.queue_position {
        Some(spot) => json!({"spot": spot, "estimatedWaitTimeSeconds": Value::Null}),
        None => Value::Null,
    }
}

pub fn message(m: &Message) -> Value {
    let mut out = json!({
        "_id": m.id, "rid": m.rid, "msg": m.msg, "ts": m.ts,
        "u": {"_id": m.author.id, "username": m.author.username},
    });
    if let Some(name) = &m.author.name {
        out["u"]["name"] = json!(name);
    }
    if let Some(t) = &m.token {
        out["token"] = json!(t);
    }
    if let Some(alias) = &m.alias {
        out["alias"] = json!(alias);
    }
    if let Some(kind) = &m.kind {
        out["t"] = json!(kind);
    }
    out
}
