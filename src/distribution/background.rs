//! How the engine's work outlives a request or runs on a clock: work that
//! must not stop between two of its writes runs to its end on its own
//! task, and periodic work runs at a fixed pace, never piling up ticks.

use std::future::Future;
use std::time::Duration;

use crate::error::Error;

/// Runs `work` to its end even if the caller stops waiting, so it never
/// stops between two of its writes; answers what it answered.
pub(super) async fn to_end<T, W>(work: W) -> Result<T, Error>
where
    T: Send + 'static,
    W: Future<Output = Result<T, Error>> + Send + 'static,
{
    tokio::spawn(work)
        .await
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("the work stopped: {e}")))?
}

/// Runs `pass` every `every_ms` milliseconds, numbering the passes from
/// 0; a pass that overruns delays the next rather than doubling it up.
/// With `every_ms` 0 it never runs.
pub(super) async fn every<F, P>(every_ms: u64, mut pass: F)
where
    F: FnMut(u64) -> P,
    P: Future<Output = ()>,
{
    if every_ms == 0 {
        return std::future::pending().await;
    }
    let mut tick = tokio::time::interval(Duration::from_millis(every_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 0_u64.. {
        tick.tick().await;
        pass(n).await;
    }
}
