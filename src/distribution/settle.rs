//! A routing request answered with an error leaves nothing that acts
//! later.
//!
//! A decision can outlive its request: its record may still land after
//! the request gave up on it (the database stalled past the bound), or it
//! landed and the request failed afterwards (the visitor's room could not
//! be opened, or the caller stopped waiting and was answered 503 by the
//! request bound). Either way the chat is taken back: its id is fenced so
//! a late record can never land, or, when the record landed, the chat is
//! closed, which takes a queued chat out of the queue and frees an open
//! chat's slot as any close does. Taking back is tried in the background
//! until the database answers.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;

use super::Distribution;
use crate::domain::assignment::Assignment;
use crate::error::{Error, error_chain_fmt};

/// The first pause between two tries at taking a chat back; it doubles up
/// to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// Tries before giving up to the log (about ten minutes at the longest
/// pause): by then the repair has freed any slot the chat held.
const TRIES: u32 = 128;

tokio::task_local! {
    static BOUND: RequestBound;
}

/// Whether the request bound answered a request 503 (`http::bounds`).
/// Work that outlives such a request withdraws the chat it decided; a
/// caller that merely went away (its client closed the connection) was
/// told nothing either way, and its next call finds the chat.
#[derive(Clone, Default)]
pub struct RequestBound(Arc<AtomicBool>);

impl RequestBound {
    /// Runs a request's handling under this bound.
    pub async fn scope<F: Future>(&self, handling: F) -> F::Output {
        BOUND.scope(self.clone(), handling).await
    }

    /// The request is being answered 503: set before its handling is
    /// dropped.
    pub fn timed_out(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn answered_503(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Distribution {
    /// Runs `work` to its end even if the caller stops waiting, so it
    /// never stops between two of its writes. When the caller has gone by
    /// the time `work` answers because the request bound answered it 503
    /// (or outside any request), the chat that `work` newly recorded, as
    /// `recorded` names it, is taken back.
    pub async fn run_to_end<T, W, R>(&self, work: W, recorded: R) -> Result<T, Error>
    where
        T: Send + 'static,
        W: Future<Output = Result<T, Error>> + Send + 'static,
        R: FnOnce(&T) -> Option<&Assignment> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let engine = self.clone();
        let bound = BOUND.try_with(RequestBound::clone).ok();
        tokio::spawn(async move {
            if let Err(Ok(unheard)) = answer.send(work.await)
                && bound.as_ref().is_none_or(RequestBound::answered_503)
                && let Some(chat) = recorded(&unheard)
            {
                tracing::warn!(assignment = %chat.id, "a chat was recorded for a request that had stopped waiting; taking it back");
                engine.withdraw(&chat.id, &chat.visitor_token);
            }
        });
        answered
            .await
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("the request's work stopped: {e}")))?
    }

    /// Takes back the chat recorded (or maybe recorded) under `id` for a
    /// request that failed, in the background.
    pub fn withdraw(&self, id: &str, visitor_token: &str) {
        let engine = self.clone();
        let (id, token) = (id.to_string(), visitor_token.to_string());
        tokio::spawn(async move {
            let mut pause = FIRST_PAUSE;
            for _ in 0..TRIES {
                match engine.withdraw_now(&id, &token).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::debug!(error = %error_chain_fmt(&e), assignment = %id, "taking back a failed request's chat failed; trying again");
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            tracing::error!(assignment = %id, "a failed request's chat could not be taken back");
        });
    }

    async fn withdraw_now(&self, id: &str, visitor_token: &str) -> Result<(), Error> {
        if self.store.assignments().fence(id, visitor_token).await? {
            return Ok(());
        }
        self.close_now(id).await.map(|_| ())
    }
}
