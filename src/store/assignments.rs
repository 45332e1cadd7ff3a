//! `switchboard_assignments`: the record of every routing decision.

use futures::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::error::{ErrorKind, InsertManyError};
use mongodb::options::{FindOptions, IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{Store, now};
use crate::domain::assignment::{Assignment, Change, Channel, DecidedBy, StateChange, Status};
use crate::domain::pagination::Page;
use crate::domain::routing::Method;
use crate::error::Error;

pub const COLLECTION: &str = "switchboard_assignments";

/// States are stored under their domain names.
impl From<Status> for Bson {
    fn from(s: Status) -> Bson {
        Bson::String(s.as_str().to_string())
    }
}

const OPEN: Status = Status::Open;
const OFFERED: Status = Status::Offered;
const QUEUED: Status = Status::Queued;
const CLOSED: Status = Status::Closed;
const ABANDONED: Status = Status::Abandoned;

/// The unique index that keeps one live assignment per visitor.
const LIVE_PER_VISITOR: &str = "visitorToken_active_unique";
/// The unique index that keeps one live assignment per room.
const LIVE_PER_ROOM: &str = "roomId_active_unique";

/// The stored shape of an assignment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssignmentDoc {
    #[serde(rename = "_id")]
    id: String,
    visitor_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    room_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested_department_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    status: Status,
    method: DecidedBy,
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attempt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lock_id: Option<String>,
    created_at: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    routed_at: Option<bson::DateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closed_at: Option<bson::DateTime>,
    /// `true` while open, offered or queued: the visitor's one live
    /// assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    declined_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offered_at: Option<bson::DateTime>,
    /// `audioVideo` for an audio or video chat; absent for a text chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<HistoryDoc>,
}

/// One stored state change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryDoc {
    status: Change,
    at: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}

impl HistoryDoc {
    fn new(change: Change, agent_id: Option<&str>, username: Option<&str>) -> HistoryDoc {
        HistoryDoc {
            status: change,
            at: now(),
            agent_id: agent_id.map(str::to_string),
            username: username.map(str::to_string),
        }
    }

    fn bson(&self) -> Bson {
        bson::to_bson(self).unwrap_or(Bson::Null)
    }
}

impl From<AssignmentDoc> for Assignment {
    fn from(d: AssignmentDoc) -> Self {
        Assignment {
            status: d.status,
            id: d.id,
            visitor_token: d.visitor_token,
            room_id: d.room_id,
            department_id: d.department_id,
            requested_department_id: d.requested_department_id,
            agent_id: d.agent_id,
            username: d.username,
            method: d.method,
            reason: d.reason,
            attempt: d.attempt,
            lock_id: d.lock_id,
            created_at: d.created_at.to_chrono(),
            routed_at: d.routed_at.map(|t| t.to_chrono()),
            closed_at: d.closed_at.map(|t| t.to_chrono()),
            declined_by: d.declined_by,
            channel: d.channel.unwrap_or_default(),
            history: d
                .history
                .into_iter()
                .map(|h| StateChange {
                    change: h.status,
                    at: h.at.to_chrono(),
                    agent_id: h.agent_id,
                    username: h.username,
                })
                .collect(),
        }
    }
}

/// A queued assignment locked by one drainer while it looks for an agent;
/// the lock id is also the attempt id of the holds it leaves.
#[derive(Debug, Clone)]
pub struct Locked {
    pub assignment: Assignment,
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
    pub fn of(a: &Assignment) -> QueueScope {
        match &a.requested_department_id {
            Some(d) => QueueScope::Department(d.clone()),
            None => QueueScope::NoDepartment,
        }
    }

    fn narrow(&self, query: &mut Document) {
        match self {
            QueueScope::Department(d) => query.insert("requestedDepartmentId", d),
            QueueScope::NoDepartment => {
                query.insert("requestedDepartmentId", doc! {"$exists": false})
            }
        };
    }
}

/// What a queued chat becomes when an agent takes it.
#[derive(Debug, Clone)]
pub struct Served {
    pub agent_id: String,
    pub username: String,
    pub department_id: Option<String>,
    pub method: DecidedBy,
    pub reason: String,
    /// Offered (the agent accepts or declines) rather than open.
    pub offered: bool,
    /// Taken by the agent's own hand (recorded in the history).
    pub manual: bool,
}

impl Served {
    fn status(&self) -> Status {
        if self.offered { OFFERED } else { OPEN }
    }

