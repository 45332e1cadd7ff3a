//! `switchboard_rate_limits`: rate limits counted in the shared database,
//! so the configured rate is the rate whatever the number of instances.
//!
//! Each key is a GCRA cell (the algorithm of a token bucket, one number
//! per key): `tat`, the time at which the key's bucket is full again. A
//! request at `now` is allowed when `max(tat, now) - now` is within the
//! burst tolerance, and then moves `tat` one emission interval on. The
//! check and the move are one atomic update, so requests through any
//! number of instances are counted exactly once. Keys are stored hashed:
//! they hold client addresses and usernames.

use mongodb::bson::{Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use sha2::{Digest, Sha256};

use super::Store;
use crate::error::Error;

pub const COLLECTION: &str = "switchboard_rate_limits";

pub(super) fn indexes() -> Vec<IndexModel> {
    vec![
        // Idle keys are full again long before they expire.
        IndexModel::builder()
            .keys(doc! {"expireAt": 1})
            .options(
                IndexOptions::builder()
                    .expire_after(std::time::Duration::ZERO)
                    .build(),
            )
            .build(),
    ]
}

pub struct RateLimits {
    coll: Collection<Document>,
}

impl RateLimits {
    pub(super) fn new(store: &Store) -> Self {
        RateLimits {
            coll: store.collection(COLLECTION),
        }
    }

    /// Counts one request of `key` against `per_minute` (a burst of that
    /// many, refilled evenly): `None` when allowed, else how many
    /// milliseconds until it would be.
    pub async fn hit(
        &self,
        limiter: &str,
        key: &str,
        per_minute: u32,
    ) -> Result<Option<u64>, Error> {
        let interval = 60_000 / i64::from(per_minute.max(1));
        let tolerance = interval * (i64::from(per_minute.max(1)) - 1);
        let now = chrono::Utc::now().timestamp_millis();
        let id = hex::encode(Sha256::digest(format!("{limiter}\u{0}{key}").as_bytes()));
        let expire = mongodb::bson::DateTime::from_millis(now + 120_000);
        let update = vec![
            doc! {"$set": {"base": {"$max": [{"$ifNull": ["$tat", now]}, now]}}},
            doc! {"$set": {"allowed": {"$lte": [{"$subtract": ["$base", now]}, tolerance]}}},
            doc! {"$set": {
                "tat": {"$cond": ["$allowed", {"$add": ["$base", interval]}, "$base"]},
                "expireAt": expire,
            }},
            doc! {"$unset": "base"},
        ];
        // The cell is updated in place; a key's first request creates it
        // (allowed, as a full bucket allows), and when first requests race,
        // the losers of the insert update the winner's cell.
        let mut cell = None;
        for _ in 0..3 {
            if let Some(found) = self
                .coll
                .find_one_and_update(doc! {"_id": &id}, update.clone())
                .return_document(ReturnDocument::After)
                .await?
            {
                cell = Some(found);
                break;
            }
            let created = self
                .coll
                .insert_one(
                    doc! {"_id": &id, "tat": now + interval, "allowed": true, "expireAt": expire},
                )
                .await;
            match created {
                Ok(_) => return Ok(None),
                Err(e) if super::is_duplicate_key(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let cell = cell.ok_or_else(|| {
            Error::Unexpected(anyhow::anyhow!("the rate limit cell could not be written"))
        })?;
        if cell.get_bool("allowed").unwrap_or(true) {
            return Ok(None);
        }
        let tat = cell.get_i64("tat").unwrap_or(now);
        Ok(Some((tat - now - tolerance).max(1) as u64))
    }
}
