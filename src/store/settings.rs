//! `rocketchat_settings`: Rocket.Chat's workspace settings, in Rocket.Chat's
//! document shape, so a Rocket.Chat server on the same database reads and
//! writes the same values.

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Store, is_duplicate_key, now};
use crate::domain::setting::{DEFINITIONS, Definition, Kind, SettingValue};
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_settings";

/// A setting as stored. Rocket.Chat's documents carry many more fields
/// (`i18nLabel`, `sorter`, `section`, …): they are kept as they are.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SettingDoc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    value: Bson,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    hidden: bool,
    #[serde(flatten)]
    extra: Document,
}

/// A setting as Switchboard reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub id: String,
    pub value: Value,
    pub kind: Option<String>,
    pub public: bool,
    pub hidden: bool,
}

impl From<SettingDoc> for Setting {
    fn from(d: SettingDoc) -> Self {
        Setting {
            value: d.value.into_relaxed_extjson(),
            id: d.id,
            kind: d.kind,
            public: d.public,
            hidden: d.hidden,
        }
    }
}

/// The stored type name as a declared kind.
pub fn kind_of(name: Option<&str>) -> Option<Kind> {
    name.and_then(Kind::parse)
}

fn seed_document(d: &Definition, value: &Value) -> Result<Document, Error> {
    let value = bson::to_bson(value)?;
    let package = bson::to_bson(&d.default_value())?;
    let at = now();
    Ok(doc! {
        "value": value,
        "packageValue": package,
        "type": d.kind.as_str(),
        "public": d.public,
        "hidden": d.hidden,
        "blocked": false,
        "group": d.group,
        "i18nLabel": d.id,
        "i18nDescription": format!("{}_Description", d.id),
        "env": false,
        "secret": false,
        "sorter": 0,
        "ts": at,
        "createdAt": at,
        "_updatedAt": at,
    })
}

pub struct Settings {
    coll: Collection<SettingDoc>,
}

impl Settings {
    pub(super) fn new(store: &Store) -> Self {
        Settings {
            coll: store.collection(COLLECTION),
        }
    }

    /// Inserts each declared setting that has no document yet, valued by
    /// `initial` (Rocket.Chat's default unless a configuration key gives
    /// another first value). An existing document is never overwritten.
    pub async fn seed(&self, initial: impl Fn(&Definition) -> Value) -> Result<(), Error> {
        // Two commands however many settings: read which exist, insert the
        // others (another instance seeding at once only causes duplicate
        // keys, which leave its documents as they are).
        let ids: Vec<&str> = DEFINITIONS.iter().map(|d| d.id).collect();
        let present = super::ids_in(&self.coll, doc! {"_id": {"$in": &ids}}).await?;
        let mut missing = Vec::new();
        for d in DEFINITIONS.iter().filter(|d| !present.contains(d.id)) {
            let mut document = seed_document(d, &initial(d))?;
            document.insert("_id", d.id);
            missing.push(document);
        }
        if missing.is_empty() {
            return Ok(());
        }
        let raw: Collection<Document> = self.coll.clone_with_type();
        match raw.insert_many(missing).ordered(false).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The setting with this id, unless hidden.
    pub async fn find_visible(&self, id: &str) -> Result<Option<Setting>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"_id": id, "hidden": {"$ne": true}})
            .await?
            .map(Into::into))
    }

    /// Sets the value of a setting that is not hidden; `None` when there
    /// is none.
    pub async fn set_value(&self, id: &str, value: SettingValue) -> Result<Option<Setting>, Error> {
        let value = bson::to_bson(&value.into_inner())?;
        Ok(self
            .coll
            .find_one_and_update(
                doc! {"_id": id, "hidden": {"$ne": true}},
                doc! {"$set": {"value": value, "_updatedAt": now()}},
            )
            .return_document(ReturnDocument::After)
            .await?
            .map(Into::into))
    }

    /// Every value, by id (what the settings cache holds).
    pub async fn values(&self) -> Result<HashMap<String, Value>, Error> {
        let all: Vec<SettingDoc> = self
            .coll
            .find(doc! {"_id": {"$in": DEFINITIONS.iter().map(|d| d.id).collect::<Vec<_>>()}})
            .await?
            .try_collect()
            .await?;
        Ok(all
            .into_iter()
            .map(|d| (d.id, d.value.into_relaxed_extjson()))
            .collect())
    }

    /// A page of public, visible settings (`_id` order) and their total.
    pub async fn public_page(&self, offset: u64, count: i64) -> Result<(Vec<Setting>, u64), Error> {
        let filter = doc! {"public": true, "hidden": {"$ne": true}};
        let found: Vec<SettingDoc> = self
            .coll
            .find(filter.clone())
            .sort(doc! {"_id": 1})
            .skip(offset)
            .limit(count)
            .await?
            .try_collect()
            .await?;
        let total = self.coll.count_documents(filter).await?;
        Ok((found.into_iter().map(Into::into).collect(), total))
    }

    /// Adds one to an integer setting and answers the value before (as
    /// Rocket.Chat numbers its guests with `Livechat_guest_count`).
    pub async fn next_number(&self, id: &str) -> Result<i64, Error> {
        let before = self
            .coll
            .find_one_and_update(
                doc! {"_id": id},
                doc! {"$inc": {"value": 1_i64}, "$set": {"_updatedAt": now()}},
            )
            .return_document(ReturnDocument::Before)
            .await?;
        Ok(before
            .and_then(|d| match d.value {
                Bson::Int32(i) => Some(i as i64),
                Bson::Int64(i) => Some(i),
                Bson::Double(f) => Some(f as i64),
                _ => None,
            })
            .unwrap_or(1))
    }
}
