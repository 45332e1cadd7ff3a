//! One take at a time per department, per instance.
//!
//! A take is one atomic `findOneAndUpdate` that picks the best link and
//! bumps it. Concurrent takes of one department would all read the same
//! best link before any of them writes (a server may re-check the filter
//! when it writes, but not the sort), and pile onto that agent. Through the
//! gate, the database sees at most one take per department from each
//! instance, so with N instances a chat goes to an agent at most N - 1
//! places from the exact least-served order, however many requests arrive.
//! Only the take is gated: the reservation and the record run in parallel.
//! The batcher (`batch.rs`) gives its keys their turns with a gate of its
//! own.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

/// Keys share stripes; a stripe is held for one database round trip (or
/// one batch), so a collision costs little.
const STRIPES: usize = 64;

pub(super) struct Gate {
    stripes: Vec<Arc<Mutex<()>>>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
        }
    }
}

impl Gate {
    /// Waits for this key's turn (`None`: routing without a department).
    pub(super) async fn enter(&self, key: Option<&str>) -> OwnedMutexGuard<()> {
        self.turn(key).lock_owned().await
    }

    /// The lock that gives this key its turns.
    pub(super) fn turn(&self, key: Option<&str>) -> Arc<Mutex<()>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        self.stripes[(hasher.finish() % STRIPES as u64) as usize].clone()
    }
}
