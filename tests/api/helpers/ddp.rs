//! A plain WebSocket client speaking DDP to `/websocket`, and the widget's
//! calls that give a visitor a room.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TestApp;

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a frame it expects.
pub const FRAME_WAIT: Duration = Duration::from_secs(5);

pub struct Ddp {
    socket: Socket,
}

/// What the socket delivered next.
#[derive(Debug)]
pub enum Received {
    Frame(Value),
    Closed(Option<CloseFrame>),
}

impl TestApp {
    pub fn websocket_url(&self) -> String {
        format!("{}/websocket", self.address.replacen("http://", "ws://", 1))
    }

    /// A socket to `/websocket`, its greeting read.
    pub async fn ddp_open(&self) -> Ddp {
        let (socket, _) = tokio_tungstenite::connect_async(self.websocket_url())
            .await
            .expect("the upgrade is accepted");
        let mut ddp = Ddp { socket };
        assert_eq!(ddp.next().await, json!({"server_id": "0"}));
        ddp
    }

    /// A socket to `/websocket` from `local` (another loopback address is
    /// another client address to the server), its greeting read.
    pub async fn ddp_open_from(&self, local: std::net::Ipv4Addr) -> Ddp {
        let server: std::net::SocketAddr = self
            .address
            .trim_start_matches("http://")
            .parse()
            .expect("the app listens on an IP address");
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.bind((local, 0).into()).expect("a loopback address");
        let stream = tcp.connect(server).await.expect("the server accepts");
        let (socket, _) =
            tokio_tungstenite::client_async(self.websocket_url(), MaybeTlsStream::Plain(stream))
                .await
                .expect("the upgrade is accepted");
        let mut ddp = Ddp { socket };
        assert_eq!(ddp.next().await, json!({"server_id": "0"}));
        ddp
    }

    /// A socket that has sent `connect` and read `connected`.
    pub async fn ddp_connected(&self) -> Ddp {
        let ddp = self.ddp_open().await;
        ddp.connect().await
    }

    /// Registers a visitor (in `department`) and opens its room, as the
    /// widget does; answers the room.
    pub async fn visitor_room(&self, token: &str, department: Option<&str>) -> Value {
        let mut visitor = json!({"token": token, "name": format!("Visitor {token}")});
        if let Some(d) = department {
            visitor["department"] = json!(d);
        }
        let a = self
            .call(
                Method::POST,
                "/api/v1/livechat/visitor",
                None,
                Some(json!({"visitor": visitor})),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        let a = self
            .call(
                Method::GET,
                &format!("/api/v1/livechat/room?token={token}"),
                None,
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body["room"].clone()
    }
}

impl Ddp {
    /// Sends `connect` and reads `connected`.
    pub async fn connect(mut self) -> Ddp {
        self.send(json!({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}))
            .await;
        let connected = self.next().await;
        assert_eq!(connected["msg"], "connected", "{connected}");
        self
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text))
            .await
            .expect("the frame is sent");
    }

    pub async fn send_message(&mut self, message: Message) -> bool {
        self.socket.send(message).await.is_ok()
    }

    /// The next text frame or the close, within `within`.
    pub async fn receive(&mut self, within: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match next {
                Some(Ok(Message::Text(t))) => {
                    return Some(Received::Frame(
                        serde_json::from_str(&t).expect("frames are JSON"),
                    ));
                }
                Some(Ok(Message::Close(frame))) => return Some(Received::Closed(frame)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(Received::Closed(None)),
            }
        }
    }

    /// The next text frame; fails the test after [`FRAME_WAIT`].
    pub async fn next(&mut self) -> Value {
        match self.receive(FRAME_WAIT).await {
            Some(Received::Frame(f)) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// The first frame `wanted` accepts within `within`, skipping others.
    pub async fn next_where(
        &mut self,
        within: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive(left).await? {
                Received::Frame(f) if wanted(&f) => return Some(f),
                Received::Frame(_) => continue,
                Received::Closed(_) => return None,
            }
        }
    }

    /// The close frame, skipping text frames, within `within`.
    pub async fn closed(&mut self, within: Duration) -> Option<CloseFrame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive(left).await {
                Some(Received::Closed(frame)) => return frame,
                Some(Received::Frame(_)) => continue,
                None => panic!("the connection was not closed within {within:?}"),
            }
        }
    }

    /// Subscribes as the widget does (`[event, {useCollection, args: [{token, visitorToken}]}]`).
    pub async fn subscribe(&mut self, id: &str, stream: &str, event: &str, token: Option<&str>) {
        let options = match token {
            Some(t) => json!({"useCollection": false, "args": [{"token": t, "visitorToken": t}]}),
            None => json!({"useCollection": false, "args": []}),
        };
        self.send(json!({"msg": "sub", "id": id, "name": stream, "params": [event, options]}))
            .await;
    }
}

/// Whether `frame` is a `stream-livechat-room` event of `kind` for `rid`.
pub fn room_event(frame: &Value, rid: &str, kind: &str) -> bool {
    frame["msg"] == "changed"
        && frame["collection"] == "stream-livechat-room"
        && frame["fields"]["eventName"] == rid
        && frame["fields"]["args"][0]["type"] == kind
}
