//! Links between a department and its agents, with Rocket.Chat's `count`
//! (chats routed so far, the least-served key) and `order` (tie-break).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use validator::Validate;

use super::ValidationError;

/// One agent item of a request, as sent.
#[derive(Debug, Clone, Deserialize, Validate)]
pub struct AgentLinkInput {
    #[serde(rename = "agentId")]
    #[validate(length(min = 1, message = "must not be empty"))]
    pub agent_id: String,
    /// Resets the routing counter; absent keeps the stored value.
    #[validate(range(min = 0, message = "must be a non-negative integer"))]
    pub count: Option<i64>,
    /// Tie-break after `count`; absent keeps the stored value.
    #[validate(range(min = 0, message = "must be a non-negative integer"))]
    pub order: Option<i64>,
    /// Accepted and ignored: the username is always taken from the user.
    pub username: Option<String>,
}

/// An agent item to remove: only `agentId` matters.
#[derive(Debug, Clone, Deserialize, Validate)]
pub struct AgentRemoveInput {
    #[serde(rename = "agentId")]
    #[validate(length(min = 1, message = "must not be empty"))]
    pub agent_id: String,
}

/// A checked agent item: `count` and `order` are non-negative when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLinkSpec {
    pub agent_id: String,
    pub count: Option<i64>,
    pub order: Option<i64>,
}

/// The agent items of one request, each agent at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentLinkSpecs(Vec<AgentLinkSpec>);

impl AgentLinkSpecs {
    /// `field` names the array in errors (`agents`, `upsert`).
    pub fn parse(
        field: &str,
        items: Vec<AgentLinkInput>,
    ) -> Result<AgentLinkSpecs, ValidationError> {
        let mut seen = HashSet::new();
        let mut specs = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let at = format!("{field}[{i}]");
            item.validate()
                .map_err(|e| ValidationError::from_validator(&e).within(&at))?;
            if !seen.insert(item.agent_id.clone()) {
                return Err(ValidationError::new(
                    format!("{at}.agentId"),
                    "unique",
                    format!("agent {} is listed more than once", item.agent_id),
                ));
            }
            specs.push(AgentLinkSpec {
                agent_id: item.agent_id,
                count: item.count,
                order: item.order,
            });
        }
        Ok(AgentLinkSpecs(specs))
    }

    pub fn iter(&self) -> std::slice::Iter<'_, AgentLinkSpec> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn agent_ids(&self) -> Vec<String> {
        self.0.iter().map(|s| s.agent_id.clone()).collect()
    }
}

/// The `count` a new link starts with when the request gives none.
///
/// Rocket.Chat starts it at 0, so an agent who joins (or rejoins) a busy
/// department is "least served" and takes every new chat until it catches
/// up. Switchboard starts it at the lowest `count` among the department's
/// other eligible agents, so the newcomer joins the rotation as an equal.
/// `strict` restores Rocket.Chat's 0.
pub fn starting_count(lowest_other_eligible: Option<i64>, strict: bool) -> i64 {
    if strict {
        0
    } else {
        lowest_other_eligible.unwrap_or(0).max(0)
    }
}

/// A stored link.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLink {
    pub id: String,
    pub agent_id: String,
    pub department_id: String,
    pub department_enabled: bool,
    pub username: String,
    pub count: i64,
    pub order: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, count: Option<i64>) -> AgentLinkInput {
        AgentLinkInput {
            agent_id: id.into(),
            count,
            order: None,
            username: None,
        }
    }

    #[test]
    fn an_agent_listed_twice_is_refused() {
        let e =
            AgentLinkSpecs::parse("agents", vec![item("a", None), item("a", Some(1))]).unwrap_err();
        assert_eq!(e.field, "agents[1].agentId");
        assert_eq!(e.rule, "unique");
    }

    #[test]
    fn a_negative_count_is_refused_naming_the_item() {
        let e = AgentLinkSpecs::parse("upsert", vec![item("a", Some(-1))]).unwrap_err();
        assert_eq!(e.field, "upsert[0].count");
    }

    #[test]
    fn a_newcomer_starts_level_with_the_least_served_eligible_agent() {
        assert_eq!(starting_count(Some(42), false), 42);
        assert_eq!(starting_count(None, false), 0);
    }

    #[test]
    fn strict_counts_start_every_newcomer_at_zero() {
        assert_eq!(starting_count(Some(42), true), 0);
    }
}
