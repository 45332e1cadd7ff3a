//! Takes: choosing the best link (or user) and claiming it in one atomic
//! `findOneAndUpdate` that also records the decision's hold.

use mongodb::options::UpdateModifications;

use serde::Deserialize;

use super::*;
use crate::store::num;

impl Routing {
    /// The filter, sort and index of a take.
    pub(super) fn take_parts(
        department_id: &str,
        method: Method,
        filter: &TakeFilter<'_>,
    ) -> (Document, Document, Document) {
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
        let mut sort = Document::new();
        for (field, dir) in method.ranking() {
            sort.insert(*field, *dir);
        }
        (query, sort, take_index_keys(method, filter.exclude_away))
    }

    /// The update of a take of these holds (one per chat): it bumps what
    /// the ranking reads and records the holds. Plain update operators
    /// (answered with the document as it was), except for capability
    /// weighted, whose load ratio is computed from the document in a
    /// pipeline (answered as it is after).
    pub(super) fn take_update(
        method: Method,
        holds: &[&Hold],
    ) -> (UpdateModifications, ReturnDocument) {
        let n = holds.len() as i32;
        let entries: Vec<Document> = holds.iter().map(|h| h.entry(false)).collect();
        if method != Method::CapabilityWeighted {
            let mut inc = doc! {"count": n, "openChats": n};
            if method == Method::LoadBalancing {
                inc.insert("agentOpenChats", n);
            }
            let update = doc! {
                "$inc": inc,
                "$set": {"lastRoutingTime": now()},
                "$push": {HOLDS: {"$each": entries}},
            };
            return (
                UpdateModifications::Document(update),
                ReturnDocument::Before,
            );
        }
        let set = doc! {
            "count": plus("count", n),
            "openChats": plus("openChats", n),
            "lastRoutingTime": now(),
            // Evaluated against the document before this update.
            "previousRoutingTime": "$lastRoutingTime",
            HOLDS: {"$concatArrays": [{"$ifNull": [format!("${HOLDS}"), []]}, entries]},
            "agentOpenChats": plus("agentOpenChats", n),
            "agentLoadRatio": {"$cond": [
                {"$gt": [{"$ifNull": ["$agentLimit", 0]}, 0]},
                {"$divide": [plus("agentOpenChats", n), "$agentLimit"]},
                0,
            ]},
        };
        (
            UpdateModifications::Pipeline(vec![doc! {"$set": set}]),
            ReturnDocument::After,
        )
    }

