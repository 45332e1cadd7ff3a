//! Work that waits for its turn is done together.
//!
//! Items are queued under a key (a department, a collection). One batch
//! per key is at the database at a time, per instance; items that arrive
//! meanwhile wait, and the next of them to get the turn takes all that
//! waited (up to [`MAX_BATCH`]) as one batch. So under load the database
//! sees one command where it would have seen one per item, and with one
//! item at a time nothing waits and nothing changes.
//!
//! A batch runs in its own task: a caller that stops waiting (its request
//! bound) does not stop it, and every item of it is answered.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::telemetry::commands;

/// The most items one batch takes.
pub const MAX_BATCH: usize = 64;

/// Keys share turns in stripes; a stripe is held for one batch.
const STRIPES: usize = 64;

type Waiting<T, R> = Vec<(T, oneshot::Sender<(R, u32)>)>;

pub(super) struct Batcher<T, R> {
    waiting: Mutex<HashMap<String, Waiting<T, R>>>,
    turns: Vec<Arc<tokio::sync::Mutex<()>>>,
}

impl<T, R> Default for Batcher<T, R> {
    fn default() -> Self {
        Batcher {
            waiting: Mutex::new(HashMap::new()),
            turns: (0..STRIPES)
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect(),
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Queues `item` under `key` and answers its result, computed by `run`
    /// over a batch of items (answering one result per item, in order).
    /// The database commands of a batch are counted against its items in
    /// equal shares. `None` if the batch stopped without an answer.
    pub async fn submit<F, Fut>(&self, key: &str, item: T, run: F) -> Option<R>
    where
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (reply, mut answer) = oneshot::channel();
        self.lock()
            .entry(key.to_string())
            .or_default()
            .push((item, reply));
        let turn = self.turn(key);
        loop {
            let held = tokio::select! {
                biased;
                answered = &mut answer => return answered.ok().map(note),
                held = turn.clone().lock_owned() => held,
            };
            if let Ok(answered) = answer.try_recv() {
                return Some(note(answered));
            }
            let batch: Waiting<T, R> = {
                let mut waiting = self.lock();
                let Some(queue) = waiting.get_mut(key) else {
                    continue;
                };
                let n = queue.len().min(MAX_BATCH);
                let batch = queue.drain(..n).collect();
                if queue.is_empty() {
                    waiting.remove(key);
                }
                batch
            };
            let (items, replies): (Vec<T>, Vec<_>) = batch.into_iter().unzip();
            let work = run(items);
            tokio::spawn(async move {
                let (results, used) = commands::counted(work).await;
                let n = replies.len().max(1) as u32;
                for (i, (reply, result)) in replies.into_iter().zip(results).enumerate() {
                    // Equal shares; the remainder to the first items.
                    let share = used / n + u32::from((i as u32) < used % n);
                    let _ = reply.send((result, share));
                }
                drop(held);
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting<T, R>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn turn(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        self.turns[(hasher.finish() % STRIPES as u64) as usize].clone()
    }
}

/// Counts the item's share of its batch's commands against the caller.
fn note<R>((result, share): (R, u32)) -> R {
    for _ in 0..share {
        commands::note_command();
    }
    result
}
