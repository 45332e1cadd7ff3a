//! What one client address may cost the database over `/websocket`: every
//! subscription that reads counts against the address's budget, shared by
//! all its connections; a refused room asked again costs nothing; another
//! address is not affected. And a message over the size bound closes the
//! connection with 1009, however it is fragmented.

use std::net::Ipv4Addr;

use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

use crate::helpers::{Ddp, FRAME_WAIT, spawn_app_with};

const FLOODER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const NEIGHBOUR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// Subscribes to a room's stream and answers the `ready` or `nosub`.
async fn sub(ddp: &mut Ddp, id: &str, rid: &str, token: &str) -> Value {
    ddp.subscribe(id, "stream-livechat-room", rid, Some(token))
        .await;
    ddp.next_where(FRAME_WAIT, |f| f["id"] == id || f["subs"][0] == id)
        .await
        .expect("the subscription is answered")
}

fn refused_for(answer: &Value) -> Value {
    assert_eq!(answer["msg"], "nosub", "{answer}");
    answer["error"]["error"].clone()
}

#[tokio::test]
async fn subscription_reads_are_budgeted_per_address_across_its_connections() {
    let app = spawn_app_with(|s| s.live.reads_per_second_per_address = 4).await;
    let room = app.visitor_room("neighbour", None).await;
    let rid = room["_id"].as_str().unwrap();
    let mut first = app.ddp_open_from(FLOODER).await.connect().await;
    let mut second = app.ddp_open_from(FLOODER).await.connect().await;

    // Rooms that are not the flooder's: the first four reads of the
    // address, over both connections, are spent and refused as such.
    let mut spent = Vec::new();
    for i in 0..8 {
        let ddp = if i % 2 == 0 { &mut first } else { &mut second };
        let answer = sub(ddp, &format!("s{i}"), &format!("nobody-{i}"), "flooder").await;
        spent.push(refused_for(&answer));
    }
    let not_allowed = spent.iter().filter(|e| **e == "not-allowed").count();
    let over = spent.iter().filter(|e| **e == "too-many-requests").count();
    assert!(not_allowed >= 4, "{spent:?}");
    assert!(over >= 3, "{spent:?}");
    assert_eq!(not_allowed + over, 8, "{spent:?}");

    // Another address reads as it always does.
    let mut neighbour = app.ddp_open_from(NEIGHBOUR).await.connect().await;
    let answer = sub(&mut neighbour, "own", rid, "neighbour").await;
    assert_eq!(answer["msg"], "ready", "{answer}");
}

#[tokio::test]
async fn a_refused_room_asked_again_costs_no_read() {
    let app = spawn_app_with(|s| s.live.reads_per_second_per_address = 2).await;
    let room = app.visitor_room("vera", None).await;
    let rid = room["_id"].as_str().unwrap();
    let mut ddp = app.ddp_open_from(FLOODER).await.connect().await;
    let first = sub(&mut ddp, "a0", rid, "someone-else").await;
    assert_eq!(refused_for(&first), "not-allowed");
    for i in 1..30 {
        let again = sub(&mut ddp, &format!("a{i}"), rid, "someone-else").await;
        assert_eq!(refused_for(&again), "not-allowed");
    }
    // The budget still holds the read of a room that is the visitor's.
    let own = sub(&mut ddp, "own", rid, "vera").await;
    assert_eq!(own["msg"], "ready", "{own}");
}

#[tokio::test]
async fn a_fragmented_message_over_the_bound_closes_with_1009() {
    let app = spawn_app_with(|s| s.live.max_frame_bytes = 1024).await;
    let mut ddp = app.ddp_connected().await;
    let text = format!(r#"{{"msg":"ping","id":"{}"}}"#, "x".repeat(2400));
    let chunks: Vec<&[u8]> = text.as_bytes().chunks(800).collect();
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.iter().enumerate() {
        let opcode = match i {
            0 => OpCode::Data(Data::Text),
            _ => OpCode::Data(Data::Continue),
        };
        let header = FrameHeader {
            is_final: i == last,
            opcode,
            ..FrameHeader::default()
        };
        if !ddp
            .send_message(Message::Frame(Frame::from_payload(
                header,
                chunk.to_vec().into(),
            )))
            .await
        {
            break;
        }
    }
    let close = ddp.closed(FRAME_WAIT).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Size);
}
