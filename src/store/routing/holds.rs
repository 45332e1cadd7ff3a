//! What the repair reads and corrects: holds older than any decision, and
//! counters that drifted from their holds.

use futures::TryStreamExt;
use serde::Deserialize;

use super::*;
use crate::domain::assignment::Hold;

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

impl From<HoldDoc> for Hold {
    fn from(h: HoldDoc) -> Self {
        Hold {
            assignment_id: h.assignment_id,
            attempt: h.attempt,
            at: h.at.to_chrono(),
            counted: h.counted,
            visitor_token: h.visitor_token,
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
    pub holds: Vec<Hold>,
}

/// A link's holds that are older than the cut-off.
#[derive(Debug)]
pub struct LinkHolds {
    pub department_id: String,
    pub agent_id: String,
    pub holds: Vec<Hold>,
}

fn older(holds: Vec<HoldDoc>, cutoff: chrono::DateTime<chrono::Utc>) -> Vec<Hold> {
    holds
        .into_iter()
        .map(Hold::from)
        .filter(|h| h.at < cutoff)
        .collect()
}

async fn held_before(
    coll: &Collection<Document>,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<HeldDoc>, Error> {
    Ok(coll
        .clone_with_type::<HeldDoc>()
        .find(doc! {format!("{HOLDS}.at"): {"$lt": mongodb::bson::DateTime::from_chrono(cutoff)}})
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
    /// Agents with holds older than `cutoff`, and those holds.
    pub async fn users_with_holds_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<UserHolds>, Error> {
        let found = held_before(&self.users, cutoff).await?;
        Ok(found
            .into_iter()
            .map(|d| UserHolds {
                agent_id: d.id,
                holds: older(d.holds, cutoff),
            })
            .collect())
    }

    /// Links with holds older than `cutoff`, and those holds.
    pub async fn links_with_holds_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<LinkHolds>, Error> {
        let found = held_before(&self.links, cutoff).await?;
        Ok(found
            .into_iter()
            .filter_map(|d| {
                Some(LinkHolds {
                    department_id: d.department_id?,
                    agent_id: d.agent_id?,
                    holds: older(d.holds, cutoff),
                })
            })
            .collect())
    }

    /// Sets each agent's `openLivechats` to its number of holds where they
    /// differ (data written before holds existed, or edited by hand);
    /// answers the agents corrected.
    pub async fn fix_user_drift(&self) -> Result<Vec<String>, Error> {
        let ids = super::super::ids_in(&self.users, drifted("openLivechats")).await?;
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
