//! The agent, the queue information and messages as the widget reads
//! them, over HTTP and over its live connection alike.

use serde_json::{Value, json};

use crate::livechat::AgentView;
use crate::store::messages::Message;

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

/// Rocket.Chat's queue information for a waiting room (`spot` 1 = next);
/// null when it does not wait.
pub fn queue_info(position: Option<u64>) -> Value {
    match position {
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
