//! What the repair reads and corrects: holds older than any decision, and
//! counters that drifted from their holds.

use futures::TryStreamExt;
use serde::Deserialize;

use super::*;
use crate::domain::assignment::{HeldSlot, Hold};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HoldDoc {
    assignment_id: String,
    attempt: String,
    at: mongodb::bson::DateTime,
    #[serde(default)]
    counted: bool,
    #[serde(default)]
    visitor_token: String,
}

impl From<HoldDoc> for HeldSlot {
    fn from(h: HoldDoc) -> Self {
        HeldSlot {
            hold: Hold {
                assignment_id: h.assignment_id,
                attempt: h.attempt,
                visitor_token: h.visitor_token,
            },
            at: h.at.to_chrono(),
            counted: h.counted,
        }
    }
}

#[derive(Debug, Deserialize)]
struct HeldDoc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "departmentId", default)]
    department_id: Option<String>,
    #[serde(rename = "agentId", default)]
    agent_id: Option<String>,
    #[serde(rename = "routingHolds", default)]
    holds: Vec<HoldDoc>,
}

/// An agent's holds that are older than the cut-off.
#[derive(Debug)]
pub struct UserHolds {
    pub agent_id: String,
    pub holds: Vec<HeldSlot>,
}

/// A link's holds that are older than the cut-off.
#[derive(Debug)]
pub struct LinkHolds {
    pub department_id: String,
    pub agent_id: String,
    pub holds: Vec<HeldSlot>,
}

/// Hold times from `since` (when given) up to `until`.
#[derive(Debug, Clone, Copy)]
pub struct HeldBetween {
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: chrono::DateTime<chrono::Utc>,
}

impl HeldBetween {
    fn covers(&self, at: chrono::DateTime<chrono::Utc>) -> bool {
        at < self.until && self.since.is_none_or(|s| at >= s)
    }
}

fn older(holds: Vec<HoldDoc>, window: HeldBetween) -> Vec<HeldSlot> {
    holds
        .into_iter()
        .map(HeldSlot::from)
        .filter(|h| window.covers(h.at))
        .collect()
}

async fn held_before(
    coll: &Collection<Document>,
    window: HeldBetween,
) -> Result<Vec<HeldDoc>, Error> {
    // Both bounds, on the dotted path rather than in an `$elemMatch`: so a
    // server walks the `routingHolds.at` index over the window instead of
    // reading every agent (SecantusDB scans for an `$elemMatch`, and for a
    // range open below, whose bounds hold every agent without holds). A
    // document whose holds straddle the window matches too: `older` keeps
    // only the holds inside it.
    let since = window
        .since
        .map(mongodb::bson::DateTime::from_chrono)
        .unwrap_or(mongodb::bson::DateTime::from_millis(0));
    let range = doc! {"$gte": since, "$lt": mongodb::bson::DateTime::from_chrono(window.until)};
    Ok(coll
        .clone_with_type::<HeldDoc>()
        .find(doc! {format!("{HOLDS}.at"): range})
        .projection(doc! {"departmentId": 1, "agentId": 1, HOLDS: 1})
        .await?
        .try_collect()
        .await?)
}

/// Documents whose counter differs from their number of holds.
fn drifted(counter: &str) -> Document {
    doc! {"$expr": {"$ne": [
        {"$ifNull": [format!("${counter}"), 0]},
        {"$size": {"$ifNull": [format!("${HOLDS}"), []]}},
    ]}}
}

impl Routing {
    /// Agents with holds made in the window, and those holds.
    pub async fn users_with_holds_between(
        &self,
        window: HeldBetween,
    ) -> Result<Vec<UserHolds>, Error> {
        let found = held_before(&self.users, window).await?;
        Ok(found
            .into_iter()
            .map(|d| UserHolds {
                agent_id: d.id,
                holds: older(d.holds, window),
            })
            .collect())
    }

    /// Links with holds made in the window, and those holds.
    pub async fn links_with_holds_between(
        &self,
        window: HeldBetween,
    ) -> Result<Vec<LinkHolds>, Error> {
        let found = held_before(&self.links, window).await?;
        Ok(found
            .into_iter()
            .filter_map(|d| {
                Some(LinkHolds {
                    department_id: d.department_id?,
                    agent_id: d.agent_id?,
                    holds: older(d.holds, window),
                })
            })
            .collect())
    }

    /// Sets each agent's `openLivechats` to its number of holds where they
    /// differ (data written before holds existed, or edited by hand);
    /// answers the agents corrected.
    pub async fn fix_user_drift(&self) -> Result<Vec<String>, Error> {
        let mut agents = drifted("openLivechats");
        agents.insert("roles", ROLE_AGENT);
        let ids = super::super::ids_in(&self.users, agents).await?;
        let mut fixed = Vec::new();
        for id in ids {
            let mut filter = drifted("openLivechats");
            filter.insert("_id", &id);
            let result = self
                .users
                .update_one(
                    filter,
                    vec![doc! {"$set": {
                        "openLivechats": {"$size": {"$ifNull": [format!("${HOLDS}"), []]}},
                        "routingLoadSeq": plus("routingLoadSeq", 1),
                    }}],
                )
                .await?;
            if result.modified_count > 0 {
                fixed.push(id);
            }
        }
        Ok(fixed)
    }

    /// Sets each link's `openChats` to its number of holds where they
    /// differ; answers how many were corrected.
    pub async fn fix_link_drift(&self) -> Result<u64, Error> {
        // Read first: most passes find nothing, and then write nothing.
        let ids = super::super::ids_in(&self.links, drifted("openChats")).await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let mut filter = drifted("openChats");
        filter.insert("_id", doc! {"$in": ids.into_iter().collect::<Vec<_>>()});
        let result = self
            .links
            .update_many(
                filter,
                vec![doc! {"$set": {
                    "openChats": {"$size": {"$ifNull": [format!("${HOLDS}"), []]}},
                }}],
            )
            .await?;
        Ok(result.modified_count)
    }
}
