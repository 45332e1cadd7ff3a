//! `rocketchat_room` (livechat rooms, `t: "l"`) and
//! `rocketchat_livechat_inquiry` (a room's place in the waiting queue), in
//! Rocket.Chat's shapes.
//!
//! A room's routing fields (`servedBy`, `open`, the inquiry's `status`)
//! are a projection of the room's assignment, written only by
//! [`Rooms::publish`] from the assignment as recorded, for Rocket.Chat's
//! clients to read; Switchboard's own answers read the assignment.

use mongodb::bson::{self, Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::visitors::Visitor;
use super::{Store, now};
use crate::domain::assignment::{Assignment, Status};
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_room";
pub const INQUIRIES: &str = "rocketchat_livechat_inquiry";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RoomVisitorDoc {
    #[serde(rename = "_id")]
    id: String,
    username: String,
    token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServedByDoc {
    #[serde(rename = "_id")]
    id: String,
    username: String,
    ts: bson::DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RoomDoc {
    #[serde(rename = "_id")]
    id: String,
    t: String,
    ts: bson::DateTime,
    #[serde(default)]
    fname: Option<String>,
    #[serde(default)]
    msgs: i64,
    v: RoomVisitorDoc,
    #[serde(
        rename = "departmentId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    department_id: Option<String>,
    #[serde(rename = "servedBy", default, skip_serializing_if = "Option::is_none")]
    served_by: Option<ServedByDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open: Option<bool>,
    #[serde(rename = "closedAt", default, skip_serializing_if = "Option::is_none")]
    closed_at: Option<bson::DateTime>,
    /// Everything else Rocket.Chat keeps on a room (`usersCount`, `lm`,
    /// `source`, `cl`, `waitingResponse`, …).
    #[serde(flatten)]
    extra: Document,
}

/// The agent serving a room.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedBy {
    pub id: String,
    pub username: String,
    pub ts: chrono::DateTime<chrono::Utc>,
}

/// A livechat room as Switchboard reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    pub id: String,
    pub ts: chrono::DateTime<chrono::Utc>,
    pub fname: Option<String>,
    pub msgs: i64,
    pub visitor_id: String,
    pub visitor_username: String,
    pub visitor_token: String,
    pub visitor_status: Option<String>,
    pub department_id: Option<String>,
    pub served_by: Option<ServedBy>,
    pub open: bool,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A room document as a change event carries it; `None` for a room that is
/// not a livechat room or not in Rocket.Chat's shape.
pub(crate) fn from_document(d: Document) -> Option<Room> {
    if d.get_str("t").ok() != Some("l") {
        return None;
    }
    bson::from_document::<RoomDoc>(d).ok().map(Room::from)
}

impl From<RoomDoc> for Room {
    fn from(d: RoomDoc) -> Self {
        Room {
            id: d.id,
            ts: d.ts.to_chrono(),
            fname: d.fname,
            msgs: d.msgs,
            visitor_id: d.v.id,
            visitor_username: d.v.username,
            visitor_token: d.v.token,
            visitor_status: d.v.status,
            department_id: d.department_id,
            served_by: d.served_by.map(|s| ServedBy {
                id: s.id,
                username: s.username,
                ts: s.ts.to_chrono(),
            }),
            open: d.open.unwrap_or(false),
            closed_at: d.closed_at.map(|t| t.to_chrono()),
        }
    }
}

pub(crate) fn indexes() -> Vec<IndexModel> {
    vec![
        IndexModel::builder()
            .keys(doc! {"v.token": 1, "open": 1})
            .options(IndexOptions::builder().sparse(true).build())
            .build(),
    ]
}

pub(crate) fn inquiry_indexes() -> Vec<IndexModel> {
    vec![IndexModel::builder().keys(doc! {"rid": 1}).build()]
}

pub struct Rooms {
    coll: Collection<RoomDoc>,
    inquiries: Collection<Document>,
}

impl Rooms {
    pub(super) fn new(store: &Store) -> Self {
        Rooms {
            coll: store.collection(COLLECTION),
            inquiries: store.collection(INQUIRIES),
        }
    }

    /// Creates a visitor's open room and its inquiry (`queued` until its
    /// assignment is published), unless a room with this id exists: then
    /// nothing is written (several requests may create the room of one
    /// routed chat). Answers the room as stored.
    pub async fn create(
        &self,
        id: &str,
        visitor: &Visitor,
        department_id: Option<&str>,
    ) -> Result<Room, Error> {
        let at = now();
        let v = RoomVisitorDoc {
            id: visitor.id.clone(),
            username: visitor.username.clone(),
            token: visitor.token.clone(),
            status: visitor.status.clone(),
        };
        let room = RoomDoc {
            id: id.to_string(),
            t: "l".into(),
            ts: at,
            fname: Some(
                visitor
                    .name
                    .clone()
                    .unwrap_or_else(|| visitor.username.clone()),
            ),
            msgs: 0,
            v: v.clone(),
            department_id: department_id.map(str::to_string),
            served_by: None,
            open: Some(true),
            closed_at: None,
            extra: doc! {
                "usersCount": 1, "cl": false, "waitingResponse": true,
                "source": {"type": "widget"}, "queuedAt": at, "_updatedAt": at,
            },
        };
        match self.coll.insert_one(&room).await {
            Ok(_) => {}
            // Only this visitor's livechat room is answered: an id taken
            // by another visitor's room, or by a room that is no livechat
            // room at all, is never read back.
            Err(e) if super::is_duplicate_key(&e) => {
                return self
                    .find(id)
                    .await?
                    .filter(|r| r.visitor_token == visitor.token)
                    .ok_or_else(Error::invalid_room);
            }
            Err(e) => return Err(e.into()),
        }
        let mut inquiry = doc! {
            "_id": crate::domain::id::new_id(), "rid": id, "name": room.fname.clone(),
            "ts": at, "message": "", "status": "queued", "t": "l",
            "v": bson::to_bson(&v)?, "queuedAt": at, "_updatedAt": at,
            "estimatedWaitingTimeQueue": 0,
        };
        if let Some(d) = department_id {
            inquiry.insert("department", d);
        }
        self.inquiries.insert_one(inquiry).await?;
        Ok(room.into())
    }

    pub async fn find(&self, id: &str) -> Result<Option<Room>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"_id": id, "t": "l"})
            .await?
            .map(Into::into))
    }

    /// The visitor's open livechat room with this id, if any.
    pub async fn open_of_visitor(&self, id: &str, token: &str) -> Result<Option<Room>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"_id": id, "t": "l", "v.token": token, "open": true})
            .await?
            .map(Into::into))
    }

    /// The visitor's open livechat room, if any.
    pub async fn open_for_token(&self, token: &str) -> Result<Option<Room>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"t": "l", "v.token": token, "open": true})
            .sort(doc! {"ts": -1})
            .await?
            .map(Into::into))
    }

    /// Removes every room of a visitor, with their inquiries (Rocket.Chat's
    /// removal of a guest's data); answers their ids.
    pub async fn remove_of_visitor(&self, token: &str) -> Result<Vec<String>, Error> {
        let ids: Vec<String> = super::ids_in(&self.coll, doc! {"t": "l", "v.token": token})
            .await?
            .into_iter()
            .collect();
        self.coll.delete_many(doc! {"_id": {"$in": &ids}}).await?;
        self.inquiries
            .delete_many(doc! {"rid": {"$in": &ids}})
            .await?;
        Ok(ids)
    }

    /// Writes the room's routing fields from its assignment as recorded:
    /// `servedBy` and a `taken` inquiry when an agent holds it, no
    /// `servedBy` and a `queued` inquiry while it waits, and on close the
    /// room closed and its inquiry gone. Answers the room as it now is.
    pub async fn publish(&self, a: &Assignment) -> Result<Option<Room>, Error> {
        let Some(rid) = a.room_id.as_deref() else {
            return Ok(None);
        };
        let at = now();
        let served_by = match (&a.agent_id, &a.username) {
            (Some(id), Some(username)) => Some(doc! {
                "_id": id, "username": username,
                "ts": bson::DateTime::from_chrono(a.routed_at.unwrap_or(a.created_at)),
            }),
            _ => None,
        };
        let update = match (a.status, served_by) {
            (Status::Open, Some(s)) => {
                self.inquiries
                    .update_many(
                        doc! {"rid": rid},
                        doc! {"$set": {"status": "taken", "takenAt": at, "_updatedAt": at}},
                    )
                    .await?;
                doc! {"$set": {"servedBy": s, "departmentId": a.department_id.clone(), "_updatedAt": at}}
            }
            (Status::Closed, served_by) => {
                self.inquiries.delete_many(doc! {"rid": rid}).await?;
                let closed_at =
                    bson::DateTime::from_chrono(a.closed_at.unwrap_or_else(chrono::Utc::now));
                let mut set = doc! {"closedAt": closed_at, "_updatedAt": at};
                if let Some(s) = served_by {
                    set.insert("servedBy", s);
                }
                doc! {"$set": set, "$unset": {"open": 1}}
            }
            _ => {
                self.inquiries
                    .update_many(
                        doc! {"rid": rid},
                        doc! {"$set": {"status": "queued", "_updatedAt": at}},
                    )
                    .await?;
                doc! {"$unset": {"servedBy": 1}, "$set": {"_updatedAt": at}}
            }
        };
        Ok(self
            .coll
            .find_one_and_update(doc! {"_id": rid, "t": "l"}, update)
            .return_document(ReturnDocument::After)
            .await?
            .map(Into::into))
    }

    /// Marks a room closed by its visitor (who and why, as Rocket.Chat
    /// records it); the routing fields come with the close's publication.
    pub async fn closed_by_visitor(&self, rid: &str, comment: &str) -> Result<(), Error> {
        self.coll
            .update_one(
                doc! {"_id": rid, "t": "l"},
                doc! {"$set": {"closer": "visitor", "closingComment": comment, "_updatedAt": now()}},
            )
            .await?;
        Ok(())
    }

    /// Counts one more message in the room and makes it the last one.
    pub async fn message_added(
        &self,
        rid: &str,
        ts: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Error> {
        let ts = bson::DateTime::from_chrono(ts);
        self.coll
            .update_one(
                doc! {"_id": rid, "t": "l"},
                doc! {"$inc": {"msgs": 1}, "$set": {"lm": ts, "_updatedAt": now()}},
            )
            .await?;
        Ok(())
    }
}
