//! `rocketchat_roles`: the role documents Rocket.Chat's admin screens list.

use mongodb::Collection;
use mongodb::bson::{Document, doc};

use super::{Store, is_duplicate_key, now};
use crate::domain::user::KNOWN_ROLES;
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_roles";

pub struct Roles {
    coll: Collection<Document>,
}

impl Roles {
    pub(super) fn new(store: &Store) -> Self {
        Roles {
            coll: store.collection(COLLECTION),
        }
    }

    /// Inserts each known role that is missing; existing ones are kept.
    pub async fn seed(&self) -> Result<(), Error> {
        for role in KNOWN_ROLES {
            let result = self
                .coll
                .update_one(
                    doc! {"_id": *role},
                    doc! {"$setOnInsert": {
                        "name": *role,
                        "scope": "Users",
                        "description": "",
                        "protected": true,
                        "mandatory2fa": false,
                        "_updatedAt": now(),
                    }},
                )
                .upsert(true)
                .await;
            match result {
                Ok(_) => {}
                // Another instance inserted it at the same moment.
                Err(e) if is_duplicate_key(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

impl Roles {
    /// Ids among `ids` that have no role document.
    pub async fn missing(&self, ids: &[String]) -> Result<Vec<String>, Error> {
        super::missing_ids(&self.coll, ids).await
    }
}
