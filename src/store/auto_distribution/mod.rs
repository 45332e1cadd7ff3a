//! `switchboard_auto_distribution`: the one Auto Distribution document
//! (`_id: "global"`), read fresh on every call so a change applies on the
//! next routing decision of every instance. Agent limits are not kept here:
//! they are each user's `livechat.maxNumberSimultaneousChat`, the value
//! Rocket.Chat itself enforces. The document's shape is in `config_doc`;
//! the users, departments and links shown as Comm100's `agent` and
//! `department` references are read in `refs`.

mod config_doc;
mod refs;

use std::collections::HashSet;

use mongodb::Collection;
use mongodb::bson::{Document, doc};

use self::config_doc::set_of;
use super::department_agents::{self, LinkDoc};
use super::{Store, departments, is_duplicate_key, users};
use crate::domain::auto_distribution::{AutoDistributionConfig, AutoDistributionPatch, Switches};
use crate::domain::user::ROLE_AGENT;
use crate::error::Error;

pub const COLLECTION: &str = "switchboard_auto_distribution";
const GLOBAL: &str = "global";

pub struct AutoDistribution {
    coll: Collection<Document>,
    users: Collection<Document>,
    departments: Collection<Document>,
    links: Collection<LinkDoc>,
    store: Store,
}

impl AutoDistribution {
    pub(super) fn new(store: &Store) -> Self {
        AutoDistribution {
            coll: store.collection(COLLECTION),
            users: store.collection(users::COLLECTION),
            departments: store.collection(departments::COLLECTION),
            links: store.collection(department_agents::COLLECTION),
            store: store.clone(),
        }
    }

    /// The configuration now; the defaults when none is stored.
    pub async fn load(&self) -> Result<AutoDistributionConfig, Error> {
        config_doc::config_of(self.coll.find_one(doc! {"_id": GLOBAL}).await?)
    }

    /// Applies a checked patch: the configuration's given fields in one
    /// atomic `$set` (so concurrent PUTs of different fields both land and
    /// never interleave within a field), then each given agent limit on its
    /// user document.
    pub async fn apply(&self, patch: &AutoDistributionPatch) -> Result<(), Error> {
        self.upsert(set_of(patch)?).await?;
        for agent in patch.agents.iter().flatten() {
            if let Some(max_chats) = agent.max_chats {
                self.store
                    .users()
                    .set_max_chats(&agent.config.agent_id, max_chats)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn set_enabled(&self, enabled: bool) -> Result<(), Error> {
        let patch = AutoDistributionPatch {
            switches: Switches {
                enabled: Some(enabled),
                ..Default::default()
            },
            ..Default::default()
        };
        self.upsert(set_of(&patch)?).await
    }

    /// `$set` on the one document, creating it when missing. Two first
    /// writes can race to insert it; the loser finds it and updates it.
    async fn upsert(&self, set: Document) -> Result<(), Error> {
        let update = doc! {"$set": set};
        match self
            .coll
            .update_one(doc! {"_id": GLOBAL}, update.clone())
            .upsert(true)
            .await
        {
            Err(e) if is_duplicate_key(&e) => {
                self.coll.update_one(doc! {"_id": GLOBAL}, update).await?;
                Ok(())
            }
            other => other.map(|_| ()).map_err(Into::into),
        }
    }

    /// Which of `ids` are livechat agents.
    pub async fn known_agents(&self, ids: &[&str]) -> Result<HashSet<String>, Error> {
        super::ids_in(&self.users, doc! {"_id": {"$in": ids}, "roles": ROLE_AGENT}).await
    }

    /// Which of `ids` are departments.
    pub async fn known_departments(&self, ids: &[&str]) -> Result<HashSet<String>, Error> {
        super::ids_in(&self.departments, doc! {"_id": {"$in": ids}}).await
    }
}
