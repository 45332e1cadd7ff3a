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
    /// The client addresses with open connections on this instance.
    addresses: Mutex<HashMap<String, Address>>,
}

/// What the connections of one client address share on this instance.
struct Address {
    open: u32,
    /// The subscription reads they may still cause: a flood of
    /// subscriptions from one address costs the database at most
    /// `live.reads_per_second_per_address`, whatever the number of its
    /// connections or frames.
    reads: budget::Budget,
}

/// A connection's place under its address's limit, given back on drop.
pub struct Admission {
    inner: Arc<Inner>,
    address: String,
}

impl Admission {
    /// Spends one read of the address's budget, if there is one.
    pub fn take_read(&self) -> bool {
        let mut addresses = self
            .inner
            .addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        addresses
            .get_mut(&self.address)
            .is_some_and(|a| a.reads.take())
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut addresses = self
            .inner
            .addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(a) = addresses.get_mut(&self.address) {
            a.open -= 1;
            if a.open == 0 {
                addresses.remove(&self.address);
            }
        }
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
                addresses: Mutex::new(HashMap::new()),
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
        let settings = &self.inner.settings;
        let mut addresses = self
            .inner
            .addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let a = addresses.entry(address.clone()).or_insert_with(|| Address {
            open: 0,
            reads: budget::Budget::new(settings.reads_per_second_per_address),
        });
        if a.open >= settings.max_connections_per_address {
            return Err(Error::TooManyRequests {
                retry_after_seconds: 10,
            });
        }
        a.open += 1;
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
                admission,
            ),
            socket,
            events: self.inner.events.subscribe(),
            stopping: self.inner.stopping.subscribe(),
            settings: self.inner.settings.clone(),
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
