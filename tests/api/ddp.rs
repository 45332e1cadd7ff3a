//! The widget's live connection: Meteor DDP over `/websocket`, as
//! Rocket.Chat's livechat widget speaks it, driven here with a plain
//! WebSocket client. Changes decided on one instance reach a visitor
//! connected to another through the database's change stream.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::{
    FRAME_WAIT, Received, TestApp, room_event, spawn_app, spawn_app_with, spawn_instance,
    test_settings,
};

/// The bound on a change reaching a visitor on another instance.
const ACROSS_INSTANCES: Duration = Duration::from_secs(1);

/// A department whose only agent (limit 1) already holds a chat, and
/// that chat's assignment.
async fn full_department(app: &TestApp) -> (String, String, String) {
    let (ann, _) = app.available_agent("ann").await;
    app.set_limit(&ann, 1).await;
    let sales = app.department_with("Sales", &[(&ann, None, None)]).await;
    let busy = app.route("already-with-ann", Some(&sales)).await;
    assert_eq!(busy["username"], "ann");
    (ann, sales, busy["_id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_connection_is_answered_connected_with_a_session_and_pings_are_ponged() {
    let app = spawn_app().await;
    let mut ddp = app.ddp_open().await;
    ddp.send(json!({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}))
        .await;
    let connected = ddp.next().await;
    assert_eq!(connected["msg"], "connected");
    assert!(
        connected["session"].as_str().is_some_and(|s| s.len() >= 10),
        "{connected}"
    );
    ddp.send(json!({"msg": "ping", "id": "p1"})).await;
    assert_eq!(ddp.next().await, json!({"msg": "pong", "id": "p1"}));
    ddp.send(json!({"msg": "ping"})).await;
    assert_eq!(ddp.next().await, json!({"msg": "pong"}));
    // A version Switchboard does not speak is answered with the one it does.
    let mut old = app.ddp_open().await;
    old.send(json!({"msg": "connect", "version": "pre1", "support": ["pre1"]}))
        .await;
    assert_eq!(old.next().await, json!({"msg": "failed", "version": "1"}));
}

#[tokio::test]
async fn malformed_and_unknown_frames_get_ddps_error_answers_and_the_connection_stays() {
    let app = spawn_app().await;
    let mut ddp = app.ddp_open().await;
    ddp.send(json!({"msg": "ping"})).await;
    assert_eq!(
        ddp.next().await,
        json!({"msg": "error", "reason": "Must connect first", "offendingMessage": {"msg": "ping"}})
    );
    ddp.send(json!({"msg": "connect", "version": "1"})).await;
    assert_eq!(ddp.next().await["msg"], "connected");
    ddp.send_text("{not json").await;
    assert_eq!(
        ddp.next().await,
        json!({"msg": "error", "reason": "Parse error"})
    );
    ddp.send(json!({"msg": "dance"})).await;
    assert_eq!(
        ddp.next().await,
        json!({"msg": "error", "reason": "Bad request", "offendingMessage": {"msg": "dance"}})
    );
    ddp.send(json!({"msg": "method", "method": "x"})).await;
    assert_eq!(ddp.next().await["reason"], "Bad request");
    ddp.send_text("[1, 2]").await;
    assert_eq!(ddp.next().await["reason"], "Bad request");
    assert!(ddp.send_message(Message::binary(vec![1u8, 2, 3])).await);
    assert_eq!(ddp.next().await["reason"], "Parse error");
    // Still served.
    ddp.send(json!({"msg": "ping", "id": "after"})).await;
    assert_eq!(ddp.next().await, json!({"msg": "pong", "id": "after"}));
}

#[tokio::test]
async fn the_setup_method_answers_and_an_unknown_method_is_404() {
    let app = spawn_app().await;
    let mut ddp = app.ddp_connected().await;
    ddp.send(
        json!({"msg": "method", "id": "m1", "method": "livechat:setUpConnection",
                    "params": [{"token": "tok"}]}),
    )
    .await;
    assert_eq!(ddp.next().await, json!({"msg": "result", "id": "m1"}));
    assert_eq!(
        ddp.next().await,
        json!({"msg": "updated", "methods": ["m1"]})
    );
    ddp.send(
        json!({"msg": "method", "id": "m2", "method": "livechat:setUpConnection",
                    "params": [{"nope": 1}]}),
    )
    .await;
    let refused = ddp.next().await;
    assert_eq!(refused["id"], "m2");
    assert_eq!(refused["error"]["error"], 400, "{refused}");
    assert_eq!(refused["error"]["reason"], "Match failed");
    ddp.send(json!({"msg": "method", "id": "m3", "method": "deleteEverything", "params": []}))
        .await;
    assert_eq!(
        ddp.next().await,
        json!({"msg": "result", "id": "m3", "error": {
            "isClientSafe": true, "error": 404, "reason": "Method 'deleteEverything' not found",
            "message": "Method 'deleteEverything' not found [404]", "errorType": "Meteor.Error"}})
    );
    // The visitor's typing is accepted (and not relayed).
    ddp.send(
        json!({"msg": "method", "id": "m4", "method": "stream-notify-room",
                    "params": ["rid/typing", "guest-1", true, {"token": "tok"}]}),
    )
    .await;
    assert_eq!(ddp.next().await, json!({"msg": "result", "id": "m4"}));
}

#[tokio::test]
async fn each_stream_of_the_visitors_room_is_ready_and_another_visitors_room_is_refused() {
    let app = spawn_app_with(|s| s.routing.queue_interval_ms = 0).await;
    let (ann, _) = app.available_agent("ann").await;
    let sales = app.department_with("Sales", &[(&ann, None, None)]).await;
    let mine = app.visitor_room("mine", Some(&sales)).await;
    let theirs = app.visitor_room("theirs", Some(&sales)).await;
    let (mine, theirs) = (
        mine["_id"].as_str().unwrap().to_string(),
        theirs["_id"].as_str().unwrap().to_string(),
    );
    let mut ddp = app.ddp_connected().await;
    ddp.subscribe("s1", "stream-livechat-room", &mine, Some("mine"))
        .await;
    assert_eq!(ddp.next().await, json!({"msg": "ready", "subs": ["s1"]}));
    // Served already: the agent is shown at once.
    let agent = ddp.next().await;
    assert!(room_event(&agent, &mine, "agentData"), "{agent}");
    assert_eq!(agent["fields"]["args"][0]["data"]["username"], "ann");
    ddp.subscribe("s2", "stream-room-messages", &mine, Some("mine"))
        .await;
    assert_eq!(ddp.next().await, json!({"msg": "ready", "subs": ["s2"]}));
    ddp.subscribe(
        "s3",
        "stream-notify-room",
        &format!("{mine}/typing"),
        Some("mine"),
    )
    .await;
    assert_eq!(ddp.next().await, json!({"msg": "ready", "subs": ["s3"]}));
    // Another visitor's room, with this visitor's token: refused.
    for (id, stream) in [
        ("x1", "stream-livechat-room"),
        ("x2", "stream-room-messages"),
    ] {
        ddp.subscribe(id, stream, &theirs, Some("mine")).await;
        let refused = ddp.next().await;
        assert_eq!(refused["msg"], "nosub", "{refused}");
        assert_eq!(refused["id"], id);
        assert_eq!(refused["error"]["error"], "not-allowed", "{refused}");
    }
    // Without a token in the subscription, the connection's token decides.
    let mut bare = app.ddp_connected().await;
    bare.subscribe("b1", "stream-room-messages", &theirs, None)
        .await;
    assert_eq!(bare.next().await["msg"], "nosub");
    bare.send(
        json!({"msg": "method", "id": "m", "method": "livechat:setUpConnection",
                     "params": [{"token": "theirs"}]}),
    )
    .await;
    bare.next_where(FRAME_WAIT, |f| f["msg"] == "updated")
        .await
        .expect("set up");
    bare.subscribe("b2", "stream-room-messages", &theirs, None)
        .await;
    assert_eq!(bare.next().await, json!({"msg": "ready", "subs": ["b2"]}));
    // An unknown stream is 404; an unsubscribe is confirmed.
    ddp.subscribe("u1", "stream-everything", &mine, Some("mine"))
        .await;
    let unknown = ddp.next().await;
    assert_eq!(unknown["msg"], "nosub");
    assert_eq!(unknown["error"]["error"], 404, "{unknown}");
    ddp.send(json!({"msg": "unsub", "id": "s2"})).await;
    assert_eq!(ddp.next().await, json!({"msg": "nosub", "id": "s2"}));
}

#[tokio::test]
async fn an_assignment_on_one_instance_reaches_a_visitor_connected_to_another_within_a_second() {
    let app = spawn_app_with(|s| s.routing.queue_interval_ms = 0).await;
    let mut settings = test_settings(&app.db_name);
    settings.routing.queue_interval_ms = 0;
    let other = spawn_instance(settings).await;
    let (ann, sales, busy) = full_department(&app).await;
    let room = other.visitor_room("walt", Some(&sales)).await;
    let rid = room["_id"].as_str().unwrap();
    assert!(room.get("servedBy").is_none(), "{room}");
    let mut ddp = other.ddp_connected().await;
    ddp.subscribe("s1", "stream-livechat-room", rid, Some("walt"))
        .await;
    assert_eq!(ddp.next().await["msg"], "ready");
    let queued = ddp.next().await;
    assert!(room_event(&queued, rid, "queueData"), "{queued}");
    assert_eq!(queued["fields"]["args"][0]["data"]["spot"], 1);
    // Ann's other chat closes through the first instance: the waiting
    // room is hers, and the visitor on the other instance is told.
    let closed_at = Instant::now();
    app.close(&busy).await;
    let agent = ddp
        .next_where(FRAME_WAIT, |f| room_event(f, rid, "agentData"))
        .await
        .expect("the agent is announced");
    let took = closed_at.elapsed();
    assert_eq!(agent["fields"]["args"][0]["data"]["_id"], ann.as_str());
    assert_eq!(agent["fields"]["args"][0]["data"]["name"], "ann name");
    assert!(took < ACROSS_INSTANCES, "took {took:?}");
    // Told once.
    assert!(
        ddp.next_where(Duration::from_millis(500), |f| room_event(
            f,
            rid,
            "agentData"
        ))
        .await
        .is_none()
    );
}

#[tokio::test]
async fn a_message_stored_through_one_instance_reaches_the_room_stream_on_another() {
    let app = spawn_app().await;
    let other = spawn_instance(test_settings(&app.db_name)).await;
    let (ann, _) = app.available_agent("ann").await;
    let sales = app.department_with("Sales", &[(&ann, None, None)]).await;
    let room = app.visitor_room("vera", Some(&sales)).await;
    let rid = room["_id"].as_str().unwrap();
    let mut ddp = other.ddp_connected().await;
    ddp.subscribe("m", "stream-room-messages", rid, Some("vera"))
        .await;
    assert_eq!(ddp.next().await["msg"], "ready");
    let sent_at = Instant::now();
    let a = app
        .call(
            reqwest::Method::POST,
            "/api/v1/livechat/message",
            None,
            Some(json!({"token": "vera", "rid": rid, "msg": "hello there", "_id": "msg-1"})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let event = ddp
        .next_where(FRAME_WAIT, |f| f["collection"] == "stream-room-messages")
        .await
        .expect("the message is streamed");
    assert!(
        sent_at.elapsed() < ACROSS_INSTANCES,
        "{:?}",
        sent_at.elapsed()
    );
    assert_eq!(event["msg"], "changed");
    assert_eq!(event["fields"]["eventName"], rid);
    let message = &event["fields"]["args"][0];
    assert_eq!(message["_id"], "msg-1");
    assert_eq!(message["msg"], "hello there");
    assert_eq!(message["rid"], rid);
    // EJSON, as the widget's client reads a date.
    assert!(message["ts"]["$date"].is_i64(), "{message}");
}

#[tokio::test]
async fn a_waiting_visitor_is_told_when_its_place_in_the_queue_moves() {
    let app = spawn_app_with(|s| s.routing.queue_interval_ms = 0).await;
    let (_, sales, _) = full_department(&app).await;
    let first = app.visitor_room("first", Some(&sales)).await;
    let second = app.visitor_room("second", Some(&sales)).await;
    let rid = second["_id"].as_str().unwrap();
    let mut ddp = app.ddp_connected().await;
    ddp.subscribe("q", "stream-livechat-room", rid, Some("second"))
        .await;
    assert_eq!(ddp.next().await["msg"], "ready");
    let at_first = ddp.next().await;
    assert_eq!(
        at_first["fields"]["args"][0]["data"]["spot"], 2,
        "{at_first}"
    );
    // The visitor ahead gives up.
    let a = app
        .call(
            reqwest::Method::POST,
            "/api/v1/livechat/room.close",
            None,
            Some(json!({"token": "first", "rid": first["_id"]})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let moved = ddp
        .next_where(FRAME_WAIT, |f| room_event(f, rid, "queueData"))
        .await
        .expect("the new place is announced");
    assert_eq!(moved["fields"]["args"][0]["data"]["spot"], 1, "{moved}");
}

#[tokio::test]
async fn connections_per_client_address_are_limited() {
    let app = spawn_app_with(|s| s.live.max_connections_per_address = 2).await;
    let first = app.ddp_open().await;
    let _second = app.ddp_open().await;
    let refused = tokio_tungstenite::connect_async(app.websocket_url()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429)
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // A closed connection gives its place back.
    drop(first);
    let mut admitted = false;
    for _ in 0..20 {
        if tokio_tungstenite::connect_async(app.websocket_url())
            .await
            .is_ok()
        {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted, "a place was given back");
}

#[tokio::test]
async fn an_oversized_frame_or_a_flood_of_frames_closes_the_connection() {
    let app = spawn_app_with(|s| {
        s.live.max_frame_bytes = 1024;
        s.live.frames_per_second = 5;
    })
    .await;
    let mut big = app.ddp_connected().await;
    big.send_text(&format!(r#"{{"msg":"ping","id":"{}"}}"#, "x".repeat(2000)))
        .await;
    let close = big.closed(FRAME_WAIT).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Size);
    let mut flood = app.ddp_connected().await;
    for i in 0..20 {
        if !flood
            .send_message(Message::text(json!({"msg": "ping", "id": i}).to_string()))
            .await
        {
            break;
        }
    }
    let close = flood.closed(FRAME_WAIT).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Policy);
}

#[tokio::test]
async fn an_idle_connection_is_pinged_then_closed() {
    let app = spawn_app_with(|s| {
        s.live.ping_interval_seconds = 1;
        s.live.idle_timeout_seconds = 3;
    })
    .await;
    let mut ddp = app.ddp_connected().await;
    let ping = ddp.receive(Duration::from_secs(3)).await;
    assert!(
        matches!(&ping, Some(Received::Frame(f)) if *f == json!({"msg": "ping"})),
        "{ping:?}"
    );
    let close = ddp
        .closed(Duration::from_secs(4))
        .await
        .expect("a close frame");
    assert_eq!(close.code, CloseCode::Normal);
    // A connection that answers stays open past the idle bound.
    let mut awake = app.ddp_connected().await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        match awake.receive(Duration::from_secs(2)).await {
            Some(Received::Frame(f)) if f["msg"] == "ping" => {
                awake.send(json!({"msg": "pong"})).await
            }
            Some(Received::Closed(c)) => panic!("closed while answering: {c:?}"),
            _ => {}
        }
    }
    awake.send(json!({"msg": "ping", "id": "still"})).await;
    assert_eq!(awake.next().await, json!({"msg": "pong", "id": "still"}));
}
