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

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

/// Departments share stripes; a stripe is held for one database round
/// trip, so a collision costs little.
const STRIPES: usize = 64;

pub(super) struct Gate {
    stripes: Vec<Mutex<()>>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl Gate {
    /// Waits for this department's turn (`None`: routing without one).
    pub(super) async fn enter(&self, department_id: Option<&str>) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        department_id.hash(&mut hasher);
        let stripe = (hasher.finish() % STRIPES as u64) as usize;
        self.stripes[stripe].lock().await
    }
}
