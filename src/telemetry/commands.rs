//! Counting the database commands of one piece of work (a routing
//! decision): the store notes every command it sends, and a task that runs
//! inside [`counted`] reads how many were its own.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static COMMANDS: Cell<u32>;
}

/// Runs `work`, answering its output and the commands it sent.
pub async fn counted<F: Future>(work: F) -> (F::Output, u32) {
    COMMANDS
        .scope(Cell::new(0), async {
            let out = work.await;
            (out, COMMANDS.with(Cell::get))
        })
        .await
}

/// One command sent by the current task (and counted if it runs inside
/// [`counted`]).
pub fn note_command() {
    let _ = COMMANDS.try_with(|c| c.set(c.get() + 1));
}
