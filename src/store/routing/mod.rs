//! The routing engine's atomic steps over agent links and users.
//!
//! A decision is a *take* and a *reservation*, each one atomic
//! `findOneAndUpdate`:
//! 1. `take_link` picks the best eligible link of the department by the
//!    method's ranking (served by an index) and bumps what the ranking
//!    reads (`count`, the department's `openChats`, `lastRoutingTime`, …).
//!    The department limit is part of its filter, which the server checks
//!    again when it writes, so it holds exactly.
//! 2. `reserve_agent` counts one more open chat on the agent's user,
//!    guarded by the agent's limit, so the limit holds exactly across
//!    departments and instances.
//!
//! Each of them also appends a *hold* (`routingHolds`: the assignment id
//! and the decision attempt) in the same update, and every release removes
//! its hold in the same update that gives the slot back, guarded by the
//! hold being there: so a slot is never freed twice, `openLivechats` and
//! `openChats` always equal their number of holds, and a decision that
//! failed half-way leaves a hold the repair (`holds.rs`) can judge against
//! the assignments. Agent-wide load (`agentOpenChats`, `agentLoadRatio`,
//! `agentFull`) is copied onto every link of the agent, versioned by
//! `routingLoadSeq` so a late writer never overwrites a newer value.

use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{Collection, IndexModel};

use super::{Store, department_agents, departments, now, users};
use crate::domain::assignment::Hold;
use crate::domain::routing::{Method, Pick, agent_limit, fair_count};
use crate::domain::user::{ROLE_AGENT, User};
use crate::error::Error;

mod holds;
mod load;
mod rejoin;
mod take;
mod together;

pub use holds::{HeldBetween, LinkHolds, UserHolds};
pub use together::Share;

/// The field of users and links that lists their holds.
const HOLDS: &str = "routingHolds";

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
        for &method in Method::ALL {
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
    // The repair's look-up of old holds.
    out.push(
        IndexModel::builder()
            .keys(doc! {format!("{HOLDS}.at"): 1})
            .build(),
    );
    out
}

pub(super) fn user_indexes() -> Vec<IndexModel> {
    vec![
        IndexModel::builder()
            .keys(doc! {"roles": 1, "statusLivechat": 1, "livechatCount": 1, "username": 1})
            .build(),
        IndexModel::builder()
            .keys(doc! {format!("{HOLDS}.at"): 1})
            .build(),
    ]
}

/// A hold as the routing documents store it (in `routingHolds`).
trait StoredHold {
    fn as_doc(&self) -> Document;
    /// Matches a holds array that contains this hold.
    fn matcher(&self) -> Document;
    /// The hold as stored; `counted`: the same update counted a chat
    /// routed without a department (`livechatCount`), which giving it back
    /// must undo.
    fn entry(&self, counted: bool) -> Document;
}

impl StoredHold for Hold {
    fn as_doc(&self) -> Document {
        doc! {"assignmentId": &self.assignment_id, "attempt": &self.attempt}
    }

    fn matcher(&self) -> Document {
        doc! {"$elemMatch": self.as_doc()}
    }

    fn entry(&self, counted: bool) -> Document {
        let mut hold = self.as_doc();
        hold.insert("at", now());
        hold.insert("counted", counted);
        hold.insert("visitorToken", &self.visitor_token);
        hold
    }
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

/// Options of one take of a link.
#[derive(Debug, Clone, Default)]
pub struct TakeFilter<'a> {
    pub exclude_away: bool,
    pub department_limit: Option<u32>,
    pub skip_agents: &'a [String],
    pub only_agent: Option<&'a str>,
}

/// Options of one take of a user (routing without a department).
#[derive(Debug, Clone, Default)]
pub struct UserFilter<'a> {
    pub exclude_away: bool,
    /// The limit of agents without their own; 0 = none.
    pub global: u32,
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

use super::num::field_i64 as int;

fn plus(field: &str, delta: i32) -> Bson {
    Bson::Document(doc! {"$add": [{"$ifNull": [format!("${field}"), 0]}, delta]})
}

/// A user that may take one more chat now: an active agent, available,
/// present (not away either, when `exclude_away`), under its limit (its own
/// when set, else `global`; 0 = none).
fn reservable(exclude_away: bool, global: u32) -> Document {
    reservable_for(exclude_away, global, 1)
}

/// A user that may take `n` more chats now (see [`reservable`]).
fn reservable_for(exclude_away: bool, global: u32, n: i64) -> Document {
    let excluded: Vec<&str> = if exclude_away {
        vec!["offline", "away"]
    } else {
        vec!["offline"]
    };
    let fallback = if global > 0 {
        i64::from(global)
    } else {
        i64::MAX
    };
    doc! {
        "active": true,
        "statusLivechat": "available",
        "status": {"$nin": excluded},
        "$expr": {"$lt": [
            {"$add": [{"$ifNull": ["$openLivechats", 0]}, n - 1]},
            {"$let": {
                "vars": {"own": {"$ifNull": ["$livechat.maxNumberSimultaneousChat", 0]}},
                "in": {"$cond": [{"$gt": ["$$own", 0]}, "$$own", fallback]},
            }},
        ]},
    }
}

/// The update that reserves one slot on a user per hold, with the holds;
/// `served` also counts a chat routed without a department
/// (`livechatCount`).
fn reservation(holds: &[&Hold], served: bool) -> Document {
    let n = holds.len() as i32;
    let mut inc = doc! {"openLivechats": n, "routingLoadSeq": 1};
    if served {
        inc.insert("livechatCount", n);
    }
    let entries: Vec<Document> = holds.iter().map(|h| h.entry(served)).collect();
    doc! {
        "$inc": inc,
        "$set": {"lastRoutingTime": now()},
        "$push": {HOLDS: {"$each": entries}},
    }
}

fn load_projection() -> Document {
    doc! {"openLivechats": 1, "routingLoadSeq": 1, "livechat": 1}
}

fn reserved(d: &Document, global: u32) -> Reserved {
    let own = d
        .get_document("livechat")
        .ok()
        .map(|l| int(l, "maxNumberSimultaneousChat"))
        .filter(|n| *n > 0)
        .map(|n| n.min(i64::from(u32::MAX)) as u32);
    Reserved {
        load: Load {
            open: int(d, "openLivechats"),
            seq: int(d, "routingLoadSeq"),
        },
        limit: agent_limit(own, global),
    }
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
