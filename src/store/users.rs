//! `users`: Rocket.Chat's user documents (passwords and login tokens are
//! in `credentials`). Writes use `$set`/`$push` on the fields Switchboard
//! owns, so fields written by a Rocket.Chat server are kept.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::options::{FindOptions, IndexOptions};
use mongodb::{Collection, IndexModel};
use regex::escape;
use serde::{Deserialize, Serialize};

use super::{Store, duplicate_index, is_duplicate_key, now, num};
use crate::domain::pagination::Page;
use crate::domain::user::{LivechatStatus, NewUser, User, UserEmail, UserStatus};
use crate::error::Error;

pub const COLLECTION: &str = "users";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EmailDoc {
    pub address: String,
    #[serde(default)]
    pub verified: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LivechatDoc {
    #[serde(
        rename = "maxNumberSimultaneousChat",
        default,
        deserialize_with = "num::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_number_simultaneous_chat: Option<i64>,
}

/// The part of a user document Switchboard reads. `services` is read only
/// where a password is checked (see [`PasswordDoc`]).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct UserDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub emails: Vec<EmailDoc>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(rename = "statusLivechat", default)]
    pub status_livechat: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub livechat: Option<LivechatDoc>,
}

fn yes() -> bool {
    true
}

impl From<UserDoc> for User {
    fn from(d: UserDoc) -> Self {
        User {
            username: d.username.unwrap_or_default(),
            name: d.name.unwrap_or_default(),
            emails: d
                .emails
                .into_iter()
                .map(|e| UserEmail {
                    address: e.address,
                    verified: e.verified,
                })
                .collect(),
            roles: d.roles,
            status: d
                .status
                .and_then(|s| s.parse().ok())
                .unwrap_or(UserStatus::Offline),
            status_livechat: d
                .status_livechat
                .and_then(|s| s.parse().ok())
                .unwrap_or(LivechatStatus::NotAvailable),
            active: d.active,
            max_chats: d
                .livechat
                .and_then(|l| l.max_number_simultaneous_chat)
                .map(|n| n.clamp(0, i64::from(u32::MAX)) as u32),
            id: d.id,
        }
    }
}

/// Everything but credentials.
pub(super) fn public_projection() -> Document {
    doc! {"services": 0}
}

/// The unique index on e-mail addresses, under MongoDB's default name (the
/// one Rocket.Chat's own index on the same key has).
const EMAIL_INDEX: &str = "emails.address_1";

pub(super) fn indexes() -> Vec<IndexModel> {
    let unique_sparse = || IndexOptions::builder().unique(true).sparse(true).build();
    vec![
        IndexModel::builder()
            .keys(doc! {"username": 1})
            .options(unique_sparse())
            .build(),
        IndexModel::builder()
            .keys(doc! {"emails.address": 1})
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .sparse(true)
                    .name(EMAIL_INDEX.to_string())
                    .build(),
            )
            .build(),
        IndexModel::builder()
            .keys(doc! {"services.resume.loginTokens.hashedToken": 1})
            .build(),
        IndexModel::builder().keys(doc! {"roles": 1}).build(),
    ]
}

pub struct Users {
    pub(super) coll: Collection<UserDoc>,
}

impl Users {
    pub(super) fn new(store: &Store) -> Self {
        Users {
            coll: store.collection(COLLECTION),
        }
    }

    fn raw(&self) -> Collection<Document> {
        self.coll.clone_with_type()
    }