    fn change(&self) -> Change {
        match (self.offered, self.manual) {
            (true, _) => Change::Offered,
            (false, true) => Change::TakenManually,
            (false, false) => Change::Open,
        }
    }

    fn history(&self) -> HistoryDoc {
        HistoryDoc::new(self.change(), Some(&self.agent_id), Some(&self.username))
    }
}

/// A routing decision to record.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    /// Chosen before the decision, so the holds it leaves can name it.
    pub id: String,
    pub attempt: String,
    pub visitor_token: String,
    pub room_id: Option<String>,
    pub requested_department_id: Option<String>,
    pub channel: Channel,
    pub outcome: Outcome,
}

/// What a decision found: an agent, or a place in the queue.
#[derive(Debug, Clone)]
pub enum Outcome {
    Served(Served),
    Queued { method: Method, reason: String },
}

/// What recording a decision did.
#[derive(Debug)]
pub enum Recorded {
    New(Box<Assignment>),
    /// The visitor already has a live assignment; nothing was written.
    VisitorHasLive,
    /// The room already has a live assignment (another visitor's
    /// decision for the same room won); nothing was written.
    RoomHasLive,
    /// The id was fenced off by a repair (the decision took too long);
    /// nothing was written.
    Fenced,
}

/// How long a drainer's lock on a queued chat holds before another
/// drainer may take the chat over (a drainer that died mid-decision).
const LOCK_SECONDS: i64 = 30;

/// Filters of `GET /api/v1/livechat/assignments`.
#[derive(Debug, Default, Clone)]
pub struct AssignmentFilter {
    pub department_id: Option<String>,
    pub agent_id: Option<String>,
    pub status: Option<Status>,
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
                    .name(LIVE_PER_VISITOR.to_string())
                    .build(),
            )
            .build(),
        // The queue, oldest first, per requested department.
        // At most one live assignment per room: a room is one chat.
        IndexModel::builder()
            .keys(doc! {"roomId": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .partial_filter_expression(doc! {"active": true, "roomId": {"$exists": true}})
                    .name(LIVE_PER_ROOM.to_string())
                    .build(),
            )
            .build(),
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
        // A livechat room's assignment (its routing state).
        IndexModel::builder()
            .keys(doc! {"roomId": 1, "createdAt": -1})
            .options(IndexOptions::builder().sparse(true).build())
            .build(),
        // Offers to time out (few, and only for a moment).
        IndexModel::builder()
            .keys(doc! {"status": 1, "offeredAt": 1})
            .options(
                IndexOptions::builder()
                    .partial_filter_expression(doc! {"status": OFFERED})
                    .build(),
            )
            .build(),
        // Closes the repair must finish (few, and only for a moment).
        IndexModel::builder()
            .keys(doc! {"releasing": 1, "closedAt": 1})
            .options(
                IndexOptions::builder()
                    .partial_filter_expression(doc! {"releasing": true})
                    .build(),
            )
            .build(),
    ]
}

