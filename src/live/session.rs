//! One visitor's DDP session, free of the socket: a frame in, the frames
//! to answer out; a change from the database in, the events its
//! subscriptions should see out.
//!
//! A subscription is accepted only for a room of the visitor whose token
//! it carries (or, without one, the token given to
//! `livechat:setUpConnection`). Right after `ready`, a `stream-livechat-room`
//! subscription is sent the room's state (its agent, or its place in the
//! queue): the widget subscribes only after it opened the room, and a
//! decision taken in between would otherwise never reach it.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Value, json};

use super::{Admission, shapes};
use crate::domain::ddp::{self, ClientMessage, StreamTarget};
use crate::livechat::{LiveRoom, Livechat};
use crate::store::assignments::QueueScope;
use crate::store::changes::Change;
use crate::store::messages::Message;
use crate::store::rooms::Room;

#[derive(Debug, Clone)]
struct Subscription {
    stream: &'static str,
    rid: String,
    token: String,
}

/// What the visitor was last shown of a room, so a change that does not
/// change it sends nothing.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Agent(String),
    Queue(u64, QueueScope),
    Nothing,
}

pub struct Session {
    livechat: Livechat,
    id: String,
    connected: bool,
    token: Option<String>,
    subscriptions: HashMap<String, Subscription>,
    shown: HashMap<String, Shown>,
    max_subscriptions: usize,
    /// The connection's place under its address's limits, and the
    /// address's read budget.
    admission: Admission,
    /// Rooms (with the token asked for) this connection was refused: asked
    /// again, they are refused without a read.
    refused: HashSet<(String, String)>,
}

/// Refused rooms one connection remembers; past this it forgets them all.
const REFUSED_KEPT: usize = 256;

fn not_allowed() -> Value {
    ddp::meteor_error(json!("not-allowed"), "Not allowed")
}

fn too_many_reads() -> Value {
    ddp::meteor_error(json!("too-many-requests"), "Too many requests")
}

fn unavailable() -> Value {
    ddp::meteor_error(json!(503), "Service unavailable")
}

impl Session {
    pub fn new(livechat: Livechat, max_subscriptions: usize, admission: Admission) -> Session {
        Session {
            livechat,
            id: crate::domain::id::new_id(),
            connected: false,
            token: None,
            subscriptions: HashMap::new(),
            shown: HashMap::new(),
            max_subscriptions,
            admission,
            refused: HashSet::new(),
        }
    }

    /// What Meteor sends as soon as the socket opens.
    pub fn greeting() -> Value {
        json!({"server_id": "0"})
    }

    /// Answers one text frame.
    pub async fn on_frame(&mut self, frame: &str) -> Vec<Value> {
        let message = match ClientMessage::parse(frame) {
            Ok(m) => m,
            Err(refusal) => return vec![refusal.frame()],
        };
        let offending = || serde_json::from_str(frame).unwrap_or(Value::Null);
        match message {
            ClientMessage::Connect { version, .. } => {
                if self.connected {
                    return vec![ddp::error("Bad request", Some(offending()))];
                }
                match ddp::negotiate(&version) {
                    Ok(()) => {
                        self.connected = true;
                        vec![ddp::connected(&self.id)]
                    }
                    Err(proposed) => vec![ddp::failed(proposed)],
                }
            }
            _ if !self.connected => vec![ddp::error("Must connect first", Some(offending()))],
            ClientMessage::Ping { id } => vec![ddp::pong(id.as_deref())],
            ClientMessage::Pong => Vec::new(),
            ClientMessage::Method { id, method, params } => self.method(&id, &method, &params),
            ClientMessage::Sub { id, name, params } => self.subscribe(&id, &name, &params).await,
            ClientMessage::Unsub { id } => match self.subscriptions.remove(&id) {
                Some(_) => vec![ddp::nosub(&id, None)],
                None => Vec::new(),
            },
        }
    }

    fn method(&mut self, id: &str, method: &str, params: &[Value]) -> Vec<Value> {
        let outcome = match method {
            ddp::SET_UP_CONNECTION => {
                match params
                    .first()
                    .and_then(|p| p.get("token"))
                    .and_then(Value::as_str)
                {
                    Some(token) => {
                        // As Rocket.Chat: the first token given holds.
                        self.token.get_or_insert_with(|| token.to_string());
                        Ok(None)
                    }
                    None => Err(ddp::meteor_error(json!(400), "Match failed")),
                }
            }
            // The visitor's typing: accepted, not relayed.
            ddp::NOTIFY_ROOM => Ok(None),
            other => Err(ddp::meteor_error(
                json!(404),
                &format!("Method '{other}' not found"),
            )),
        };
        let failed = outcome.is_err();
        let mut out = vec![ddp::result(id, outcome)];
        if !failed {
            out.push(ddp::updated(id));
        }
        out
    }

