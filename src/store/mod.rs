//! The only layer that talks to MongoDB.
//!
//! Contract: every function takes and returns domain types (or API-neutral
//! records), never BSON; every driver failure leaves as [`Error`] — a server
//! that cannot be reached becomes [`Error::Unavailable`] (503), a duplicate
//! key on a known unique index becomes the matching client error, anything
//! else [`Error::Unexpected`]. Collections and document shapes are
//! Rocket.Chat's, so Switchboard can share a database with a Rocket.Chat
//! server. Each collection's indexes are declared beside its queries and
//! created, idempotently, by [`Store::ensure_indexes`] at start-up.

pub mod assignments;
pub mod auto_distribution;
pub mod changes;
mod credentials;
pub mod department_agents;
mod department_save;
pub mod departments;
mod json;
pub mod messages;
pub mod num;
pub mod permissions;
mod presence;
pub mod rate_limits;
pub mod roles;
pub mod rooms;
pub mod routing;
pub mod routing_fields;
pub mod settings;
mod transaction;
pub mod users;
pub mod visitors;

use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::time::Duration;

use mongodb::bson::doc;
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database, IndexModel};

use crate::error::Error;

/// Where and how to connect, as `startup` reads it from the settings.
pub struct Target {
    pub url: String,
    pub server_selection_timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// Whether to try multi-document transactions at all.
    pub transactions: bool,
}

/// Who hears of the store's commands and failures (the metrics). Metrics
/// are per process, so the observer is too: the first one set stays.
#[derive(Clone, Copy)]
pub struct Observer {
    /// Every command sent, by name.
    pub command: fn(&str),
    /// Every failure, as `unavailable` or `unexpected`.
    pub failure: fn(&'static str),
}

static OBSERVER: std::sync::OnceLock<Observer> = std::sync::OnceLock::new();

/// Sets the process's observer (once; later calls change nothing).
pub fn observe(observer: Observer) {
    let _ = OBSERVER.set(observer);
}

fn note_failure(kind: &'static str) {
    if let Some(observer) = OBSERVER.get() {
        (observer.failure)(kind);
    }
}

/// Handle to the database; cheap to clone (the driver pools connections).
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    db: Database,
    /// Whether the server runs multi-document transactions: unknown until
    /// the first save tries one (see `department_save`).
    transactions: Arc<AtomicU8>,
}

impl Store {
    /// Builds the client from `MONGO_URL`. The server need not be up yet:
    /// the driver connects lazily and reconnects by itself.
    pub async fn connect(target: &Target) -> Result<Store, Error> {
        let bad_url =
            |e: mongodb::error::Error| Error::bad_request(format!("MONGO_URL: {}", e.kind));
        let mut options = ClientOptions::parse(&target.url).await.map_err(bad_url)?;
        // The URL may name the application (`?appName=`), as fault tests
        // do to aim a fail point at one instance.
        if options.app_name.is_none() {
            options.app_name = Some("switchboard".into());
        }
        options.server_selection_timeout =
            Some(Duration::from_millis(target.server_selection_timeout_ms));
        options.connect_timeout = Some(Duration::from_millis(target.connect_timeout_ms));
        // After an error that marks the server unknown (a transient "shutting
        // down", 11600), a polling monitor checks it again at once; a
        // streaming one may sit in its awaited `hello` for up to 10 s, and
        // every request meanwhile waits for server selection and answers 503.
        if options.server_monitoring_mode.is_none() {
            options.server_monitoring_mode = Some(mongodb::options::ServerMonitoringMode::Poll);
        }
        options.command_event_handler = Some(mongodb::event::EventHandler::callback(
            |event: mongodb::event::command::CommandEvent| {
                if let mongodb::event::command::CommandEvent::Started(started) = event
                    && let Some(observer) = OBSERVER.get()
                {
                    (observer.command)(&started.command_name);
                }
            },
        ));
        let db_name = options
            .default_database
            .clone()
            .unwrap_or_else(|| "switchboard".to_string());
        let client = Client::with_options(options).map_err(bad_url)?;
        let db = client.database(&db_name);
        Ok(Store {
            client,
            db,
            transactions: Arc::new(AtomicU8::new(if target.transactions {
                transaction::TXN_UNKNOWN
            } else {
                transaction::TXN_UNSUPPORTED
            })),
        })
    }

    pub(crate) fn collection<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether MongoDB answers a ping right now.
    pub async fn ping(&self) -> Result<(), Error> {
        self.db.run_command(doc! {"ping": 1}).await?;
        Ok(())
    }

