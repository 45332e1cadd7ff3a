//! `rocketchat_livechat_visitor`: livechat visitors, in Rocket.Chat's shape
//! (`guest-N` usernames, `visitorEmails`, `phone`), found by their token.

use mongodb::bson::{self, Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{Store, now};
use crate::domain::visitor::Registration;
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_livechat_visitor";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EmailDoc {
    address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PhoneDoc {
    #[serde(rename = "phoneNumber")]
    phone_number: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VisitorDoc {
    #[serde(rename = "_id")]
    id: String,
    username: String,
    token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(
        rename = "visitorEmails",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    emails: Option<Vec<EmailDoc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<Vec<PhoneDoc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ts: Option<bson::DateTime>,
    /// Everything else a Rocket.Chat server keeps on a visitor
    /// (`livechatData`, `lastChat`, `_updatedAt`, …).
    #[serde(flatten)]
    extra: Document,
}

/// A visitor as Switchboard reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Visitor {
    pub id: String,
    pub username: String,
    pub token: String,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub department: Option<String>,
    pub status: Option<String>,
    pub ts: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<VisitorDoc> for Visitor {
    fn from(d: VisitorDoc) -> Self {
        Visitor {
            id: d.id,
            username: d.username,
            token: d.token,
            name: d.name,
            emails: d
                .emails
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.address)
                .collect(),
            phones: d
                .phone
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.phone_number)
                .collect(),
            department: d.department,
            status: d.status,
            ts: d.ts.map(|t| t.to_chrono()),
        }
    }
}

/// The unique index that keeps one visitor per token.
const ONE_PER_TOKEN: &str = "token_unique";

pub(crate) fn indexes() -> Vec<IndexModel> {
    vec![
        // One visitor per token: concurrent registrations of one token
        // (several tabs, several instances) store one visitor.
        IndexModel::builder()
            .keys(doc! {"token": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .partial_filter_expression(doc! {"token": {"$type": "string"}})
                    .name(ONE_PER_TOKEN.to_string())
                    .build(),
            )
            .build(),
    ]
}

pub struct Visitors {
    pub(super) coll: Collection<VisitorDoc>,
}

impl Visitors {
    pub(super) fn new(store: &Store) -> Self {
        Visitors {
            coll: store.collection(COLLECTION),
        }
    }

    pub async fn find_by_token(&self, token: &str) -> Result<Option<Visitor>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"token": token})
            .await?
            .map(Into::into))
    }

    /// Registers the visitor, or updates the one with this token: the
    /// fields sent replace those stored. `username` names a new visitor
    /// (Rocket.Chat's `guest-N` unless the client chose one).
    pub async fn register(
        &self,
        r: &Registration,
        department_id: Option<&str>,
        username: impl FnOnce() -> String,
    ) -> Result<Visitor, Error> {
        let mut set = doc! {"_updatedAt": now()};
        if let Some(name) = &r.name {
            set.insert("name", name);
        }
        if let Some(email) = &r.email {
            set.insert("visitorEmails", vec![doc! {"address": email.as_str()}]);
        }
        if let Some(phone) = &r.phone {
            set.insert("phone", vec![doc! {"phoneNumber": phone}]);
        }
        if let Some(d) = department_id {
            set.insert("department", d);
        }
        let username = r.username.clone().unwrap_or_else(username);
        let update = doc! {
            "$set": set,
            "$setOnInsert": {"_id": crate::domain::id::new_id(), "username": username,
                "ts": now(), "status": "online"},
        };
        let upsert = || {
            self.coll
                .find_one_and_update(doc! {"token": r.token.as_str()}, update.clone())
                .upsert(true)
                .return_document(ReturnDocument::After)
        };
        // A concurrent registration of the same token may insert the
        // visitor first: the unique index refuses ours, or (on some
        // servers) the upsert answers no document. Ours then updates it.
        for _ in 0..3 {
            match upsert().await {
                Ok(Some(saved)) => return Ok(saved.into()),
                Ok(None) => {}
                Err(e) if super::is_duplicate_key(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Unavailable(anyhow::anyhow!(
            "the visitor kept changing while it registered"
        )))
    }

    /// Sets the visitor's status; `false` when no visitor has this token.
    pub async fn set_status(&self, token: &str, status: &str) -> Result<bool, Error> {
        let result = self
            .coll
            .update_one(
                doc! {"token": token},
                doc! {"$set": {"status": status, "_updatedAt": now()}},
            )
            .await?;
        Ok(result.matched_count > 0)
    }

    pub async fn delete(&self, id: &str) -> Result<bool, Error> {
        Ok(self.coll.delete_one(doc! {"_id": id}).await?.deleted_count > 0)
    }
}
