//! What a department create and update share: the body they read and the
//! answer they give.

use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use validator::Validate;

use super::{department_json, links_json};
use crate::departments::Saved;
use crate::domain::agent_link::AgentLinkInput;

/// The body of a create or an update.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// `name`, `email`, `enabled`, `showOnRegistration`, `showOnOfflineForm`
    /// (required on create), the optional known fields, and custom scalar
    /// fields.
    #[schema(value_type = Object)]
    pub department: Map<String, Value>,
    /// `[{agentId, count?, order?}]`: agents to link (never removes).
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(default)]
    pub agents: Option<Vec<AgentLinkInput>>,
    /// Accepted for compatibility and ignored: units are a Rocket.Chat
    /// Enterprise feature.
    #[schema(value_type = Option<Object>)]
    #[serde(rename = "departmentUnit", default)]
    #[expect(dead_code, reason = "an Enterprise field, accepted and not stored")]
    pub department_unit: Option<Value>,
}

/// The answer to a save: the department as stored now and all its links.
pub fn saved(saved: Saved) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "department": saved.department.as_ref().map(department_json),
        "agents": links_json(&saved.agents),
        "success": true,
    }))
}