    /// Creates every index the queries need; safe to run on every start and
    /// from several instances at once.
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        create_indexes(&self.users().coll, users::indexes()).await?;
        create_indexes(&self.departments().coll, departments::indexes()).await?;
        create_indexes(&self.department_agents().coll, department_agents::indexes()).await?;
        create_indexes(&self.department_agents().coll, routing::link_indexes()).await?;
        create_indexes(&self.users().coll, routing::user_indexes()).await?;
        create_indexes(&self.assignments().coll, assignments::indexes()).await?;
        create_indexes(&self.visitors().coll, visitors::indexes()).await?;
        let any = |name| self.collection::<mongodb::bson::Document>(name);
        create_indexes(&any(rooms::COLLECTION), rooms::indexes()).await?;
        create_indexes(&any(rooms::INQUIRIES), rooms::inquiry_indexes()).await?;
        create_indexes(&any(messages::COLLECTION), messages::indexes()).await?;
        create_indexes(
            &self.collection::<mongodb::bson::Document>(rate_limits::COLLECTION),
            rate_limits::indexes(),
        )
        .await?;
        Ok(())
    }

    pub fn users(&self) -> users::Users {
        users::Users::new(self)
    }

    pub fn departments(&self) -> departments::Departments {
        departments::Departments::new(self)
    }

    pub fn department_agents(&self) -> department_agents::DepartmentAgents {
        department_agents::DepartmentAgents::new(self)
    }

    pub fn assignments(&self) -> assignments::Assignments {
        assignments::Assignments::new(self)
    }

    pub fn routing(&self) -> routing::Routing {
        routing::Routing::new(self)
    }

    pub fn auto_distribution(&self) -> auto_distribution::AutoDistribution {
        auto_distribution::AutoDistribution::new(self)
    }

    pub fn rate_limits(&self) -> rate_limits::RateLimits {
        rate_limits::RateLimits::new(self)
    }

    pub fn visitors(&self) -> visitors::Visitors {
        visitors::Visitors::new(self)
    }

    pub fn rooms(&self) -> rooms::Rooms {
        rooms::Rooms::new(self)
    }

    pub fn messages(&self) -> messages::Messages {
        messages::Messages::new(self)
    }

    pub fn settings(&self) -> settings::Settings {
        settings::Settings::new(self)
    }

    pub fn roles(&self) -> roles::Roles {
        roles::Roles::new(self)
    }

    pub fn permissions(&self) -> permissions::Permissions {
        permissions::Permissions::new(self)
    }
}

/// Creates `indexes` on `coll`. An index that already exists with other
/// options (as a Rocket.Chat server may have made it) is kept and logged.
pub(crate) async fn create_indexes<T: Send + Sync>(
    coll: &Collection<T>,
    indexes: Vec<IndexModel>,
) -> Result<(), Error> {
    for index in indexes {
        if let Err(e) = coll.create_index(index.clone()).await {
            match server_code(&e) {
                Some(85) | Some(86) => tracing::warn!(
                    collection = coll.name(),
                    keys = %index.keys,
                    "an index with these keys already exists with other options; keeping it"
                ),
                _ => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// The `_id`s of the documents matching `filter` (string ids only).
pub(crate) async fn ids_in<T: Send + Sync>(
    coll: &Collection<T>,
    filter: mongodb::bson::Document,
) -> Result<std::collections::HashSet<String>, Error> {
    #[derive(serde::Deserialize)]
    struct IdDoc {
        #[serde(rename = "_id")]
        id: String,
    }
    use futures::TryStreamExt;
    let found: Vec<IdDoc> = coll
        .clone_with_type()
        .find(filter)
        .projection(doc! {"_id": 1})
        .await?
        .try_collect()
        .await?;
    Ok(found.into_iter().map(|d| d.id).collect())
}

/// Those of `ids` that have no document in `coll`, in the given order.
pub(crate) async fn missing_ids<T: Send + Sync>(
    coll: &Collection<T>,
    ids: &[String],
) -> Result<Vec<String>, Error> {
    let known = ids_in(coll, doc! {"_id": {"$in": ids}}).await?;
    Ok(ids
        .iter()
        .filter(|id| !known.contains(*id))
        .cloned()
        .collect())
}

/// The server's error code, when the server answered with one.
pub(crate) fn server_code(e: &mongodb::error::Error) -> Option<i32> {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first().map(|w| w.code)),
        _ => None,
    }
}

/// Whether the error is a duplicate key on a unique index.
pub(crate) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    server_code(e) == Some(11000)
}

/// The name of the unique index a duplicate-key error names (MongoDB's
/// `E11000 … index: NAME dup key: …`).
pub(crate) fn duplicate_index(e: &mongodb::error::Error) -> Option<&str> {
    let (code, message) = match e.kind.as_ref() {
        ErrorKind::Command(c) => (c.code, c.message.as_str()),
        ErrorKind::Write(WriteFailure::WriteError(w)) => (w.code, w.message.as_str()),
        _ => return None,
    };
    duplicate_index_in(code, message)
}

/// The same, from one write error's code and message.
pub(crate) fn duplicate_index_in(code: i32, message: &str) -> Option<&str> {
    if code != 11000 {
        return None;
    }
    let (_, after) = message.split_once(" index: ")?;
    after.split_whitespace().next()
}

impl From<mongodb::error::Error> for Error {
    fn from(e: mongodb::error::Error) -> Self {
        let unreachable = matches!(
            e.kind.as_ref(),
            ErrorKind::ServerSelection { .. }
                | ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
        ) || e.contains_label("NetworkError")
            || e.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR);
        if unreachable {
            note_failure("unavailable");
            Error::Unavailable(e.into())
        } else {
            note_failure("unexpected");
            Error::Unexpected(e.into())
        }
    }
}

impl From<mongodb::bson::de::Error> for Error {
    fn from(e: mongodb::bson::de::Error) -> Self {
        Error::Unexpected(e.into())
    }
}

impl From<mongodb::bson::ser::Error> for Error {
    fn from(e: mongodb::bson::ser::Error) -> Self {
        Error::Unexpected(e.into())
    }
}

/// A case-insensitive `$regex` match on a pattern (escape client text first).
pub(crate) fn case_insensitive(pattern: String) -> mongodb::bson::Bson {
    mongodb::bson::Bson::Document(doc! {"$regex": pattern, "$options": "i"})
}

/// The current time as a BSON date (millisecond precision).
pub(crate) fn now() -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::now()
}
