//! Live updates for the livechat widget: the part of Meteor's DDP it
//! speaks over `/websocket`, fed by the database's change stream so a
//! decision taken on any instance reaches a visitor connected to any
//! other. A service held in the application state: the handler only
//! upgrades the request and hands the socket to [`Live::serve`].

mod budget;
mod connection;
mod session;
pub mod shapes;
mod watcher;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::config::LiveSettings;
use crate::error::Error;
use crate::livechat::Livechat;
use crate::store::Store;
use crate::store::changes::Change;

/// Changes a slow connection may fall behind by before it reads its
/// rooms again instead.
const BACKLOG: usize = 1024;

#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    livechat: Livechat,
    settings: LiveSettings,
    events: broadcast::Sender<Arc<Change>>,
    stopping: watch::Sender<bool>,
    /// Open connections per client address.
    open: Mutex<HashMap<String, u32>>,
    /// What the connections of each address may still read (kept while
    /// the address has a connection open).
    reads: Mutex<HashMap<String, budget::Budget>>,
}

/// A connection's place under its address's limit, given back on drop.
pub struct Admission {
    inner: Arc<Inner>,
    address: String,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.address);
                let mut reads = self.inner.reads.lock().unwrap_or_else(|e| e.into_inner());
                reads.remove(&self.address);
            }
        }
    }
}

/// The subscription reads of one address, shared by its connections on
/// this instance: a flood of subscriptions from one address costs the
/// database at most `live.reads_per_second_per_address`, whatever the
/// number of its connections or frames.
pub(crate) struct Reads {
    inner: Arc<Inner>,
    address: String,
}

impl Reads {
    /// Spends one read of the address's budget, if there is one.
    pub fn take(&self) -> bool {
        let per_second = self.inner.settings.reads_per_second_per_address;
        let mut reads = self.inner.reads.lock().unwrap_or_else(|e| e.into_inner());
        reads
            .entry(self.address.clone())
            .or_insert_with(|| budget::Budget::new(per_second))
            .take()
    }
}

impl Live {
    pub fn new(livechat: Livechat, settings: &LiveSettings) -> Live {
        Live {
            inner: Arc::new(Inner {
                livechat,
                settings: settings.clone(),
                events: broadcast::channel(BACKLOG).0,
                stopping: watch::channel(false).0,
                open: Mutex::new(HashMap::new()),
                reads: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The instance's change-stream reader, and the stop of every
    /// connection on SIGTERM or Ctrl-C (the server then waits for none of
    /// them through its grace period).
    pub fn spawn_background(&self, store: Store) -> tokio::task::JoinHandle<()> {
        let retry = Duration::from_millis(self.inner.settings.watch_retry_ms.max(1));
        let watching = AbortOnDrop(tokio::spawn(watcher::run(
            store,
            self.inner.events.clone(),
            retry,
        )));
        let inner = self.inner.clone();
        // Aborting the returned task aborts the reader with it.
        tokio::spawn(async move {
            let _watching = watching;
            stop_signal().await;
            tracing::info!("closing the live connections");
            inner.stopping.send_replace(true);
        })
    }

    /// Counts a new connection from `address`, or refuses it when the
    /// address holds `live.max_connections_per_address` already.
    pub fn admit(&self, address: String) -> Result<Admission, Error> {
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(address.clone()).or_insert(0);
        if *n >= self.inner.settings.max_connections_per_address {
            return Err(Error::TooManyRequests {
                retry_after_seconds: 10,
            });
        }
        *n += 1;
        Ok(Admission {
            inner: self.inner.clone(),
            address,
        })
    }

    /// Serves an upgraded connection until it closes.
    pub fn serve(
        &self,
        admission: Admission,
        socket: actix_ws::Session,
        stream: actix_ws::MessageStream,
    ) {
        let connection = connection::Connection {
            session: session::Session::new(
                self.inner.livechat.clone(),
                self.inner.settings.max_subscriptions,
                Reads {
                    inner: self.inner.clone(),
                    address: admission.address.clone(),
                },
            ),
            socket,
            events: self.inner.events.subscribe(),
            stopping: self.inner.stopping.subscribe(),
            settings: self.inner.settings.clone(),
            admission,
        };
        actix_web::rt::spawn(connection.run(stream));
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
