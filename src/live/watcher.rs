//! The one change-stream reader of an instance: every change it reads is
//! handed to every live connection of this instance at once (a broadcast
//! channel), so the database serves one stream per instance, however many
//! visitors are connected.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::error::error_chain_fmt;
use crate::store::Store;
use crate::store::changes::Change;

/// Reads changes forever. After a failure (or on a server without change
/// streams) it waits `retry` and opens the stream again, resuming where
/// it stopped when the server still can.
pub async fn run(store: Store, events: broadcast::Sender<Arc<Change>>, retry: Duration) {
    let mut resume = None;
    loop {
        match store.watch_changes(resume.clone()).await {
            Ok(mut feed) => {
                tracing::info!("watching the database for live updates");
                while let Some(next) = feed.next().await {
                    match next {
                        Ok(change) => {
                            resume = feed.resume_token().or(resume);
                            // No receiver is not an error: nobody is connected.
                            let _ = events.send(Arc::new(change));
                        }
                        Err(e) => {
                            tracing::warn!(error = %error_chain_fmt(&e), retry_ms = retry.as_millis() as u64, "the change stream failed; live updates resume when it opens again");
                            resume = feed.resume_token().or(resume);
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %error_chain_fmt(&e), retry_ms = retry.as_millis() as u64, "no change stream on this database: live updates are not delivered until one opens");
            }
        }
        tokio::time::sleep(retry).await;
    }
}
