//! `rocketchat_permissions`: `{_id: <permission>, roles: [...]}`. Read on
//! every check, so a change takes effect on the next request.

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{self, doc};
use serde::{Deserialize, Serialize};

use super::{Store, is_duplicate_key, now};
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_permissions";

/// A permission and the roles granted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub roles: Vec<String>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GrantDoc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(
        rename = "_updatedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    updated_at: Option<bson::DateTime>,
}

impl From<GrantDoc> for Grant {
    fn from(d: GrantDoc) -> Self {
        Grant {
            id: d.id,
            roles: d.roles,
            updated_at: d.updated_at.map(|t| t.to_chrono()),
        }
    }
}

pub struct Permissions {
    coll: Collection<GrantDoc>,
}

impl Permissions {
    pub(super) fn new(store: &Store) -> Self {
        Permissions {
            coll: store.collection(COLLECTION),
        }
    }

    /// Inserts Rocket.Chat's default grant for each permission that has no
    /// document; an existing document is never overwritten.
    pub async fn seed(&self, grants: &[(&str, &[&str])]) -> Result<(), Error> {
        for (permission, roles) in grants {
            let result = self
                .coll
                .update_one(
                    doc! {"_id": *permission},
                    doc! {"$setOnInsert": {"roles": roles.to_vec(), "_updatedAt": now()}},
                )
                .upsert(true)
                .await;
            match result {
                Ok(_) => {}
                Err(e) if is_duplicate_key(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Which of `permissions` are granted to at least one of `roles`.
    pub async fn granted(
        &self,
        roles: &[String],
        permissions: &[&str],
    ) -> Result<Vec<String>, Error> {
        let found: Vec<GrantDoc> = self
            .coll
            .find(doc! {"_id": {"$in": permissions}, "roles": {"$in": roles}})
            .projection(doc! {"_id": 1})
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(|g| g.id).collect())
    }

    /// Every permission, optionally only those changed after `since`.
    pub async fn list(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<Grant>, Error> {
        let filter = match since {
            Some(t) => doc! {"_updatedAt": {"$gt": bson::DateTime::from_chrono(t)}},
            None => doc! {},
        };
        let found: Vec<GrantDoc> = self
            .coll
            .find(filter)
            .sort(doc! {"_id": 1})
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(Grant::from).collect())
    }

    /// Ids among `ids` that have no permission document.
    pub async fn missing(&self, ids: &[String]) -> Result<Vec<String>, Error> {
        super::missing_ids(&self.coll, ids).await
    }

    /// Replaces the roles of each listed permission.
    pub async fn set_roles(&self, grants: &[(String, Vec<String>)]) -> Result<(), Error> {
        for (id, roles) in grants {
            self.coll
                .update_one(
                    doc! {"_id": id},
                    doc! {"$set": {"roles": roles, "_updatedAt": now()}},
                )
                .await?;
        }
        Ok(())
    }
}
