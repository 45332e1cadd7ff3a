//! `rocketchat_livechat_department`: department documents.

use mongodb::bson::{Document, doc};
use mongodb::{Collection, IndexModel};

use super::{Store, now};
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_livechat_department";

pub(super) fn indexes() -> Vec<IndexModel> {
    vec![IndexModel::builder().keys(doc! {"name": 1}).build()]
}

pub struct Departments {
    pub(super) coll: Collection<Document>,
}

impl Departments {
    pub(super) fn new(store: &Store) -> Self {
        Departments {
            coll: store.collection(COLLECTION),
        }
    }

    /// Adds `delta` to the department's `numAgents`.
    pub async fn add_to_num_agents(&self, department_id: &str, delta: i32) -> Result<(), Error> {
        self.coll
            .update_one(
                doc! {"_id": department_id},
                doc! {"$inc": {"numAgents": delta}, "$set": {"_updatedAt": now()}},
            )
            .await?;
        Ok(())
    }
}
