//! The database's change stream, read as the changes a visitor's live
//! connection cares about. One stream per instance: it watches the rooms
//! (whose `servedBy` the engine publishes after every decision, placement
//! and close), the messages and the assignments (whose writes move places
//! in the queues), whoever wrote them.

use std::time::Duration;

use futures::StreamExt;
use mongodb::bson::{Document, doc};
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType, ResumeToken};
use mongodb::options::FullDocumentType;

use super::Store;
use super::assignments::{self, QueueScope};
use super::messages::{self, Message};
use super::rooms::{self, Room};
use crate::error::Error;

/// How long one wait on the server lasts before the driver asks again.
const AWAIT: Duration = Duration::from_millis(500);

/// One change, read.
#[derive(Debug, Clone)]
pub enum Change {
    /// A livechat room was written: its agent may have changed.
    Room(Room),
    /// A message was stored in a room.
    Message(Message),
    /// An assignment was written: places in its queue may have moved
    /// (in any queue when the change does not say which).
    QueueMoved(Option<QueueScope>),
    /// Changes may have been missed (the stream was opened anew): every
    /// listener should read its state again.
    Resync,
}

/// An open change stream.
pub struct ChangeFeed {
    stream: ChangeStream<ChangeStreamEvent<Document>>,
    /// Set when the stream was opened without resuming.
    fresh: bool,
}

impl Store {
    /// Opens the change stream, resuming after `token` when the server
    /// still can (else from now, with a [`Change::Resync`] first).
    pub async fn watch_changes(&self, token: Option<ResumeToken>) -> Result<ChangeFeed, Error> {
        let open = |token: Option<ResumeToken>| {
            self.db
                .watch()
                .pipeline([doc! {"$match": {"$or": [
                    {"ns.coll": rooms::COLLECTION, "operationType": {"$in": ["insert", "update", "replace"]}},
                    {"ns.coll": messages::COLLECTION, "operationType": "insert"},
                    {"ns.coll": assignments::COLLECTION},
                ]}}])
                .full_document(FullDocumentType::UpdateLookup)
                .max_await_time(AWAIT)
                .resume_after(token)
        };
        if let Some(t) = token {
            match open(Some(t)).await {
                Ok(stream) => {
                    return Ok(ChangeFeed {
                        stream,
                        fresh: false,
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot resume the change stream; opening it from now")
                }
            }
        }
        Ok(ChangeFeed {
            stream: open(None).await?,
            fresh: true,
        })
    }
}

impl ChangeFeed {
    /// The next change; `None` when the stream ended, an error when it
    /// failed (open it again with [`ChangeFeed::resume_token`]).
    pub async fn next(&mut self) -> Option<Result<Change, Error>> {
        if std::mem::take(&mut self.fresh) {
            return Some(Ok(Change::Resync));
        }
        loop {
            let event = match self.stream.next().await? {
                Ok(event) => event,
                Err(e) => return Some(Err(e.into())),
            };
            if let Some(change) = read(event) {
                return Some(Ok(change));
            }
        }
    }

    /// Where to resume after the last change read.
    pub fn resume_token(&self) -> Option<ResumeToken> {
        self.stream.resume_token()
    }
}

fn read(event: ChangeStreamEvent<Document>) -> Option<Change> {
    let collection = event.ns.as_ref()?.coll.as_deref()?;
    match collection {
        rooms::COLLECTION => rooms::from_document(event.full_document?).map(Change::Room),
        messages::COLLECTION => messages::from_document(event.full_document?).map(Change::Message),
        assignments::COLLECTION => match (event.operation_type, event.full_document) {
            (OperationType::Invalidate, _) => None,
            (_, Some(d)) => Some(Change::QueueMoved(Some(
                match d.get_str("requestedDepartmentId") {
                    Ok(department) => QueueScope::Department(department.to_string()),
                    Err(_) => QueueScope::NoDepartment,
                },
            ))),
            (_, None) => Some(Change::QueueMoved(None)),
        },
        _ => None,
    }
}
