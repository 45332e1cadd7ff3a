//! Several writes as one: in a MongoDB transaction where the server has
//! them, else one by one (the caller orders its writes so that every
//! intermediate state is valid). Whether the server has transactions is
//! learnt on the first try and remembered by the store.

use std::sync::atomic::Ordering;

use mongodb::ClientSession;
use mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};

use super::{Store, is_duplicate_key, server_code};
use crate::error::Error;

const MAX_ATTEMPTS: u32 = 20;
pub(super) const TXN_UNKNOWN: u8 = 0;
pub(super) const TXN_SUPPORTED: u8 = 1;
pub(super) const TXN_UNSUPPORTED: u8 = 2;

enum TxnFailure {
    Unsupported,
    Failed(mongodb::error::Error),
}

/// A server without transactions: a standalone answers 20
/// (IllegalOperation: "Transaction numbers are only allowed on a replica
/// set member or mongos"), others 263 or 303.
fn unsupported(e: &mongodb::error::Error) -> bool {
    matches!(server_code(e), Some(20) | Some(263) | Some(303))
}

fn classify(e: mongodb::error::Error) -> TxnFailure {
    if unsupported(&e) {
        TxnFailure::Unsupported
    } else {
        TxnFailure::Failed(e)
    }
}

fn retryable(e: &mongodb::error::Error) -> bool {
    e.contains_label(TRANSIENT_TRANSACTION_ERROR)
        || is_duplicate_key(e)
        || server_code(e) == Some(112)
}

/// Runs `work` in a transaction, retried while it conflicts, when the
/// server has transactions; else runs it once without a session.
pub(super) async fn run<T>(
    store: &Store,
    mut work: impl AsyncFnMut(&mut Option<&mut ClientSession>) -> Result<T, mongodb::error::Error>,
) -> Result<T, Error> {
    if store.transactions.load(Ordering::Relaxed) != TXN_UNSUPPORTED {
        match in_transaction(store, &mut work).await {
            Ok(done) => {
                store.transactions.store(TXN_SUPPORTED, Ordering::Relaxed);
                return Ok(done);
            }
            Err(TxnFailure::Failed(e)) => return Err(e.into()),
            Err(TxnFailure::Unsupported) => {
                if store.transactions.swap(TXN_UNSUPPORTED, Ordering::Relaxed) == TXN_UNKNOWN {
                    tracing::warn!(
                        "the MongoDB server has no transactions; multi-document writes run step by step"
                    );
                }
            }
        }
    }
    Ok(work(&mut None).await?)
}

async fn in_transaction<T>(
    store: &Store,
    work: &mut impl AsyncFnMut(&mut Option<&mut ClientSession>) -> Result<T, mongodb::error::Error>,
) -> Result<T, TxnFailure> {
    let mut session = store.client().start_session().await.map_err(classify)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        session.start_transaction().await.map_err(classify)?;
        let outcome = work(&mut Some(&mut session)).await;
        let error = match outcome {
            Ok(done) => match commit(&mut session).await {
                Ok(()) => return Ok(done),
                Err(e) => e,
            },
            Err(e) => {
                let _ = session.abort_transaction().await;
                e
            }
        };
        if attempt >= MAX_ATTEMPTS || !retryable(&error) {
            return Err(classify(error));
        }
        // Concurrent saves of the same department conflict; back off a
        // little more each time so they finish one after the other.
        tokio::time::sleep(std::time::Duration::from_millis(u64::from(attempt) * 3)).await;
    }
}

async fn commit(session: &mut ClientSession) -> Result<(), mongodb::error::Error> {
    let mut tries = 0;
    loop {
        match session.commit_transaction().await {
            Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && tries < 3 => {
                tries += 1;
            }
            other => return other,
        }
    }
}