    /// The query plan the server chooses for a take.
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
        // Without the take's hint: the plan is the one the server chooses,
        // so it shows that the index serves the query, not that it was named.
        let (query, sort, _) = Self::take_parts(department_id, method, &filter);
        let explained = self
            .links
            .client()
            .database(self.links.namespace().db.as_str())
            .run_command(doc! {
                "explain": {
                    "findAndModify": self.links.name(),
                    "query": query,
                    "update": {"$inc": {"count": 1}},
                    "sort": sort,
                },
                "verbosity": "queryPlanner",
            })
            .await?;
        Ok(explained)
    }

    /// Picks and bumps the best eligible link of the department, recording
    /// the hold, in one atomic update. The server re-checks the filter when
    /// it writes, so the department limit and `agentFull` hold exactly.
    pub async fn take_link(
        &self,
        department_id: &str,
        method: Method,
        filter: TakeFilter<'_>,
        hold: &Hold,
    ) -> Result<Option<Pick>, Error> {
        let (query, sort, hint) = Self::take_parts(department_id, method, &filter);
        let (update, returned) = Self::take_update(method, &[hold]);
        let found = self
            .links
            .clone_with_type::<TakenLinkDoc>()
            .find_one_and_update(query, update)
            .sort(sort)
            .hint(mongodb::options::Hint::Keys(hint))
            .projection(TakenLinkDoc::projection())
            .return_document(returned.clone())
            .await?;
        let after = matches!(returned, ReturnDocument::After);
        Ok(found.map(|d| d.into_pick(after)))
    }

    /// A manual take: bumps this agent's link in the department like a
    /// take, with its hold; `department_limit` (when kept) in the same
    /// conditional update. `false` when there is no such link or it is
    /// full.
    pub async fn claim_link(
        &self,
        department_id: &str,
        agent_id: &str,
        department_limit: Option<u32>,
        hold: &Hold,
    ) -> Result<bool, Error> {
        let mut query = doc! {"departmentId": department_id, "agentId": agent_id};
        if let Some(limit) = department_limit {
            query.insert("openChats", doc! {"$not": {"$gte": i64::from(limit)}});
        }
        let result = self
            .links
            .update_one(
                query,
                doc! {
                    "$inc": {"count": 1, "openChats": 1},
                    "$set": {"lastRoutingTime": now()},
                    "$push": {HOLDS: hold.entry(false)},
                },
            )
            .await?;
        Ok(result.modified_count > 0)
    }

    /// Undoes a take whose decision did not happen, once: its hold, its
    /// open chat and its `count` increment.
    pub async fn untake_link(
        &self,
        department_id: &str,
        agent_id: &str,
        hold: &Hold,
    ) -> Result<bool, Error> {
        self.release_link_hold(department_id, agent_id, hold, false)
            .await
    }

    /// Frees the link's slot held for this chat, once; `routed` keeps the
    /// `count` increment (the chat was served), otherwise it is undone.
    pub async fn release_link_hold(
        &self,
        department_id: &str,
        agent_id: &str,
        hold: &Hold,
        routed: bool,
    ) -> Result<bool, Error> {
        let mut inc = doc! {"openChats": -1};
        if !routed {
            inc.insert("count", -1);
        }
        let result = self
            .links
            .update_one(
                doc! {"departmentId": department_id, "agentId": agent_id, HOLDS: hold.matcher()},
                doc! {"$pull": {HOLDS: hold.as_doc()}, "$inc": inc},
            )
            .await?;
        Ok(result.modified_count > 0)
    }

    /// Without a department: the eligible agent with room and the lowest
    /// `livechatCount` (then username), as Rocket.Chat's
    /// `Users.getNextAgent`, claimed and reserved in one atomic update.
    pub async fn take_user(
        &self,
        eligibility: UserFilter<'_>,
        hold: &Hold,
    ) -> Result<Option<(Pick, Reserved)>, Error> {
        let mut query = reservable(eligibility.exclude_away, eligibility.global);
        query.insert("roles", ROLE_AGENT);
        if let Some(agent) = eligibility.only_agent {
            query.insert("_id", agent);
        } else if !eligibility.skip_agents.is_empty() {
            query.insert("_id", doc! {"$nin": eligibility.skip_agents});
        }
        let after = self
            .users
            .find_one_and_update(query, reservation(&[hold], true))
            .sort(doc! {"livechatCount": 1, "username": 1})
            .projection(doc! {
                "username": 1, "livechatCount": 1, "openLivechats": 1, "routingLoadSeq": 1,
                "livechat": 1,
            })
            .return_document(ReturnDocument::After)
            .await?;
        Ok(after.map(|d| {
            let reserved = reserved(&d, eligibility.global);
            let pick = Pick {
                agent_id: d.get_str("_id").unwrap_or_default().to_string(),
                username: d.get_str("username").unwrap_or_default().to_string(),
                count_before: int(&d, "livechatCount") - 1,
                order: 0,
                open_before: int(&d, "openLivechats") - 1,
                limit: reserved.limit,
                last_assigned: None,
            };
            (pick, reserved)
        }))
    }
}

/// What a take reads of the link it bumped.
#[derive(Debug, Deserialize)]
pub(super) struct TakenLinkDoc {
    #[serde(rename = "agentId", default)]
    agent_id: String,
    #[serde(default)]
    username: String,
    #[serde(default, deserialize_with = "num::i64_or_zero")]
    count: i64,
    #[serde(default, deserialize_with = "num::i64_or_zero")]
    order: i64,
    #[serde(
        rename = "agentOpenChats",
        default,
        deserialize_with = "num::i64_or_zero"
    )]
    agent_open_chats: i64,
    #[serde(rename = "agentLimit", default, deserialize_with = "num::i64_or_zero")]
    agent_limit: i64,
    #[serde(rename = "lastRoutingTime", default)]
    last_routing_time: Option<mongodb::bson::DateTime>,
    #[serde(rename = "previousRoutingTime", default)]
    previous_routing_time: Option<mongodb::bson::DateTime>,
    #[serde(rename = "openChats", default, deserialize_with = "num::i64_or_zero")]
    pub(super) open_chats: i64,
}

impl TakenLinkDoc {
    pub(super) fn projection() -> Document {
        doc! {
            "agentId": 1, "username": 1, "count": 1, "order": 1, "agentOpenChats": 1,
            "agentLimit": 1, "lastRoutingTime": 1, "previousRoutingTime": 1, "openChats": 1,
        }
    }

    /// The link as a pick. `after`: the document is as it is after the
    /// take (capability weighted's pipeline); either way, the pick
    /// describes the agent before this chat.
    pub(super) fn into_pick(self, after: bool) -> Pick {
        Pick {
            agent_id: self.agent_id,
            username: self.username,
            count_before: self.count - i64::from(after),
            order: self.order,
            open_before: self.agent_open_chats - i64::from(after),
            limit: u32::try_from(self.agent_limit).ok().filter(|n| *n > 0),
            last_assigned: if after {
                self.previous_routing_time
            } else {
                self.last_routing_time
            }
            .map(|t| t.to_chrono()),
        }
    }
}
