//! `livechat/department*`: the department registry, as Rocket.Chat's REST
//! API serves it, one file per group of actions. Every handler checks the
//! caller's permission before it looks at the body or the query, so a
//! caller without permission learns nothing about the input rules.

pub mod agents;
pub mod archive;
pub mod config;
pub mod create;
pub mod lookup;
pub mod read;
pub mod save;
pub mod update;

use serde_json::{Map, Value, json};

use crate::domain::agent_link::AgentLink;
use crate::domain::department::Department;

/// A department as Rocket.Chat answers it: every stored field.
pub fn department_json(d: &Department) -> Value {
    let mut out: Map<String, Value> = d.other.clone();
    out.insert("_id".into(), json!(d.id));
    out.insert("name".into(), json!(d.name));
    out.insert("enabled".into(), json!(d.enabled));
    out.insert("email".into(), json!(d.email));
    out.insert("showOnRegistration".into(), json!(d.show_on_registration));
    out.insert("showOnOfflineForm".into(), json!(d.show_on_offline_form));
    out.insert("numAgents".into(), json!(d.num_agents));
    if d.archived {
        out.insert("archived".into(), json!(true));
    }
    if let Some(max) = d.max_number_simultaneous_chat {
        out.insert("maxNumberSimultaneousChat".into(), json!(max));
    }
    if let Some(fallback) = &d.fallback_forward_department {
        out.insert("fallbackForwardDepartment".into(), json!(fallback));
    }
    Value::Object(out)
}

/// A department-agent link as Rocket.Chat answers it.
pub fn link_json(link: &AgentLink) -> Value {
    let mut v = json!({
        "_id": link.id,
        "agentId": link.agent_id,
        "departmentId": link.department_id,
        "departmentEnabled": link.department_enabled,
        "username": link.username,
        "count": link.count,
        "order": link.order,
    });
    if let Some(t) = link.updated_at {
        v["_updatedAt"] = json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    v
}

pub fn links_json(links: &[AgentLink]) -> Vec<Value> {
    links.iter().map(link_json).collect()
}
