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
    /// When an agent took it: `createdAt` for a chat routed at once,
    /// later for one that waited in the queue.
    #[serde(rename = "routedAt", default, skip_serializing_if = "Option::is_none")]
    pub routed_at: Option<bson::DateTime>,
    #[serde(rename = "closedAt", default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<bson::DateTime>,
    /// `true` while open or queued: the visitor's one live assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A queued assignment locked by one drainer while it looks for an agent.
#[derive(Debug, Clone)]
pub struct Locked {
    pub assignment: AssignmentDoc,
    pub lock_id: String,
}

/// Which queued chats a drain looks at: those that asked for one
/// department, or those that asked for none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueScope {
    Department(String),
    NoDepartment,
}

impl QueueScope {
    /// The queue a chat waits in: the department it asked for, if any.
    pub fn of(a: &AssignmentDoc) -> QueueScope {
        match &a.requested_department_id {
            Some(d) => QueueScope::Department(d.clone()),
            None => QueueScope::NoDepartment,
        }
    }
}

/// What a queued chat becomes when an agent takes it.
#[derive(Debug, Clone)]
pub struct Served {
    pub agent_id: String,
    pub username: String,
    pub department_id: Option<String>,
    pub method: String,
    pub reason: String,
}

/// A routing decision to record.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub visitor_token: String,
    pub room_id: Option<String>,
    pub requested_department_id: Option<String>,
    pub outcome: Outcome,
}

/// What a decision found: an agent, or a place in the queue.
#[derive(Debug, Clone)]
pub enum Outcome {
    Served(Served),
    Queued { method: String, reason: String },
}

