//! The part of Meteor's DDP (version 1) that Rocket.Chat's livechat widget
//! speaks over `/websocket`: what a client may send, read into
//! [`ClientMessage`], and the frames a server answers, built by the
//! functions below. Meteor's answers to bad input are kept: a frame that is
//! not JSON is a `Parse error`, one without a known `msg` a `Bad request`
//! naming the offending message, an unknown method or subscription a 404
//! `Meteor.Error`.

use serde_json::{Value, json};

/// The one protocol version served.
pub const VERSION: &str = "1";

/// The streams a visitor may subscribe to.
pub const LIVECHAT_ROOM: &str = "stream-livechat-room";
pub const ROOM_MESSAGES: &str = "stream-room-messages";
pub const NOTIFY_ROOM: &str = "stream-notify-room";

/// The method the widget calls once connected, with its visitor token.
pub const SET_UP_CONNECTION: &str = "livechat:setUpConnection";

/// A frame from the client, read.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Connect {
        version: String,
        support: Vec<String>,
    },
    Ping {
        id: Option<String>,
    },
    Pong,
    Method {
        id: String,
        method: String,
        params: Vec<Value>,
    },
    Sub {
        id: String,
        name: String,
        params: Vec<Value>,
    },
    Unsub {
        id: String,
    },
}

/// Why a frame could not be read, and what to answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Not JSON: `{msg:'error', reason:'Parse error'}`.
    Parse,
    /// JSON, but not a message this server reads.
    BadRequest(Value),
}

impl Refusal {
    pub fn frame(&self) -> Value {
        match self {
            Refusal::Parse => error("Parse error", None),
            Refusal::BadRequest(offending) => error("Bad request", Some(offending.clone())),
        }
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn list(v: &Value, key: &str) -> Option<Vec<Value>> {
    match v.get(key) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items.clone()),
        Some(_) => None,
    }
}

impl ClientMessage {
    /// Reads one text frame.
    pub fn parse(frame: &str) -> Result<ClientMessage, Refusal> {
        let v: Value = serde_json::from_str(frame).map_err(|_| Refusal::Parse)?;
        let bad = || Refusal::BadRequest(v.clone());
        let msg = v.get("msg").and_then(Value::as_str).ok_or_else(bad)?;
        Ok(match msg {
            "connect" => ClientMessage::Connect {
                version: text(&v, "version").ok_or_else(bad)?,
                support: list(&v, "support")
                    .ok_or_else(bad)?
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect(),
            },
            "ping" => ClientMessage::Ping { id: text(&v, "id") },
            "pong" => ClientMessage::Pong,
            "method" => ClientMessage::Method {
                id: text(&v, "id").ok_or_else(bad)?,
                method: text(&v, "method").ok_or_else(bad)?,
                params: list(&v, "params").ok_or_else(bad)?,
            },
            "sub" => ClientMessage::Sub {
                id: text(&v, "id").ok_or_else(bad)?,
                name: text(&v, "name").ok_or_else(bad)?,
                params: list(&v, "params").ok_or_else(bad)?,
            },
            "unsub" => ClientMessage::Unsub {
                id: text(&v, "id").ok_or_else(bad)?,
            },
            _ => return Err(bad()),
        })
    }
}

/// Whether a `connect` is accepted: `Err` carries the version to propose
/// in a `failed` frame (the client may then connect again with it).
pub fn negotiate(version: &str) -> Result<(), &'static str> {
    if version == VERSION {
        return Ok(());
    }
    Err(VERSION)
}

/// A `Meteor.Error` as DDP carries it.
pub fn meteor_error(code: Value, reason: &str) -> Value {
    let message = match &code {
        Value::String(s) => format!("{reason} [{s}]"),
        other => format!("{reason} [{other}]"),
    };
    json!({"isClientSafe": true, "error": code, "reason": reason, "message": message,
           "errorType": "Meteor.Error"})
}

/// A connection-level error (`{msg:'error'}`).
pub fn error(reason: &str, offending: Option<Value>) -> Value {
    let mut out = json!({"msg": "error", "reason": reason});
    if let Some(o) = offending {
        out["offendingMessage"] = o;
    }
    out
}

pub fn connected(session: &str) -> Value {
    json!({"msg": "connected", "session": session})
}

pub fn failed(version: &str) -> Value {
    json!({"msg": "failed", "version": version})
}

pub fn ping() -> Value {
    json!({"msg": "ping"})
}

pub fn pong(id: Option<&str>) -> Value {
    match id {
        Some(id) => json!({"msg": "pong", "id": id}),
        None => json!({"msg": "pong"}),
    }
}

