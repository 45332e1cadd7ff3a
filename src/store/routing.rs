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

/// How often one take may lose its candidate to a concurrent take before
/// it gives up (each loss means another decision just succeeded).
const MAX_CLAIMS: usize = 256;

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

impl Reserved {
    /// Whether one more chat would not fit.
    pub fn is_full(&self) -> bool {
        !crate::domain::routing::has_room(self.load.open, self.limit)
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

/// Options of one take.
#[derive(Debug, Clone, Default)]
pub struct TakeFilter<'a> {
    pub exclude_away: bool,
    pub department_limit: Option<u32>,
    pub skip_agents: &'a [String],
    pub only_agent: Option<&'a str>,
}

/// One compare-and-set take: the best document by `sort` among those
/// matching `query`, updated only if its `seq_field` is unchanged and it
/// still matches.
struct Claim {
    query: Document,
    sort: Document,
    hint: Option<Document>,
    seq_field: &'static str,
    update: mongodb::options::UpdateModifications,
    projection: Option<Document>,
}

/// Reads the best candidate, then claims it only if nobody took it in
/// between, retrying with the next best otherwise; answers the claimed
/// document as it was before the update. A sorted findOneAndUpdate alone
/// is not enough: not every server re-sorts after a concurrent write to
/// the chosen document (SecantusDB does not).
async fn claim(coll: &Collection<Document>, c: Claim) -> Result<Option<Document>, Error> {
    for _ in 0..MAX_CLAIMS {
        let mut find = coll.find_one(c.query.clone()).sort(c.sort.clone());
        if let Some(hint) = &c.hint {
            find = find.hint(mongodb::options::Hint::Keys(hint.clone()));
        }
        let Some(candidate) = find.await? else {
            return Ok(None);
        };
        let mut guard = c.query.clone();
        guard.insert("_id", candidate.get("_id").cloned().unwrap_or(Bson::Null));
        guard.insert(
            c.seq_field,
            candidate
                .get(c.seq_field)
                .cloned()
                .unwrap_or_else(|| Bson::Document(doc! {"$exists": false})),
        );
        let mut update = coll
            .find_one_and_update(guard, c.update.clone())
            .return_document(ReturnDocument::Before);
        if let Some(p) = &c.projection {
            update = update.projection(p.clone());
        }
        if let Some(before) = update.await? {
            return Ok(Some(before));
        }
    }
    Ok(None)
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

    /// The filter, update, sort and index of a take.
    fn take_parts(
        department_id: &str,
        method: Method,
        filter: &TakeFilter<'_>,
    ) -> (Document, Document, Document, Document) {
        let mut query = doc! {
            "departmentId": department_id,
            "departmentEnabled": true,
            eligible_field(filter.exclude_away): true,
            "agentFull": {"$ne": true},
        };
        if let Some(limit) = filter.department_limit {
            query.insert("openChats", doc! {"$not": {"$gte": i64::from(limit)}});
        }
        if let Some(agent) = filter.only_agent {
            query.insert("agentId", agent);
        } else if !filter.skip_agents.is_empty() {
            query.insert("agentId", doc! {"$nin": filter.skip_agents});
        }
        let mut set = doc! {
            "count": plus("count", 1),
            "openChats": plus("openChats", 1),
            "lastRoutingTime": now(),
        };
        if matches!(method, Method::LoadBalancing | Method::CapabilityWeighted) {
            set.insert("agentOpenChats", plus("agentOpenChats", 1));
        }
        if method == Method::CapabilityWeighted {
            set.insert(
                "agentLoadRatio",
                doc! {"$cond": [
                    {"$gt": [{"$ifNull": ["$agentLimit", 0]}, 0]},
                    {"$divide": [plus("agentOpenChats", 1), "$agentLimit"]},
                    0,
                ]},
            );
        }
        let mut sort = Document::new();
        for (field, dir) in method.ranking() {
            sort.insert(*field, *dir);
        }
        let hint = take_index_keys(method, filter.exclude_away);
        (query, doc! {"$set": set}, sort, hint)
    }

    /// The query plan of a take, as the server explains it.
    pub async fn explain_take(
        &self,
        department_id: &str,
        method: Method,
        exclude_away: bool,
    ) -> Result<Document, Error> {
        let filter = TakeFilter {
            exclude_away,
            ..TakeFilter::default()
        };
        let (query, update, sort, hint) = Self::take_parts(department_id, method, &filter);
        let explained = self
            .links
            .client()
            .database(self.links.namespace().db.as_str())
            .run_command(doc! {
                "explain": {
                    "findAndModify": self.links.name(),
                    "query": query,
                    "update": [update],
                    "sort": sort,
                    "hint": hint,
                },
                "verbosity": "queryPlanner",
            })
            .await?;
        Ok(explained)
    }

    /// Picks and bumps the best eligible link of the department.
    pub async fn take_link(
        &self,
        department_id: &str,
        method: Method,
        filter: TakeFilter<'_>,
    ) -> Result<Option<Taken>, Error> {
        let (query, mut update, sort, hint) = Self::take_parts(department_id, method, &filter);
        if let Ok(set) = update.get_document_mut("$set") {
            set.insert("takeSeq", plus("takeSeq", 1));
        }
        let before = claim(
            &self.links,
            Claim {
                query,
                sort,
                hint: Some(hint),
                seq_field: "takeSeq",
                update: mongodb::options::UpdateModifications::Pipeline(vec![update]),
                projection: None,
            },
        )
        .await?;
        Ok(before.map(|d| Taken {
            link_id: d.get_str("_id").unwrap_or_default().to_string(),
            pick: Pick {
                agent_id: d.get_str("agentId").unwrap_or_default().to_string(),
                username: d.get_str("username").unwrap_or_default().to_string(),
                count_before: int(&d, "count"),
                order: int(&d, "order"),
                open_before: int(&d, "agentOpenChats"),
                limit: match int(&d, "agentLimit") {
                    n if n > 0 => Some(n as u32),
                    _ => None,
                },
                last_assigned: d
                    .get_datetime("lastRoutingTime")
                    .ok()
                    .map(|t| t.to_chrono()),
            },
        }))
    }

    /// Undoes a take whose reservation failed.
    pub async fn untake_link(&self, link_id: &str) -> Result<(), Error> {
        self.untake_where(doc! {"_id": link_id}).await
    }

    /// Undoes the take of this agent's link in that department.
    pub async fn untake_agent_link(
        &self,
        department_id: &str,
        agent_id: &str,
    ) -> Result<(), Error> {
        self.untake_where(doc! {"departmentId": department_id, "agentId": agent_id})
            .await
    }

    async fn untake_where(&self, filter: Document) -> Result<(), Error> {
        self.links
            .update_one(
                filter,
                vec![doc! {"$set": {
                    "count": {"$add": [{"$ifNull": ["$count", 0]}, -1]},
                    "openChats": minus_floor_zero("openChats"),
                }}],
            )
            .await?;
        Ok(())
    }

    /// One open chat less on the agent's link in that department.
    pub async fn release_link(&self, department_id: &str, agent_id: &str) -> Result<(), Error> {
        self.links
            .update_one(
                doc! {"departmentId": department_id, "agentId": agent_id},
                vec![doc! {"$set": {"openChats": minus_floor_zero("openChats")}}],
            )
            .await?;
        Ok(())
    }

    /// Counts one more open chat for the agent if it is still eligible and
    /// under its limit (its own when set, else `global`; 0 = none), in one
    /// conditional update; `None` when it is not.
    pub async fn reserve_agent(
        &self,
        agent_id: &str,
        global: u32,
        exclude_away: bool,
    ) -> Result<Option<Reserved>, Error> {
        let excluded: Vec<&str> = if exclude_away {
            vec!["offline", "away"]
        } else {
            vec!["offline"]
        };
        let no_limit = i64::MAX;
        let fallback = if global > 0 {
            i64::from(global)
        } else {
            no_limit
        };
        let query = doc! {
            "_id": agent_id,
            "active": true,
            "roles": ROLE_AGENT,
            "statusLivechat": "available",
            "status": {"$nin": excluded},
            "$expr": {"$lt": [
                {"$ifNull": ["$openLivechats", 0]},
                {"$let": {
                    "vars": {"own": {"$ifNull": ["$livechat.maxNumberSimultaneousChat", 0]}},
                    "in": {"$cond": [{"$gt": ["$$own", 0]}, "$$own", fallback]},
                }},
            ]},
        };
        let after = self
            .users
            .find_one_and_update(
                query,
                doc! {
                    "$inc": {"openLivechats": 1, "routingLoadSeq": 1},
                    "$set": {"lastRoutingTime": now()},
                },
            )
            .return_document(ReturnDocument::After)
            .projection(load_projection())
            .await?;
        Ok(after.map(|d| reserved(&d, global)))
    }

    /// One open chat less for the agent.
    pub async fn release_agent(
        &self,
        agent_id: &str,
        global: u32,
    ) -> Result<Option<Reserved>, Error> {
        let after = self
            .users
            .find_one_and_update(
                doc! {"_id": agent_id},
                vec![doc! {"$set": {
                    "openLivechats": minus_floor_zero("openLivechats"),
                    "routingLoadSeq": plus("routingLoadSeq", 1),
                }}],
            )
            .return_document(ReturnDocument::After)
            .projection(load_projection())
            .await?;
        Ok(after.map(|d| reserved(&d, global)))
    }

    /// The agent's current load, as stored.
    pub async fn load_of(&self, agent_id: &str, global: u32) -> Result<Option<Reserved>, Error> {
        let found = self
            .users
            .find_one(doc! {"_id": agent_id})
            .projection(load_projection())
            .await?;
        Ok(found.map(|d| reserved(&d, global)))
    }

    /// Copies the agent's load onto all its links, unless a newer load is
    /// already there.
    pub async fn publish_load(
        &self,
        agent_id: &str,
        reserved: Reserved,
        assigned_now: bool,
    ) -> Result<(), Error> {
        let Reserved { load, limit } = reserved;
        let ratio = match limit {
            Some(l) if l > 0 => load.open as f64 / f64::from(l),
            _ => 0.0,
        };
        let mut set = doc! {
            "agentOpenChats": load.open,
            "agentLoadRatio": ratio,
            "agentLimit": i64::from(limit.unwrap_or(0)),
            "agentFull": !crate::domain::routing::has_room(load.open, limit),
            "agentLoadSeq": load.seq,
        };
        if assigned_now {
            set.insert("lastRoutingTime", now());
        }
        self.links
            .update_many(
                doc! {"agentId": agent_id, "agentLoadSeq": {"$not": {"$gt": load.seq}}},
                doc! {"$set": set},
            )
            .await?;
        Ok(())
    }

    /// Without a department: the eligible agent with the lowest
    /// `livechatCount` (then username), incremented atomically, as
    /// Rocket.Chat's `Users.getNextAgent`.
    pub async fn take_user(
        &self,
        exclude_away: bool,
        skip_agents: &[String],
    ) -> Result<Option<Pick>, Error> {
        let excluded: Vec<&str> = if exclude_away {
            vec!["offline", "away"]
        } else {
            vec!["offline"]
        };
        let mut query = doc! {
            "roles": ROLE_AGENT,
            "statusLivechat": "available",
            "active": true,
            "status": {"$nin": excluded},
        };
        if !skip_agents.is_empty() {
            query.insert("_id", doc! {"$nin": skip_agents});
        }
        let before = claim(
            &self.users,
            Claim {
                query,
                sort: doc! {"livechatCount": 1, "username": 1},
                hint: None,
                seq_field: "livechatTakeSeq",
                update: mongodb::options::UpdateModifications::Document(
                    doc! {"$inc": {"livechatCount": 1, "livechatTakeSeq": 1}},
                ),
                projection: Some(doc! {
                    "username": 1, "livechatCount": 1, "openLivechats": 1, "lastRoutingTime": 1,
                }),
            },
        )
        .await?;
        Ok(before.map(|d| Pick {
            agent_id: d.get_str("_id").unwrap_or_default().to_string(),
            username: d.get_str("username").unwrap_or_default().to_string(),
            count_before: int(&d, "livechatCount"),
            order: 0,
            open_before: int(&d, "openLivechats"),
            limit: None,
            last_assigned: d
                .get_datetime("lastRoutingTime")
                .ok()
                .map(|t| t.to_chrono()),
        }))
    }

    pub async fn untake_user(&self, agent_id: &str) -> Result<(), Error> {
        self.users
            .update_one(doc! {"_id": agent_id}, doc! {"$inc": {"livechatCount": -1}})
            .await?;
        Ok(())
    }

    /// Copies the user's eligibility onto its links; when the agent has
    /// just become eligible and `fair` is set, lifts each link's `count` to
    /// the lowest count among the department's other eligible agents, so a
    /// returning agent is not flooded (never lowering it).
    pub async fn sync_links(
        &self,
        before: Option<&User>,
        after: &User,
        fair: bool,
    ) -> Result<(), Error> {
        self.links
            .update_many(
                doc! {"agentId": &after.id},
                doc! {"$set": super::routing_fields::link_fields(after)},
            )
            .await?;
        let was = before.map(|u| crate::domain::routing::eligibility(u).0);
        let is = crate::domain::routing::eligibility(after).0;
        if fair && is && was != Some(true) {
            let links: Vec<Document> = self
                .links
                .find(doc! {"agentId": &after.id})
                .await?
                .try_collect()
                .await?;
            for link in links {
                let department = link.get_str("departmentId").unwrap_or_default();
                self.lift_count(department, &after.id, int(&link, "count"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn lift_count(
        &self,
        department_id: &str,
        agent_id: &str,
        current: i64,
    ) -> Result<(), Error> {
        let lowest = self
            .links
            .find_one(doc! {
                "departmentId": department_id,
                "eligible": true,
                "agentId": {"$ne": agent_id},
            })
            .sort(doc! {"count": 1})
            .projection(doc! {"count": 1})
            .await?
            .map(|d| int(&d, "count"));
        let target = fair_count(current, lowest);
        if target > current {
            self.links
                .update_one(
                    doc! {"departmentId": department_id, "agentId": agent_id,
                    "count": {"$not": {"$gte": target}}},
                    doc! {"$set": {"count": target, "_updatedAt": now()}},
                )
                .await?;
        }
        Ok(())
    }

    /// Agents whose links say they are full.
    pub async fn agents_marked_full(&self) -> Result<Vec<String>, Error> {
        let ids = self
            .links
            .distinct("agentId", doc! {"agentFull": true})
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|b| b.as_str().map(str::to_string))
            .collect())
    }
}