/// How long a drainer's lock on a queued chat holds before another
/// drainer may take the chat over (a drainer that died mid-decision).
const LOCK_SECONDS: i64 = 30;

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
        // At most one live (open or queued) assignment per visitor.
        IndexModel::builder()
            .keys(doc! {"visitorToken": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .partial_filter_expression(doc! {"active": true})
                    .name("visitorToken_active_unique".to_string())
                    .build(),
            )
            .build(),
        // The queue, oldest first, per requested department.
        IndexModel::builder()
            .keys(doc! {"status": 1, "requestedDepartmentId": 1, "createdAt": 1})
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

    /// Records a new decision; `None` when the visitor already has a live
    /// assignment (a unique index refused this one).
    pub async fn insert(&self, new: NewAssignment) -> Result<Option<AssignmentDoc>, Error> {
        let created = now();
        let (status, department_id, served, method, reason) = match new.outcome {
            Outcome::Served(s) => (
                OPEN,
                s.department_id
                    .clone()
                    .or(new.requested_department_id.clone()),
                Some((s.agent_id, s.username)),
                s.method,
                s.reason,
            ),
            Outcome::Queued { method, reason } => (
                QUEUED,
                new.requested_department_id.clone(),
                None,
                method,
                reason,
            ),
        };
        let doc = AssignmentDoc {
            id: crate::domain::id::new_id(),
            visitor_token: new.visitor_token,
            room_id: new.room_id,
            department_id,
            requested_department_id: new.requested_department_id,
            routed_at: served.is_some().then_some(created),
            agent_id: served.as_ref().map(|(id, _)| id.clone()),
            username: served.map(|(_, name)| name),
            agent_name: None,
            status: status.to_string(),
            method,
            reason,
            created_at: created,
            closed_at: None,
            active: Some(true),
        };
        match self.coll.insert_one(&doc).await {
            Ok(_) => Ok(Some(doc)),
            Err(e) if super::is_duplicate_key(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn find(&self, id: &str) -> Result<Option<AssignmentDoc>, Error> {
        Ok(self.coll.find_one(doc! {"_id": id}).await?)
    }

    /// The visitor's open or queued assignment.
    pub async fn live_for_visitor(&self, token: &str) -> Result<Option<AssignmentDoc>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"visitorToken": token, "status": {"$in": [OPEN, QUEUED]}})
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
                doc! {
                    "$set": {"status": CLOSED, "closedAt": now()},
                    "$unset": {"active": "", "lockId": "", "lockedAt": ""},
                },
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await?)
    }

    /// Locks the oldest queued chat of the scope (or, with `only`, that
    /// one chat) that no live drainer holds.
    pub async fn lock_queued(
        &self,
        scope: &QueueScope,
        only: Option<&str>,
    ) -> Result<Option<Locked>, Error> {
        let stale = bson::DateTime::from_millis(now().timestamp_millis() - LOCK_SECONDS * 1000);
        let mut query = doc! {
            "status": QUEUED,
            "$or": [{"lockedAt": {"$exists": false}}, {"lockedAt": {"$lte": stale}}],
        };
        match scope {
            QueueScope::Department(d) => query.insert("requestedDepartmentId", d),
            QueueScope::NoDepartment => {
                query.insert("requestedDepartmentId", doc! {"$exists": false})
            }
        };
        if let Some(id) = only {
            query.insert("_id", id);
        }
        let lock_id = crate::domain::id::new_id();
        let locked = super::claim::claim(
            &self.coll,
            super::claim::Claim {
                query,
                sort: doc! {"createdAt": 1},
                hint: None,
                seq_field: "lockId",
                update: doc! {"$set": {"lockId": &lock_id, "lockedAt": now()}}.into(),
                projection: None,
                return_document: mongodb::options::ReturnDocument::After,
            },
        )
        .await?;
        Ok(locked.map(|assignment| Locked {
            assignment,
            lock_id,
        }))
    }

    /// Gives a locked queued chat to its agent; `None` when the lock was
    /// lost (the chat was closed or another drainer took it over).
    pub async fn serve_locked(
        &self,
        locked: &Locked,
        served: Served,
    ) -> Result<Option<AssignmentDoc>, Error> {
        let mut set = doc! {
            "status": OPEN,
            "agentId": served.agent_id,
            "username": served.username,
            "method": served.method,
            "reason": served.reason,
            "routedAt": now(),
        };
        if let Some(d) = served.department_id {
            set.insert("departmentId", d);
        }
        let result = self
            .coll
            .find_one_and_update(
                doc! {"_id": &locked.assignment.id, "status": QUEUED, "lockId": &locked.lock_id},
                doc! {"$set": set, "$unset": {"lockId": "", "lockedAt": ""}},
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await;
        match result {
            Ok(found) => Ok(found),
            // A unique index refused it: the visitor's other record wins.
            Err(e) if super::is_duplicate_key(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Puts a locked chat back in the queue, untouched, for a later drain.
    pub async fn unlock(&self, locked: &Locked) -> Result<(), Error> {
        self.coll
            .update_one(
                doc! {"_id": &locked.assignment.id, "lockId": &locked.lock_id},
                doc! {"$unset": {"lockId": "", "lockedAt": ""}},
            )
            .await?;
        Ok(())
    }

    /// Where a queued chat stands in its queue (1 = next); `None` when it
    /// is not queued.
    pub async fn queue_position(&self, a: &AssignmentDoc) -> Result<Option<u64>, Error> {
        if a.status != QUEUED {
            return Ok(None);
        }
        let mut ahead = doc! {"status": QUEUED, "createdAt": {"$lt": a.created_at}};
        match QueueScope::of(a) {
            QueueScope::Department(d) => ahead.insert("requestedDepartmentId", d),
            QueueScope::NoDepartment => {
                ahead.insert("requestedDepartmentId", doc! {"$exists": false})
            }
        };
        Ok(Some(self.coll.count_documents(ahead).await? + 1))
    }

    /// Every scope that has queued chats.
    pub async fn queued_scopes(&self) -> Result<Vec<QueueScope>, Error> {
        let departments = self
            .coll
            .distinct("requestedDepartmentId", doc! {"status": QUEUED})
            .await?;
        let mut scopes: Vec<QueueScope> = departments
            .into_iter()
            .filter_map(|d| d.as_str().map(|d| QueueScope::Department(d.to_string())))
            .collect();
        // Projected, so read untyped: the record's required fields are left out.
        if self
            .coll
            .clone_with_type::<Document>()
            .find_one(doc! {"status": QUEUED, "requestedDepartmentId": {"$exists": false}})
            .projection(doc! {"_id": 1})
            .await?
            .is_some()
        {
            scopes.push(QueueScope::NoDepartment);
        }
        Ok(scopes)
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
