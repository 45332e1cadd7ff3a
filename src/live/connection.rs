//! One widget connection's socket: frames in and out, the database's
//! changes, the idle ping and close, the frame bounds and the stop on
//! shutdown. The DDP rules live in [`Session`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, MessageStream, ProtocolError};
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use super::budget::Budget;
use super::session::Session;
use crate::config::LiveSettings;
use crate::store::changes::Change;

/// Everything a connection runs with.
pub(super) struct Connection {
    pub session: Session,
    pub socket: actix_ws::Session,
    pub events: broadcast::Receiver<Arc<Change>>,
    pub stopping: watch::Receiver<bool>,
    pub settings: LiveSettings,
}

fn reason(code: CloseCode, text: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code,
        description: Some(text.to_string()),
    })
}

async fn send(socket: &mut actix_ws::Session, frames: Vec<Value>) -> bool {
    for frame in frames {
        if socket.text(frame.to_string()).await.is_err() {
            return false;
        }
    }
    true
}

impl Connection {
    pub async fn run(mut self, stream: MessageStream) {
        let limit = self.settings.max_frame_bytes;
        let mut stream = stream
            .max_frame_size(limit)
            .aggregate_continuations()
            .max_continuation_size(limit);
        let ping_after = Duration::from_secs(self.settings.ping_interval_seconds.max(1));
        let idle_after = Duration::from_secs(self.settings.idle_timeout_seconds.max(1));
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut budget = Budget::new(self.settings.frames_per_second);
        let mut heard = Instant::now();
        let mut pinged = false;
        let mut open = send(&mut self.socket, vec![Session::greeting()]).await;
        let close = loop {
            if !open {
                break None;
            }
            tokio::select! {
                incoming = stream.recv() => {
                    let message = match incoming {
                        None => break None,
                        Some(Err(ProtocolError::Overflow)) => break reason(CloseCode::Size, "frame too large"),
                        // A fragmented message over the bound: actix-ws
                        // reports it as an I/O error of its own wording.
                        Some(Err(ProtocolError::Io(e))) if e.to_string().contains("continuation size") => {
                            break reason(CloseCode::Size, "message too large")
                        }
                        Some(Err(_)) => break reason(CloseCode::Protocol, "protocol error"),
                        Some(Ok(m)) => m,
                    };
                    heard = Instant::now();
                    pinged = false;
                    if !budget.take() {
                        break reason(CloseCode::Policy, "too many frames");
                    }
                    match message {
                        AggregatedMessage::Text(text) => {
                            let frames = self.session.on_frame(&text).await;
                            open = send(&mut self.socket, frames).await;
                        }
                        AggregatedMessage::Binary(_) => {
                            let frames = vec![crate::domain::ddp::Refusal::Parse.frame()];
                            open = send(&mut self.socket, frames).await;
                        }
                        AggregatedMessage::Ping(bytes) => open = self.socket.pong(&bytes).await.is_ok(),
                        AggregatedMessage::Pong(_) => {}
                        AggregatedMessage::Close(_) => break None,
                    }
                }
                change = self.events.recv() => {
                    let change = match change {
                        Ok(c) => c,
                        // Too slow to keep up: whatever was missed, read again.
                        Err(broadcast::error::RecvError::Lagged(_)) => Arc::new(Change::Resync),
                        Err(broadcast::error::RecvError::Closed) => break reason(CloseCode::Away, "server stopping"),
                    };
                    let frames = self.session.on_change(&change).await;
                    open = send(&mut self.socket, frames).await;
                }
                _ = tick.tick() => {
                    let quiet = heard.elapsed();
                    if quiet >= idle_after {
                        break reason(CloseCode::Normal, "idle");
                    }
                    if quiet >= ping_after && !pinged {
                        pinged = true;
                        open = send(&mut self.socket, vec![crate::domain::ddp::ping()]).await;
                    }
                }
                _ = self.stopping.changed() => break reason(CloseCode::Away, "server stopping"),
            }
        };
        let _ = self.socket.close(close).await;
        // The session, and with it the connection's place under its
        // address's limit, goes with `self`.
    }
}