    /// Inserts a new user; a taken username or e-mail is a 400.
    pub async fn insert(&self, user: &NewUser, bcrypt: String) -> Result<User, Error> {
        let id = crate::domain::id::new_id();
        let at = now();
        let document = doc! {
            "_id": &id,
            "createdAt": at,
            "_updatedAt": at,
            "type": "user",
            "username": user.username.as_str(),
            "name": &user.name,
            "emails": [{"address": user.email.as_str(), "verified": false}],
            "roles": &user.roles,
            "status": UserStatus::Offline.as_str(),
            "statusLivechat": LivechatStatus::NotAvailable.as_str(),
            "active": user.active,
            "services": {"password": {"bcrypt": bcrypt}},
        };
        match self.raw().insert_one(document).await {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {
                let taken = if duplicate_index(&e) == Some(EMAIL_INDEX) {
                    user.email.as_str()
                } else {
                    user.username.as_str()
                };
                return Err(Error::field_unavailable(taken));
            }
            Err(e) => return Err(e.into()),
        }
        self.find_by_id(&id)
            .await?
            .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("user {id} vanished after insert")))
    }

    pub async fn find_by_id(&self, id: &str) -> Result<Option<User>, Error> {
        let found = self
            .coll
            .find_one(doc! {"_id": id})
            .projection(public_projection())
            .await?;
        Ok(found.map(User::from))
    }

    pub async fn find_by_username(&self, username: &str) -> Result<Option<User>, Error> {
        let found = self
            .coll
            .find_one(doc! {"username": username})
            .projection(public_projection())
            .await?;
        Ok(found.map(User::from))
    }

    /// Users by id, in no particular order; unknown ids are left out.
    pub async fn find_by_ids(&self, ids: &[String]) -> Result<Vec<User>, Error> {
        let users: Vec<UserDoc> = self
            .coll
            .find(doc! {"_id": {"$in": ids}})
            .projection(public_projection())
            .await?
            .try_collect()
            .await?;
        Ok(users.into_iter().map(User::from).collect())
    }

    /// Adds a role; answers the updated user, or `None` when no such user.
    pub async fn add_role(&self, user_id: &str, role: &str) -> Result<Option<User>, Error> {
        self.update_returning(
            user_id,
            doc! {"$addToSet": {"roles": role}, "$set": {"_updatedAt": now()}},
        )
        .await
    }

    pub async fn set_status(
        &self,
        user_id: &str,
        status: UserStatus,
        message: Option<&str>,
    ) -> Result<Option<User>, Error> {
        let mut set = doc! {
            "status": status.as_str(),
            "statusDefault": status.as_str(),
            "_updatedAt": now(),
        };
        if let Some(m) = message {
            set.insert("statusText", m);
        }
        self.update_returning(user_id, doc! {"$set": set}).await
    }

    pub async fn set_livechat_status(
        &self,
        user_id: &str,
        status: LivechatStatus,
    ) -> Result<Option<User>, Error> {
        self.update_returning(
            user_id,
            doc! {"$set": {"statusLivechat": status.as_str(), "_updatedAt": now()}},
        )
        .await
    }

    pub async fn set_max_chats(
        &self,
        user_id: &str,
        max_chats: u32,
    ) -> Result<Option<User>, Error> {
        self.update_returning(
            user_id,
            doc! {"$set": {
                "livechat.maxNumberSimultaneousChat": i64::from(max_chats),
                "_updatedAt": now(),
            }},
        )
        .await
    }

    async fn update_returning(
        &self,
        user_id: &str,
        update: Document,
    ) -> Result<Option<User>, Error> {
        let found = self
            .coll
            .find_one_and_update(doc! {"_id": user_id}, update)
            .return_document(mongodb::options::ReturnDocument::After)
            .projection(public_projection())
            .await?;
        Ok(found.map(User::from))
    }

    /// Users holding `role`, by username, filtered by a case-insensitive
    /// `text` match on username or name; with the total.
    pub async fn list_with_role(
        &self,
        role: &str,
        text: Option<&str>,
        page: Page,
    ) -> Result<(Vec<User>, u64), Error> {
        let mut filter = doc! {"roles": role};
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            // A `$regex` string, not a BSON regex: its pattern may hold any
            // character the client sent, NUL included.
            let pattern = super::case_insensitive(escape(text));
            filter.insert(
                "$or",
                vec![doc! {"username": pattern.clone()}, doc! {"name": pattern}],
            );
        }
        let total = self.coll.count_documents(filter.clone()).await?;
        let options = FindOptions::builder()
            .sort(doc! {"username": 1})
            .skip(page.offset)
            .limit(page.count as i64)
            .projection(public_projection())
            .build();
        let users: Vec<UserDoc> = self
            .coll
            .find(filter)
            .with_options(options)
            .await?
            .try_collect()
            .await?;
        Ok((users.into_iter().map(User::from).collect(), total))
    }

    /// How many users hold `role`.
    pub async fn count_with_role(&self, role: &str) -> Result<u64, Error> {
        Ok(self.coll.count_documents(doc! {"roles": role}).await?)
    }
}

impl Users {
    /// Removes `role` from the user; answers whether the user held it.
    pub async fn remove_role_if_held(&self, user_id: &str, role: &str) -> Result<bool, Error> {
        let result = self
            .coll
            .update_one(
                doc! {"_id": user_id, "roles": role},
                doc! {"$pull": {"roles": role}, "$set": {"_updatedAt": now()}},
            )
            .await?;
        Ok(result.matched_count > 0)
    }
}

impl Users {
    /// Whether any active livechat agent is online and available (the
    /// widget's `online` flag).
    pub async fn any_agent_available(&self) -> Result<bool, Error> {
        let found = self
            .coll
            .find_one(doc! {
                "roles": crate::domain::user::ROLE_AGENT,
                "active": true,
                "statusLivechat": LivechatStatus::Available.as_str(),
                "status": {"$exists": true, "$ne": UserStatus::Offline.as_str()},
            })
            .projection(doc! {"_id": 1, "roles": 1})
            .await?;
        Ok(found.is_some())
    }
}
