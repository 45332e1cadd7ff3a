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
//! bound) does not stop it, and every item of it is answered. An item whose
//! caller stopped waiting before its batch began is dropped, never done.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::gate::Gate;
use crate::telemetry::commands;

/// The most items one batch takes.
pub const MAX_BATCH: usize = 64;

type Waiting<T, R> = Vec<(T, oneshot::Sender<(R, u32)>)>;

pub(super) struct Batcher<T, R> {
    waiting: Mutex<HashMap<String, Waiting<T, R>>>,
    turns: Gate,
}

impl<T, R> Default for Batcher<T, R> {
    fn default() -> Self {
        Batcher {
            waiting: Mutex::new(HashMap::new()),
            turns: Gate::default(),
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
        let turn = self.turns.turn(Some(key));
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
                // Items whose callers stopped waiting are not done: their
                // callers have answered already. Ours is still here (its
                // answer would have come before the turn), so the batch is
                // never empty.
                queue.retain(|(_, reply)| !reply.is_closed());
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
}

/// Counts the item's share of its batch's commands against the caller.
fn note<R>((result, share): (R, u32)) -> R {
    for _ in 0..share {
        commands::note_command();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::time::Duration;

    type Run = Arc<
        dyn Fn(Vec<&'static str>) -> Pin<Box<dyn Future<Output = Vec<usize>> + Send>> + Send + Sync,
    >;

    /// A batcher whose run answers each item's length, records each batch
    /// it is given, and holds the first batch until `release` is notified.
    struct Held {
        batcher: Arc<Batcher<&'static str, usize>>,
        seen: Arc<Mutex<Vec<Vec<&'static str>>>>,
        release: Arc<tokio::sync::Notify>,
        run: Run,
    }

    impl Held {
        fn new() -> Self {
            let seen = Arc::new(Mutex::new(Vec::<Vec<&'static str>>::new()));
            let release = Arc::new(tokio::sync::Notify::new());
            let run: Run = {
                let (seen, release) = (seen.clone(), release.clone());
                Arc::new(move |items: Vec<&'static str>| {
                    let first = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(items.clone());
                        seen.len() == 1
                    };
                    let release = release.clone();
                    Box::pin(async move {
                        if first {
                            release.notified().await;
                        }
                        items.iter().map(|i| i.len()).collect()
                    })
                })
            };
            Held {
                batcher: Arc::default(),
                seen,
                release,
                run,
            }
        }

        fn submit(&self, item: &'static str) -> tokio::task::JoinHandle<Option<usize>> {
            let (batcher, run) = (self.batcher.clone(), self.run.clone());
            tokio::spawn(async move { batcher.submit("k", item, move |b| run(b)).await })
        }

        fn seen(&self) -> Vec<Vec<&'static str>> {
            self.seen.lock().unwrap().clone()
        }
    }

    async fn a_moment() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    #[tokio::test]
    async fn items_waiting_together_are_done_as_one_batch_in_order() {
        let held = Held::new();
        let first = held.submit("a");
        a_moment().await;
        let later = [held.submit("bb"), held.submit("ccc")];
        a_moment().await;
        held.release.notify_one();
        assert_eq!(first.await.unwrap(), Some(1));
        let mut answers = Vec::new();
        for task in later {
            answers.push(task.await.unwrap());
        }
        assert_eq!(answers, vec![Some(2), Some(3)]);
        assert_eq!(held.seen(), vec![vec!["a"], vec!["bb", "ccc"]]);
    }

    #[tokio::test]
    async fn an_item_whose_caller_stopped_waiting_is_never_done() {
        let held = Held::new();
        let first = held.submit("a");
        a_moment().await;
        // Waits behind the held batch, then gives up.
        let late = held.submit("late");
        a_moment().await;
        late.abort();
        assert!(late.await.unwrap_err().is_cancelled());
        held.release.notify_one();
        assert_eq!(first.await.unwrap(), Some(1));
        assert_eq!(held.submit("next").await.unwrap(), Some(4));
        assert_eq!(held.seen(), vec![vec!["a"], vec!["next"]]);
    }
}
