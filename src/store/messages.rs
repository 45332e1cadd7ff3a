//! `rocketchat_message`: the messages of livechat rooms, in Rocket.Chat's
//! shape (`rid`, `msg`, `ts`, `u`, and `token` for a visitor's message).

use futures::TryStreamExt;
use mongodb::bson::{self, Document, doc};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{Store, now};
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_message";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuthorDoc {
    #[serde(rename = "_id")]
    id: String,
    username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MessageDoc {
    #[serde(rename = "_id")]
    id: String,
    rid: String,
    #[serde(default)]
    msg: String,
    ts: bson::DateTime,
    u: AuthorDoc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    /// `t` (a system message's type), `_updatedAt`, `mentions`, … as
    /// Rocket.Chat writes them.
    #[serde(flatten)]
    extra: Document,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Author {
    pub id: String,
    pub username: String,
    pub name: Option<String>,
}

/// A message as Switchboard reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub rid: String,
    pub msg: String,
    pub ts: chrono::DateTime<chrono::Utc>,
    pub author: Author,
    pub token: Option<String>,
    pub alias: Option<String>,
    /// A system message's type (`t`), none for a plain message.
    pub kind: Option<String>,
}

impl From<MessageDoc> for Message {
    fn from(d: MessageDoc) -> Self {
        Message {
            kind: d.extra.get_str("t").ok().map(str::to_string),
            id: d.id,
            rid: d.rid,
            msg: d.msg,
            ts: d.ts.to_chrono(),
            author: Author {
                id: d.u.id,
                username: d.u.username,
                name: d.u.name,
            },
            token: d.token,
            alias: d.alias,
        }
    }
}

/// A message document as a change event carries it.
pub(crate) fn from_document(d: Document) -> Option<Message> {
    bson::from_document::<MessageDoc>(d).ok().map(Message::from)
}

/// A message to store.
pub struct NewMessage<'a> {
    pub id: String,
    pub rid: &'a str,
    pub msg: &'a str,
    pub author: Author,
    pub token: Option<&'a str>,
    pub alias: Option<&'a str>,
}

pub(crate) fn indexes() -> Vec<IndexModel> {
    vec![IndexModel::builder().keys(doc! {"rid": 1, "ts": 1}).build()]
}

pub struct Messages {
    coll: Collection<MessageDoc>,
}

impl Messages {
    pub(super) fn new(store: &Store) -> Self {
        Messages {
            coll: store.collection(COLLECTION),
        }
    }

    /// Stores a message; a repeated id (the widget retrying a send) answers
    /// the message already stored.
    pub async fn insert(&self, m: NewMessage<'_>) -> Result<Message, Error> {
        let at = now();
        let doc = MessageDoc {
            id: m.id.clone(),
            rid: m.rid.to_string(),
            msg: m.msg.to_string(),
            ts: at,
            u: AuthorDoc {
                id: m.author.id,
                username: m.author.username,
                name: m.author.name,
            },
            token: m.token.map(str::to_string),
            alias: m.alias.map(str::to_string),
            extra: doc! {"_updatedAt": at, "mentions": [], "channels": []},
        };
        match self.coll.insert_one(&doc).await {
            Ok(_) => Ok(doc.into()),
            Err(e) if super::is_duplicate_key(&e) => self
                .coll
                .find_one(doc! {"_id": &m.id, "rid": m.rid})
                .await?
                .map(Into::into)
                .ok_or_else(|| Error::code("error-message-id-taken")),
            Err(e) => Err(e.into()),
        }
    }

    /// The newest `limit` messages of a room before `before` (if given),
    /// newest first.
    pub async fn history(
        &self,
        rid: &str,
        before: Option<chrono::DateTime<chrono::Utc>>,
        limit: i64,
    ) -> Result<Vec<Message>, Error> {
        let mut filter = doc! {"rid": rid, "_hidden": {"$ne": true}};
        if let Some(b) = before {
            filter.insert("ts", doc! {"$lt": bson::DateTime::from_chrono(b)});
        }
        let found: Vec<MessageDoc> = self
            .coll
            .find(filter)
            .sort(doc! {"ts": -1})
            .limit(limit)
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    pub async fn remove_of_rooms(&self, rids: &[String]) -> Result<(), Error> {
        self.coll.delete_many(doc! {"rid": {"$in": rids}}).await?;
        Ok(())
    }
}
