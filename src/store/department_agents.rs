//! `rocketchat_livechat_department_agents`: the links between departments
//! and agents, with Rocket.Chat's `count` and `order` routing fields.

use futures::TryStreamExt;
use mongodb::bson::{self, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{Store, num};
use crate::domain::agent_link::AgentLink;
use crate::domain::listing::Sort;
use crate::domain::pagination::Page;
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

impl From<LinkDoc> for AgentLink {
    fn from(d: LinkDoc) -> Self {
        AgentLink {
            id: d.id,
            agent_id: d.agent_id,
            department_id: d.department_id,
            department_enabled: d.department_enabled,
            username: d.username,
            count: d.count,
            order: d.order,
            updated_at: d.updated_at.map(|t| t.to_chrono()),
        }
    }
}

/// Fields a link list may be sorted by.
pub const SORTABLE_FIELDS: &[&str] = &["username", "count", "order", "agentId", "_updatedAt"];

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

    /// A page of the department's links (default by username) and the total.
    pub async fn list(
        &self,
        department_id: &str,
        sort: &Sort,
        page: Page,
    ) -> Result<(Vec<AgentLink>, u64), Error> {
        let filter = doc! {"departmentId": department_id};
        let total = self.coll.count_documents(filter.clone()).await?;
        let links: Vec<LinkDoc> = self
            .coll
            .find(filter)
            .sort(super::departments::sort_document(sort))
            .skip(page.offset)
            .limit(page.count as i64)
            .await?
            .try_collect()
            .await?;
        Ok((links.into_iter().map(AgentLink::from).collect(), total))
    }

    /// Every link of the department, by username.
    pub async fn all_of_department(&self, department_id: &str) -> Result<Vec<AgentLink>, Error> {
        let links: Vec<LinkDoc> = self
            .coll
            .find(doc! {"departmentId": department_id})
            .sort(doc! {"username": 1, "_id": 1})
            .await?
            .try_collect()
            .await?;
        Ok(links.into_iter().map(AgentLink::from).collect())
    }

    /// Every link of the agent; with `enabled_only`, only links to
    /// departments that are enabled and not archived.
    pub async fn of_agent(
        &self,
        agent_id: &str,
        enabled_only: bool,
    ) -> Result<Vec<AgentLink>, Error> {
        let mut filter = doc! {"agentId": agent_id};
        if enabled_only {
            filter.insert("departmentEnabled", true);
        }
        let links: Vec<LinkDoc> = self
            .coll
            .find(filter)
            .sort(doc! {"departmentId": 1})
            .await?
            .try_collect()
            .await?;
        Ok(links.into_iter().map(AgentLink::from).collect())
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
