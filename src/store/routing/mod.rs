//! The routing engine's atomic steps over agent links and users.
//!
//! A decision is a *take* and a *reservation*:
//! 1. `take_link`: one `findOneAndUpdate` on the department's links picks
//!    the best eligible agent by the method's ranking (served by an index)
//!    and, in the same atomic step, bumps what the ranking reads (`count`,
//!    the department's `openChats`, `lastRoutingTime`, …) so no concurrent
//!    decision sees the same pre-increment values. The department limit is
//!    part of its filter, so it holds exactly.
//! 2. `reserve_agent`: one conditional `$inc` of the agent's open chats on
//!    its user document, guarded by the agent's limit, so the limit holds
//!    exactly across departments and instances.
//!
//! When the reservation fails, `untake_link` compensates the take (the
//! `count` increment is undone, so the sum of increments equals the chats
//! routed) and the next agent is tried. Agent-wide load (`agentOpenChats`,
//! `agentLoadRatio`, `agentFull`) is copied onto every link of the agent,
//! versioned by `routingLoadSeq` so a late writer never overwrites a newer
//! value.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{Collection, IndexModel};

use super::{Store, department_agents, departments, now, users};
use crate::domain::routing::{Method, Pick, agent_limit, fair_count};
use crate::domain::user::{ROLE_AGENT, User};
use crate::error::Error;

mod load;
mod rejoin;
mod take;

/// The link field that says an agent can be routed to.
fn eligible_field(exclude_away: bool) -> &'static str {
    if exclude_away {
        "eligibleNotAway"
    } else {
        "eligible"
    }
}

/// One index per method and eligibility field: equality on the department
/// and eligibility, then the method's ranking, then the fields the filter
/// reads, so the scan stops at the first agent with room.
fn take_index_keys(method: Method, exclude_away: bool) -> Document {
    let mut keys = doc! {
        "departmentId": 1,
        "departmentEnabled": 1,
        eligible_field(exclude_away): 1,
    };
    for (field, dir) in method.ranking() {
        keys.insert(*field, *dir);
    }
    keys.insert("agentFull", 1);
    keys.insert("openChats", 1);
    keys
}

pub(super) fn link_indexes() -> Vec<IndexModel> {
    let mut out = Vec::new();
    for exclude_away in [false, true] {
        for method in Method::ALL {
            out.push(
                IndexModel::builder()
                    .keys(take_index_keys(method, exclude_away))
                    .build(),
            );
        }
    }
    // The lowest count among a department's eligible agents (fair rejoin).
    out.push(
        IndexModel::builder()
            .keys(doc! {"departmentId": 1, "eligible": 1, "count": 1})
            .build(),
    );
    out
}

pub(super) fn user_indexes() -> Vec<IndexModel> {
    vec![
        IndexModel::builder()
            .keys(doc! {"roles": 1, "statusLivechat": 1, "livechatCount": 1, "username": 1})
            .build(),
    ]
}

/// What a take found, before its own increment.
#[derive(Debug, Clone)]
pub struct Taken {
    pub link_id: String,
    pub pick: Pick,
}

/// The agent's load after a reservation or release.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub open: i64,
    pub seq: i64,
}

/// An agent's load with the limit that applies to it.
#[derive(Debug, Clone, Copy)]
pub struct Reserved {
    pub load: Load,
    pub limit: Option<u32>,
}

/// Options of one take.
#[derive(Debug, Clone, Default)]
pub struct TakeFilter<'a> {
    pub exclude_away: bool,
    pub department_limit: Option<u32>,
    pub skip_agents: &'a [String],
    pub only_agent: Option<&'a str>,
}

pub struct Routing {
    links: Collection<Document>,
    users: Collection<Document>,
    departments: Collection<Document>,
}

/// What routing needs to know about a department.
#[derive(Debug, Clone)]
pub struct DepartmentRules {
    pub id: String,
    pub name: String,
    /// Enabled and not archived.
    pub open: bool,
    /// Most open chats each agent may hold in this department; `None` = no limit.
    pub max_chats_per_agent: Option<u32>,
}

fn int(doc: &Document, key: &str) -> i64 {
    match doc.get(key) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(f)) if f.is_finite() => *f as i64,
        Some(Bson::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn plus(field: &str, delta: i32) -> Bson {
    Bson::Document(doc! {"$add": [{"$ifNull": [format!("${field}"), 0]}, delta]})
}

fn minus_floor_zero(field: &str) -> Bson {
    Bson::Document(doc! {"$max": [0, {"$add": [{"$ifNull": [format!("${field}"), 0]}, -1]}]})
}

impl Routing {
    pub(super) fn new(store: &Store) -> Self {
        Routing {
            links: store.collection(department_agents::COLLECTION),
            users: store.collection(users::COLLECTION),
            departments: store.collection(departments::COLLECTION),
        }
    }

    pub async fn department(&self, id: &str) -> Result<Option<DepartmentRules>, Error> {
        let found = self
            .departments
            .find_one(doc! {"_id": id})
            .projection(
                doc! {"name": 1, "enabled": 1, "archived": 1, "maxNumberSimultaneousChat": 1},
            )
            .await?;
        Ok(found.map(|d| DepartmentRules {
            id: id.to_string(),
            name: d.get_str("name").unwrap_or_default().to_string(),
            open: d.get_bool("enabled").unwrap_or(false)
                && !d.get_bool("archived").unwrap_or(false),
            max_chats_per_agent: match int(&d, "maxNumberSimultaneousChat") {
                n if n > 0 => Some(n.min(i64::from(u32::MAX)) as u32),
                _ => None,
            },
        }))
    }
}
