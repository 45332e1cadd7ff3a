//! `rocketchat_livechat_department_agents`: the links between departments
//! and agents, with Rocket.Chat's `count` and `order` routing fields.

use futures::TryStreamExt;
use mongodb::bson::{self, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{Store, num};
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_livechat_department_agents";

/// A link document as Rocket.Chat stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LinkDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "agentId")]
    pub agent_id: String,
    #[serde(rename = "departmentId")]
    pub department_id: String,
    #[serde(rename = "departmentEnabled", default)]
    pub department_enabled: bool,
    #[serde(default)]
    pub username: String,
    #[serde(default, deserialize_with = "num::i64_or_zero")]
    pub count: i64,
    #[serde(default, deserialize_with = "num::i64_or_zero")]
    pub order: i64,
    #[serde(
        rename = "_updatedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<bson::DateTime>,
}

pub(super) fn indexes() -> Vec<IndexModel> {
    vec![
        // One link per agent and department, whatever the concurrency.
        IndexModel::builder()
            .keys(doc! {"departmentId": 1, "agentId": 1})
            .options(IndexOptions::builder().unique(true).build())
            .build(),
        IndexModel::builder().keys(doc! {"agentId": 1}).build(),
        IndexModel::builder()
            .keys(doc! {"departmentId": 1, "username": 1})
            .build(),
    ]
}

pub struct DepartmentAgents {
    pub(super) coll: Collection<LinkDoc>,
    store: Store,
}

impl DepartmentAgents {
    pub(super) fn new(store: &Store) -> Self {
        DepartmentAgents {
            coll: store.collection(COLLECTION),
            store: store.clone(),
        }
    }

    /// Deletes every link of the agent, decrementing `numAgents` once for
    /// each link this call deleted (a concurrent removal of the same link
    /// decrements only once).
    pub async fn unlink_agent(&self, agent_id: &str) -> Result<(), Error> {
        let links: Vec<LinkDoc> = self
            .coll
            .find(doc! {"agentId": agent_id})
            .await?
            .try_collect()
            .await?;
        for link in links {
            let deleted = self.coll.delete_one(doc! {"_id": &link.id}).await?;
            if deleted.deleted_count == 1 {
                self.store
                    .departments()
                    .add_to_num_agents(&link.department_id, -1)
                    .await?;
            }
        }
        Ok(())
    }
}
