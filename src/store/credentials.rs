//! The credentials in a user document, in Meteor's layout: the bcrypt hash
//! under `services.password.bcrypt` and hashed login tokens under
//! `services.resume.loginTokens`. Read only here, never with the user.

use mongodb::bson::doc;
use serde::Deserialize;

use super::now;
use super::users::{Users, public_projection};
use crate::domain::user::User;
use crate::error::Error;

#[derive(Debug, Deserialize)]
struct PasswordDoc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    services: Option<ServicesDoc>,
}

#[derive(Debug, Deserialize)]
struct ServicesDoc {
    #[serde(default)]
    password: Option<BcryptDoc>,
}

#[derive(Debug, Deserialize)]
struct BcryptDoc {
    #[serde(default)]
    bcrypt: Option<String>,
}

impl Users {
    /// The user and its bcrypt hash, by username or e-mail address.
    pub async fn find_for_login(&self, login: &str) -> Result<Option<(User, String)>, Error> {
        let filter = doc! {"$or": [
            {"username": login},
            {"emails.address": login.to_lowercase()},
        ]};
        let Some(user) = self
            .coll
            .find_one(filter)
            .projection(public_projection())
            .await?
        else {
            return Ok(None);
        };
        let secret = self
            .coll
            .clone_with_type::<PasswordDoc>()
            .find_one(doc! {"_id": &user.id})
            .projection(doc! {"services.password.bcrypt": 1})
            .await?;
        let hash = secret
            .filter(|s| s.id == user.id)
            .and_then(|s| s.services)
            .and_then(|s| s.password)
            .and_then(|p| p.bcrypt);
        Ok(hash.map(|h| (User::from(user), h)))
    }

    /// The active user that owns this hashed login token.
    pub async fn find_by_login_token(
        &self,
        user_id: &str,
        hashed_token: &str,
    ) -> Result<Option<User>, Error> {
        let found = self
            .coll
            .find_one(doc! {
                "_id": user_id,
                "services.resume.loginTokens.hashedToken": hashed_token,
            })
            .projection(public_projection())
            .await?;
        Ok(found.map(User::from))
    }

    pub async fn add_login_token(&self, user_id: &str, hashed_token: &str) -> Result<(), Error> {
        self.coll
            .update_one(
                doc! {"_id": user_id},
                doc! {"$push": {"services.resume.loginTokens": {
                    "when": now(), "hashedToken": hashed_token,
                }}},
            )
            .await?;
        Ok(())
    }

    pub async fn remove_login_token(&self, user_id: &str, hashed_token: &str) -> Result<(), Error> {
        self.coll
            .update_one(
                doc! {"_id": user_id},
                doc! {"$pull": {"services.resume.loginTokens": {"hashedToken": hashed_token}}},
            )
            .await?;
        Ok(())
    }
}