/// A method's answer: its result, or its error.
pub fn result(id: &str, outcome: Result<Option<Value>, Value>) -> Value {
    match outcome {
        Ok(Some(value)) => json!({"msg": "result", "id": id, "result": value}),
        Ok(None) => json!({"msg": "result", "id": id}),
        Err(error) => json!({"msg": "result", "id": id, "error": error}),
    }
}

/// After a method's writes are visible (Meteor sends it after `result`).
pub fn updated(id: &str) -> Value {
    json!({"msg": "updated", "methods": [id]})
}

pub fn ready(id: &str) -> Value {
    json!({"msg": "ready", "subs": [id]})
}

pub fn nosub(id: &str, error: Option<Value>) -> Value {
    match error {
        Some(e) => json!({"msg": "nosub", "id": id, "error": e}),
        None => json!({"msg": "nosub", "id": id}),
    }
}

/// One event of a Rocket.Chat stream, as its subscribers receive it.
pub fn stream_event(stream: &str, event_name: &str, args: Vec<Value>) -> Value {
    json!({"msg": "changed", "collection": stream, "id": "id",
           "fields": {"eventName": event_name, "args": args}})
}

/// What a stream subscription names: its event (a room id, or
/// `<rid>/typing` for `stream-notify-room`) and the visitor token its
/// options carry (`{useCollection, args: [{token, visitorToken}]}`), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamTarget {
    pub event_name: String,
    pub token: Option<String>,
}

impl StreamTarget {
    pub fn read(params: &[Value]) -> Option<StreamTarget> {
        let event_name = params.first()?.as_str()?.to_string();
        if event_name.is_empty() {
            return None;
        }
        let options = params.get(1);
        let credentials = options
            .and_then(|o| o.get("args"))
            .and_then(|a| a.get(0))
            .or_else(|| params.get(2));
        let token = credentials.and_then(|c| text(c, "token").or_else(|| text(c, "visitorToken")));
        Some(StreamTarget { event_name, token })
    }

    /// The room the event name is about (`<rid>` or `<rid>/<event>`).
    pub fn room_id(&self) -> &str {
        self.event_name
            .split_once('/')
            .map_or(self.event_name.as_str(), |(rid, _)| rid)
    }
}

/// Meteor's EJSON date (`{"$date": milliseconds}`), as the widget's DDP
/// client reads a message's `ts`.
pub fn ejson_date(ms: i64) -> Value {
    json!({"$date": ms})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_that_is_not_json_is_a_parse_error() {
        assert_eq!(ClientMessage::parse("{nope"), Err(Refusal::Parse));
        assert_eq!(
            Refusal::Parse.frame(),
            json!({"msg": "error", "reason": "Parse error"})
        );
    }

    #[test]
    fn a_message_without_a_known_msg_is_a_bad_request_naming_it() {
        let refused = ClientMessage::parse(r#"{"msg":"dance"}"#).unwrap_err();
        assert_eq!(
            refused.frame(),
            json!({"msg": "error", "reason": "Bad request", "offendingMessage": {"msg": "dance"}})
        );
        assert!(ClientMessage::parse(r#"[1]"#).is_err());
        assert!(ClientMessage::parse(r#"{"msg":"method","method":"x"}"#).is_err());
    }

    #[test]
    fn the_widgets_frames_are_read() {
        assert_eq!(
            ClientMessage::parse(r#"{"msg":"connect","version":"1","support":["1","pre2"]}"#),
            Ok(ClientMessage::Connect {
                version: "1".into(),
                support: vec!["1".into(), "pre2".into()]
            })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"msg":"sub","id":"ddp-1","name":"n","params":["r"]}"#),
            Ok(ClientMessage::Sub {
                id: "ddp-1".into(),
                name: "n".into(),
                params: vec![json!("r")]
            })
        );
    }

    #[test]
    fn only_version_one_is_accepted() {
        assert_eq!(negotiate("1"), Ok(()));
        assert_eq!(negotiate("pre2"), Err("1"));
    }

    #[test]
    fn a_stream_target_reads_the_widgets_token_and_room() {
        let t = StreamTarget::read(&[
            json!("rid1/typing"),
            json!({"useCollection": false, "args": [{"token": "tok", "visitorToken": "tok"}]}),
        ])
        .unwrap();
        assert_eq!(t.token.as_deref(), Some("tok"));
        assert_eq!(t.room_id(), "rid1");
        let bare = StreamTarget::read(&[json!("rid2"), json!(false)]).unwrap();
        assert_eq!((bare.token.as_deref(), bare.room_id()), (None, "rid2"));
        assert_eq!(StreamTarget::read(&[json!(3)]), None);
    }
}