/// What a unique index's refusal of a new decision means.
fn refusal(index: &str) -> Option<Recorded> {
    match index {
        LIVE_PER_VISITOR => Some(Recorded::VisitorHasLive),
        LIVE_PER_ROOM => Some(Recorded::RoomHasLive),
        "_id_" => Some(Recorded::Fenced),
        _ => None,
    }
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

    /// The stored form of a new decision.
    fn new_doc(new: NewAssignment) -> AssignmentDoc {
        let created = now();
        let (history, offered) = match &new.outcome {
            Outcome::Served(s) => (s.history(), s.offered),
            Outcome::Queued { .. } => (HistoryDoc::new(Change::Queued, None, None), false),
        };
        let (status, department_id, served, method, reason) = match new.outcome {
            Outcome::Served(s) => (
                s.status(),
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
                DecidedBy::Method(method),
                reason,
            ),
        };
        AssignmentDoc {
            id: new.id,
            visitor_token: new.visitor_token,
            room_id: new.room_id,
            department_id,
            requested_department_id: new.requested_department_id,
            routed_at: served.is_some().then_some(created),
            attempt: served.is_some().then_some(new.attempt),
            agent_id: served.as_ref().map(|(id, _)| id.clone()),
            username: served.map(|(_, name)| name),
            lock_id: None,
            status,
            method,
            reason,
            created_at: created,
            closed_at: None,
            active: Some(true),
            declined_by: Vec::new(),
            offered_at: offered.then_some(created),
            channel: (new.channel == Channel::AudioVideo).then_some(new.channel),
            history: vec![history],
        }
    }

    /// Records a new decision under its chosen id.
    pub async fn insert(&self, new: NewAssignment) -> Result<Recorded, Error> {
        let doc = Self::new_doc(new);
        match self.coll.insert_one(&doc).await {
            Ok(_) => Ok(Recorded::New(Box::new(doc.into()))),
            Err(e) => match super::duplicate_index(&e).and_then(refusal) {
                Some(refused) => Ok(refused),
                None => Err(e.into()),
            },
        }
    }

    /// Records several new decisions in one command, each as [`insert`]
    /// would (a decision refused by a unique index does not stop the
    /// others). `Err` when the command failed as a whole: then any of them
    /// may or may not have landed.
    ///
    /// [`insert`]: Assignments::insert
    pub async fn insert_all(
        &self,
        new: Vec<NewAssignment>,
    ) -> Result<Vec<Result<Recorded, Error>>, Error> {
        let docs: Vec<AssignmentDoc> = new.into_iter().map(Self::new_doc).collect();
        let refused = match self.coll.insert_many(&docs).ordered(false).await {
            Ok(_) => Vec::new(),
            Err(e) => match e.kind.as_ref() {
                ErrorKind::InsertMany(InsertManyError {
                    write_errors: Some(refused),
                    write_concern_error: None,
                    ..
                }) => refused.clone(),
                _ => return Err(e.into()),
            },
        };
        Ok(docs
            .into_iter()
            .enumerate()
            .map(|(i, doc)| match refused.iter().find(|w| w.index == i) {
                None => Ok(Recorded::New(Box::new(doc.into()))),
                Some(w) => match super::duplicate_index_in(w.code, &w.message).and_then(refusal) {
                    Some(refused) => Ok(refused),
                    None => Err(Error::Unexpected(anyhow::anyhow!(
                        "recording the decision failed: {}",
                        w.message
                    ))),
                },
            })
            .collect())
    }

    /// Takes the id of a decision that failed before it was recorded, so
    /// that its late write can never land: `true` when this call took it,
    /// `false` when the decision's own record is there after all.
    pub async fn fence(&self, id: &str, visitor_token: &str) -> Result<bool, Error> {
        let tombstone = AssignmentDoc {
            id: id.to_string(),
            visitor_token: visitor_token.to_string(),
            room_id: None,
            department_id: None,
            requested_department_id: None,
            agent_id: None,
            username: None,
            status: ABANDONED,
            method: DecidedBy::Nothing,
            reason: "abandoned: the decision failed before it was recorded".to_string(),
            attempt: None,
            lock_id: None,
            created_at: now(),
            routed_at: None,
            closed_at: None,
            active: None,
            declined_by: Vec::new(),
            offered_at: None,
            channel: None,
            history: Vec::new(),
        };
        match self.coll.insert_one(&tombstone).await {
            Ok(_) => Ok(true),
            Err(e) if super::is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The assignment with this id (abandoned decisions included).
    pub async fn find(&self, id: &str) -> Result<Option<Assignment>, Error> {
        Ok(self.coll.find_one(doc! {"_id": id}).await?.map(Into::into))
    }

    /// The assignments with these ids.
    pub async fn find_many(&self, ids: &[String]) -> Result<Vec<Assignment>, Error> {
        let found: Vec<AssignmentDoc> = self
            .coll
            .find(doc! {"_id": {"$in": ids}})
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    /// The visitor's open or queued assignment.
    pub async fn live_for_visitor(&self, token: &str) -> Result<Option<Assignment>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"visitorToken": token, "status": {"$in": [OPEN, OFFERED, QUEUED]}})
            .await?
            .map(Into::into))
    }

    /// The newest assignment of a livechat room (abandoned decisions
    /// excluded): the room's routing state.
    pub async fn of_room(&self, room_id: &str) -> Result<Option<Assignment>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"roomId": room_id, "status": {"$ne": ABANDONED}})
            .sort(doc! {"createdAt": -1})
            .await?
            .map(Into::into))
    }

    /// Gives a live assignment that has no room yet (routed by
    /// `agent.next`) the room the visitor now opened; answers it as it is.
    /// `None` when the room has a live assignment of its own already.
    pub async fn attach_room(&self, id: &str, room_id: &str) -> Result<Option<Assignment>, Error> {
        let attached = self
            .coll
            .update_one(
                doc! {"_id": id, "roomId": {"$exists": false}},
                doc! {"$set": {"roomId": room_id}},
            )
            .await;
        match attached {
            Ok(_) => self.find(id).await,
            Err(e) if super::is_duplicate_key(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The visitor's most recent assignment that had an agent.
    pub async fn last_served(&self, token: &str) -> Result<Option<Assignment>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"visitorToken": token, "agentId": {"$exists": true}})
            .sort(doc! {"createdAt": -1})
            .await?
            .map(Into::into))
    }

    /// Closes an open or queued assignment. Answers the closed assignment
    /// when this call closed it (so the caller frees an open one's slot
    /// exactly once: a queued one has no agent), or `None` when it was
    /// already closed or is unknown.
    pub async fn close(&self, id: &str) -> Result<Option<Assignment>, Error> {
        Ok(self
            .coll
            .find_one_and_update(
                doc! {"_id": id, "status": {"$in": [OPEN, OFFERED, QUEUED]}},
                doc! {
                    // Until the slot is freed: a close that fails half-way
                    // is finished by the repair.
                    "$set": {"status": CLOSED, "closedAt": now(), "releasing": true},
                    "$unset": {"active": "", "lockId": "", "lockedAt": "", "offeredAt": ""},
                    "$push": {"history": HistoryDoc::new(Change::Closed, None, None).bson()},
                },
            )
            .return_document(ReturnDocument::After)
            .await?
            .map(Into::into))
    }

    /// The close of this assignment has freed its agent's slot.
    pub async fn released(&self, id: &str) -> Result<(), Error> {
        self.coll
            .update_one(doc! {"_id": id}, doc! {"$unset": {"releasing": ""}})
            .await?;
        Ok(())
    }

    /// Closed assignments whose slot was not freed, closed before `cutoff`.
    pub async fn unreleased_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Assignment>, Error> {
        let found: Vec<AssignmentDoc> = self
            .coll
            .find(doc! {
                "releasing": true,
                "closedAt": {"$lt": bson::DateTime::from_chrono(cutoff)},
            })
            .limit(1000)
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    /// Locks the oldest queued chat of the scope (or, with `only`, that
    /// one chat) that no live drainer holds. One atomic update: the server
    /// re-checks the filter when it writes, so two drainers never lock the
    /// same chat.
    /// With `for_agent`, chats that agent declined are passed over: room
    /// that agent made is not wasted on a chat it will never get.
    pub async fn lock_queued(
        &self,
        scope: &QueueScope,
        only: Option<&str>,
        for_agent: Option<&str>,
    ) -> Result<Option<Locked>, Error> {
        let stale = bson::DateTime::from_millis(now().timestamp_millis() - LOCK_SECONDS * 1000);
        let mut query = doc! {
            "status": QUEUED,
            "$or": [{"lockedAt": {"$exists": false}}, {"lockedAt": {"$lte": stale}}],
        };
        scope.narrow(&mut query);
        if let Some(id) = only {
            query.insert("_id", id);
        }
        if let Some(agent) = for_agent {
            query.insert("declinedBy", doc! {"$ne": agent});
        }
        let lock_id = crate::domain::id::new_id();
        let locked = self
            .coll
            .find_one_and_update(
                query,
                doc! {"$set": {"lockId": &lock_id, "lockedAt": now()}},
            )
            .sort(doc! {"createdAt": 1})
            .return_document(ReturnDocument::After)
            .await?;
        Ok(locked.map(|d| Locked {
            assignment: d.into(),
            lock_id,
        }))
    }

    /// Gives a locked queued chat to its agent; `None` when the lock was
    /// lost (the chat was closed, another drainer took it over, or a
    /// repair revoked the lock).
    pub async fn serve_locked(
        &self,
        locked: &Locked,
        served: Served,
    ) -> Result<Option<Assignment>, Error> {
        let history = served.history().bson();
        let mut set = doc! {
            "status": served.status(),
            "agentId": &served.agent_id,
            "username": &served.username,
            "method": served.method.as_str(),
            "reason": &served.reason,
            "attempt": &locked.lock_id,
            "routedAt": now(),
        };
        if served.offered {
            set.insert("offeredAt", now());
        }
        if let Some(d) = &served.department_id {
            set.insert("departmentId", d);
        }
        let result = self
            .coll
            .find_one_and_update(
                doc! {"_id": &locked.assignment.id, "status": QUEUED, "lockId": &locked.lock_id},
                doc! {"$set": set, "$unset": {"lockId": "", "lockedAt": ""}, "$push": {"history": history}},
            )
            .return_document(ReturnDocument::After)
            .await;
        match result {
            Ok(found) => Ok(found.map(Into::into)),
            // A unique index refused it: the visitor's other record wins.
            Err(e) if super::is_duplicate_key(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The agent accepts the chat offered to it: open. `None` when it is
    /// not (or no longer) offered to this agent.
    pub async fn accept(&self, id: &str, agent_id: &str) -> Result<Option<Assignment>, Error> {
        let accepted = HistoryDoc::new(Change::Open, Some(agent_id), None);
        Ok(self
            .coll
            .find_one_and_update(
                doc! {"_id": id, "status": OFFERED, "agentId": agent_id},
                doc! {
                    "$set": {"status": OPEN},
                    "$unset": {"offeredAt": ""},
                    "$push": {"history": accepted.bson()},
                },
            )
            .return_document(ReturnDocument::After)
            .await?
            .map(Into::into))
    }

    /// Takes an offer back from its agent (declined, or timed out): the
    /// chat waits again in its queue, in its old place, never to be
    /// offered to that agent again. Only the offer as read (`offered`: same
    /// agent, same attempt) is taken back, so of two instances timing one
    /// offer out, or an accept racing a decline, one wins. `None` when the
    /// offer had already changed.
    pub async fn decline(
        &self,
        offered: &Assignment,
        timed_out: bool,
    ) -> Result<Option<Assignment>, Error> {
        let change = if timed_out {
            Change::TimedOut
        } else {
            Change::Declined
        };
        let entry = HistoryDoc::new(
            change,
            offered.agent_id.as_deref(),
            offered.username.as_deref(),
        );
        let mut set = doc! {"status": QUEUED, "method": offered.method.as_str()};
        let mut unset =
            doc! {"agentId": "", "username": "", "attempt": "", "routedAt": "", "offeredAt": ""};
        match &offered.requested_department_id {
            Some(d) => set.insert("departmentId", d),
            None => unset.insert("departmentId", ""),
        };
        set.insert(
            "reason",
            format!(
                "queued: {} {}",
                offered.username.as_deref().unwrap_or("the agent"),
                if timed_out {
                    "let the offer time out"
                } else {
                    "declined it"
                }
            ),
        );
        Ok(self
            .coll
            .find_one_and_update(
                doc! {
                    "_id": &offered.id, "status": OFFERED,
                    "agentId": offered.agent_id.as_deref(), "attempt": offered.attempt.as_deref(),
                },
                doc! {
                    "$set": set,
                    "$unset": unset,
                    "$push": {"declinedBy": offered.agent_id.as_deref(), "history": entry.bson()},
                },
            )
            .return_document(ReturnDocument::After)
            .await?
            .map(Into::into))
    }

    /// Offers made before `cutoff` and still unanswered.
    pub async fn offers_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Assignment>, Error> {
        let found: Vec<AssignmentDoc> = self
            .coll
            .find(doc! {
                "status": OFFERED,
                "offeredAt": {"$lt": bson::DateTime::from_chrono(cutoff)},
            })
            .sort(doc! {"offeredAt": 1})
            .limit(100)
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    /// Agents holding an open or offered audio/video chat.
    pub async fn agents_in_audio_video(&self) -> Result<Vec<String>, Error> {
        let found = self
            .coll
            .distinct(
                "agentId",
                doc! {"status": {"$in": [OPEN, OFFERED]}, "channel": Channel::AudioVideo.as_str()},
            )
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|b| b.as_str().map(str::to_string))
            .collect())
    }

    /// Puts a locked chat back in the queue, untouched, for a later drain.
    pub async fn unlock(&self, locked: &Locked) -> Result<(), Error> {
        self.revoke_lock(&locked.assignment.id, &locked.lock_id)
            .await
    }

    /// Ends this lock on the chat, if it still holds, so the drainer that
    /// took it can no longer serve it.
    pub async fn revoke_lock(&self, id: &str, lock_id: &str) -> Result<(), Error> {
        self.coll
            .update_one(
                doc! {"_id": id, "lockId": lock_id},
                doc! {"$unset": {"lockId": "", "lockedAt": ""}},
            )
            .await?;
        Ok(())
    }

    /// Where a queued chat stands in its queue (1 = next); `None` when it
    /// is not queued.
    pub async fn queue_position(&self, a: &Assignment) -> Result<Option<u64>, Error> {
        if a.status != Status::Queued {
            return Ok(None);
        }
        let mut ahead = doc! {
            "status": QUEUED,
            "createdAt": {"$lt": bson::DateTime::from_chrono(a.created_at)},
        };
        QueueScope::of(a).narrow(&mut ahead);
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

    /// Every queue that has waiting chats, with the time its oldest chat
    /// arrived, oldest first: a drain that may serve several queues tries
    /// the one that has waited longest first.
    pub async fn queue_heads(
        &self,
    ) -> Result<Vec<(QueueScope, chrono::DateTime<chrono::Utc>)>, Error> {
        let mut heads = Vec::new();
        for scope in self.queued_scopes().await? {
            let mut query = doc! {"status": QUEUED};
            scope.narrow(&mut query);
            if let Some(head) = self
                .coll
                .find_one(query)
                .sort(doc! {"createdAt": 1})
                .await?
            {
                heads.push((scope, head.created_at.to_chrono()));
            }
        }
        heads.sort_by_key(|(_, at)| *at);
        Ok(heads)
    }

    /// The waiting chats, oldest first, of one queue (or of all, with
    /// `None`), a page at a time, with their total.
    pub async fn waiting(
        &self,
        scope: Option<&QueueScope>,
        page: Page,
    ) -> Result<(Vec<Assignment>, u64), Error> {
        let mut query = doc! {"status": QUEUED};
        if let Some(scope) = scope {
            scope.narrow(&mut query);
        }
        self.page_oldest_first(query, page).await
    }

    /// The waiting chats whose queue is one of these departments, or, with
    /// `no_department`, asks for none: what one agent may take.
    pub async fn waiting_in(
        &self,
        departments: &[String],
        no_department: bool,
        page: Page,
    ) -> Result<(Vec<Assignment>, u64), Error> {
        let mut either = vec![doc! {"requestedDepartmentId": {"$in": departments}}];
        if no_department {
            either.push(doc! {"requestedDepartmentId": {"$exists": false}});
        }
        self.page_oldest_first(doc! {"status": QUEUED, "$or": either}, page)
            .await
    }

    async fn page_oldest_first(
        &self,
        query: Document,
        page: Page,
    ) -> Result<(Vec<Assignment>, u64), Error> {
        let total = self.coll.count_documents(query.clone()).await?;
        let found: Vec<AssignmentDoc> = self
            .coll
            .find(query)
            .sort(doc! {"createdAt": 1})
            .skip(page.offset)
            .limit(page.count as i64)
            .await?
            .try_collect()
            .await?;
        Ok((found.into_iter().map(Into::into).collect(), total))
    }

    /// The live assignment of a room (its open or waiting chat).
    pub async fn live_for_room(&self, room_id: &str) -> Result<Option<Assignment>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"roomId": room_id, "status": {"$ne": ABANDONED}})
            .sort(doc! {"createdAt": -1})
            .await?
            .map(Into::into))
    }

    pub async fn list(
        &self,
        filter: &AssignmentFilter,
        page: Page,
    ) -> Result<(Vec<Assignment>, u64), Error> {
        let mut query = doc! {"status": {"$ne": ABANDONED}};
        for (key, value) in [
            ("departmentId", &filter.department_id),
            ("agentId", &filter.agent_id),
            ("visitorToken", &filter.visitor_token),
        ] {
            if let Some(v) = value {
                query.insert(key, v);
            }
        }
        if let Some(s) = filter.status {
            query.insert("status", s.as_str());
        }
        let total = self.coll.count_documents(query.clone()).await?;
        let options = FindOptions::builder()
            .sort(doc! {"createdAt": -1})
            .skip(page.offset)
            .limit(page.count as i64)
            .build();
        let found: Vec<AssignmentDoc> = self
            .coll
            .find(query)
            .with_options(options)
            .await?
            .try_collect()
            .await?;
        Ok((found.into_iter().map(Into::into).collect(), total))
    }

    pub async fn count_status(&self, status: Status) -> Result<u64, Error> {
        Ok(self
            .coll
            .count_documents(doc! {"status": status.as_str()})
            .await?)
    }
}