    async fn subscribe(&mut self, id: &str, name: &str, params: &[Value]) -> Vec<Value> {
        if self.subscriptions.contains_key(id) {
            // Meteor ignores a subscription id already in use.
            return Vec::new();
        }
        let stream = match name {
            ddp::LIVECHAT_ROOM => ddp::LIVECHAT_ROOM,
            ddp::ROOM_MESSAGES => ddp::ROOM_MESSAGES,
            ddp::NOTIFY_ROOM => ddp::NOTIFY_ROOM,
            other => {
                let reason = format!("Subscription '{other}' not found");
                return vec![ddp::nosub(id, Some(ddp::meteor_error(json!(404), &reason)))];
            }
        };
        if self.subscriptions.len() >= self.max_subscriptions {
            let error =
                ddp::meteor_error(json!("too-many-subscriptions"), "Too many subscriptions");
            return vec![ddp::nosub(id, Some(error))];
        }
        let Some(target) = StreamTarget::read(params) else {
            return vec![ddp::nosub(
                id,
                Some(ddp::meteor_error(json!(400), "Match failed")),
            )];
        };
        let Some(token) = target.token.clone().or_else(|| self.token.clone()) else {
            return vec![ddp::nosub(id, Some(not_allowed()))];
        };
        let rid = target.room_id().to_string();
        let asked = (rid.clone(), token.clone());
        if self.refused.contains(&asked) {
            return vec![ddp::nosub(id, Some(not_allowed()))];
        }
        if !self.admission.take_read() {
            return vec![ddp::nosub(id, Some(too_many_reads()))];
        }
        let state = match self.livechat.live_room(&token, &rid).await {
            Ok(Some(state)) => state,
            Ok(None) => {
                if self.refused.len() >= REFUSED_KEPT {
                    self.refused.clear();
                }
                self.refused.insert(asked);
                return vec![ddp::nosub(id, Some(not_allowed()))];
            }
            Err(e) => {
                tracing::warn!(error = %crate::error::error_chain_fmt(&e), "a live subscription could not read its room");
                return vec![ddp::nosub(id, Some(unavailable()))];
            }
        };
        self.subscriptions.insert(
            id.to_string(),
            Subscription {
                stream,
                rid: rid.clone(),
                token,
            },
        );
        let mut out = vec![ddp::ready(id)];
        if stream == ddp::LIVECHAT_ROOM {
            self.shown.remove(&rid);
            out.extend(self.show(&rid, state));
        }
        out
    }

    /// The rooms some subscription to `stream` watches, each once, with
    /// the token it was accepted for.
    fn watched(&self, stream: &str) -> Vec<(String, String)> {
        let rooms: BTreeSet<(String, String)> = self
            .subscriptions
            .values()
            .filter(|s| s.stream == stream)
            .map(|s| (s.rid.clone(), s.token.clone()))
            .collect();
        rooms.into_iter().collect()
    }

    /// The events a change means for this session's subscriptions.
    pub async fn on_change(&mut self, change: &Change) -> Vec<Value> {
        match change {
            Change::Message(m) => self.on_message(m),
            Change::Room(room) => self.on_room(room).await,
            Change::QueueMoved(moved) => {
                // Only rooms waiting in the queue that moved read their
                // place again (every waiting room when the change does not
                // say which queue).
                self.refresh(|shown| match shown {
                    Some(Shown::Agent(_)) => false,
                    Some(Shown::Queue(_, queue)) => moved.as_ref().is_none_or(|m| m == queue),
                    _ => true,
                })
                .await
            }
            Change::Resync => self.refresh(|_| true).await,
        }
    }

    fn on_message(&self, m: &Message) -> Vec<Value> {
        if !self
            .subscriptions
            .values()
            .any(|s| s.stream == ddp::ROOM_MESSAGES && s.rid == m.rid)
        {
            return Vec::new();
        }
        let mut message = shapes::message(m);
        message["ts"] = ddp::ejson_date(m.ts.timestamp_millis());
        vec![ddp::stream_event(ddp::ROOM_MESSAGES, &m.rid, vec![message])]
    }

    async fn on_room(&mut self, room: &Room) -> Vec<Value> {
        let Some((_, token)) = self
            .watched(ddp::LIVECHAT_ROOM)
            .into_iter()
            .find(|(rid, _)| *rid == room.id)
        else {
            return Vec::new();
        };
        let now = room.served_by.as_ref().map(|s| s.id.as_str());
        let before = self.shown.get(&room.id);
        // The room's `servedBy` is enough to know whether anything changed;
        // the agent shown is read only when it did.
        let changed = match (before, now) {
            (Some(Shown::Agent(a)), Some(b)) => a != b,
            (Some(Shown::Agent(_)), None) => true,
            (_, Some(_)) => true,
            (_, None) => false,
        };
        if !changed {
            return Vec::new();
        }
        self.read_and_show(&room.id, &token).await
    }

    /// Reads again the rooms whose last shown state `stale` selects.
    async fn refresh(&mut self, stale: impl Fn(Option<&Shown>) -> bool) -> Vec<Value> {
        let mut out = Vec::new();
        for (rid, token) in self.watched(ddp::LIVECHAT_ROOM) {
            if stale(self.shown.get(&rid)) {
                out.extend(self.read_and_show(&rid, &token).await);
            }
        }
        out
    }

    async fn read_and_show(&mut self, rid: &str, token: &str) -> Vec<Value> {
        match self.livechat.live_room(token, rid).await {
            Ok(Some(state)) => self.show(rid, state),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %crate::error::error_chain_fmt(&e), "a live connection could not read its room");
                Vec::new()
            }
        }
    }

    /// The event that shows `state`, unless it is what was last shown.
    fn show(&mut self, rid: &str, state: LiveRoom) -> Vec<Value> {
        let (shown, event) = match (state.agent, state.queue_position, state.queue) {
            (Some((id, agent)), _, _) => (
                Shown::Agent(id),
                Some(json!({"type": "agentData", "data": shapes::agent(&agent)})),
            ),
            (None, Some(spot), Some(queue)) => (
                Shown::Queue(spot, queue),
                Some(json!({"type": "queueData", "data": shapes::queue_info(Some(spot))})),
            ),
            _ => (Shown::Nothing, None),
        };
        if self.shown.get(rid) == Some(&shown) {
            return Vec::new();
        }
        self.shown.insert(rid.to_string(), shown);
        event
            .map(|e| ddp::stream_event(ddp::LIVECHAT_ROOM, rid, vec![e]))
            .into_iter()
            .collect()
    }
}
