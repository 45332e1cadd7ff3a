//! `switchboard_assignments`: the record of every routing decision.

use futures::TryStreamExt;
use mongodb::bson::{self, Document, doc};
use mongodb::options::{FindOptions, IndexOptions};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{Store, now};
use crate::domain::pagination::Page;
use crate::error::Error;

pub const COLLECTION: &str = "switchboard_assignments";

pub const OPEN: &str = "open";
pub const QUEUED: &str = "queued";
pub const CLOSED: &str = "closed";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssignmentDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "visitorToken")]
    pub visitor_token: String,
    #[serde(rename = "roomId", default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(
        rename = "departmentId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub department_id: Option<String>,
    #[serde(
        rename = "requestedDepartmentId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub requested_department_id: Option<String>,
    #[serde(rename = "agentId", default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(rename = "agentName", default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    pub status: String,
    pub method: String,
    pub reason: String,
    #[serde(rename = "createdAt")]
    pub created_at: bson::DateTime,
    #[serde(rename = "closedAt", default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<bson::DateTime>,
}

/// Filters of `GET /api/v1/livechat/assignments`.
#[derive(Debug, Default, Clone)]
pub struct AssignmentFilter {
    pub department_id: Option<String>,
    pub agent_id: Option<String>,
    pub status: Option<String>,
    pub visitor_token: Option<String>,
}

pub(super) fn indexes() -> Vec<IndexModel> {
    vec![
        // At most one open assignment per visitor, whatever the concurrency.
        IndexModel::builder()
            .keys(doc! {"visitorToken": 1, "status": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .partial_filter_expression(doc! {"status": OPEN})
                    .name("visitorToken_open_unique".to_string())
                    .build(),
            )
            .build(),
        IndexModel::builder()
            .keys(doc! {"visitorToken": 1, "createdAt": -1})
            .build(),
        IndexModel::builder()
            .keys(doc! {"agentId": 1, "status": 1, "createdAt": -1})
            .build(),
        IndexModel::builder()
            .keys(doc! {"departmentId": 1, "status": 1, "createdAt": -1})
            .build(),
        IndexModel::builder()
            .keys(doc! {"status": 1, "createdAt": -1})
            .build(),
        IndexModel::builder().keys(doc! {"createdAt": -1}).build(),
    ]
}

pub struct Assignments {
    pub(super) coll: Collection<AssignmentDoc>,
}

impl Assignments {
    pub(super) fn new(store: &Store) -> Self {
        Assignments {
            coll: store.collection(COLLECTION),
        }
    }

    /// Inserts the record; `Ok(false)` when the visitor already has an open
    /// assignment (the unique index refused this one).
    pub async fn insert(&self, doc: &AssignmentDoc) -> Result<bool, Error> {
        match self.coll.insert_one(doc).await {
            Ok(_) => Ok(true),
            Err(e) if super::is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn find(&self, id: &str) -> Result<Option<AssignmentDoc>, Error> {
        Ok(self.coll.find_one(doc! {"_id": id}).await?)
    }

    pub async fn open_for_visitor(&self, token: &str) -> Result<Option<AssignmentDoc>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"visitorToken": token, "status": OPEN})
            .await?)
    }

    /// The visitor's most recent assignment that had an agent.
    pub async fn last_served(&self, token: &str) -> Result<Option<AssignmentDoc>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"visitorToken": token, "agentId": {"$exists": true}})
            .sort(doc! {"createdAt": -1})
            .await?)
    }

    /// Closes an open or queued assignment. Answers the closed assignment
    /// when this call closed it (so the caller frees an open one's slot
    /// exactly once: a queued one has no agent), or `None` when it was
    /// already closed or is unknown.
    pub async fn close(&self, id: &str) -> Result<Option<AssignmentDoc>, Error> {
        Ok(self
            .coll
            .find_one_and_update(
                doc! {"_id": id, "status": {"$in": [OPEN, QUEUED]}},
                doc! {"$set": {"status": CLOSED, "closedAt": now()}},
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await?)
    }

    pub async fn list(
        &self,
        filter: &AssignmentFilter,
        page: Page,
    ) -> Result<(Vec<AssignmentDoc>, u64), Error> {
        let mut query = Document::new();
        for (key, value) in [
            ("departmentId", &filter.department_id),
            ("agentId", &filter.agent_id),
            ("status", &filter.status),
            ("visitorToken", &filter.visitor_token),
        ] {
            if let Some(v) = value {
                query.insert(key, v);
            }
        }
        let total = self.coll.count_documents(query.clone()).await?;
        let options = FindOptions::builder()
            .sort(doc! {"createdAt": -1})
            .skip(page.offset)
            .limit(page.count as i64)
            .build();
        let found = self
            .coll
            .find(query)
            .with_options(options)
            .await?
            .try_collect()
            .await?;
        Ok((found, total))
    }

    pub async fn count_status(&self, status: &str) -> Result<u64, Error> {
        Ok(self.coll.count_documents(doc! {"status": status}).await?)
    }
}
