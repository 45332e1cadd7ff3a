//! The widget's visitor side: registration, the visitor's room (routed
//! through the engine), its agent, its messages and its close; each call
//! public, rate-limited, and reaching only the token's own records.

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn public(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let a = app.call(method, path, None, body).await;
    (a.status, a.body)
}

async fn register(app: &TestApp, token: &str, department: Option<&str>) -> Value {
    let mut visitor = json!({"token": token, "name": format!("Visitor {token}"),
                             "email": format!("{token}@example.com")});
    if let Some(d) = department {
        visitor["department"] = json!(d);
    }
    let (status, body) = public(
        app,
        Method::POST,
        "/api/v1/livechat/visitor",
        Some(json!({"visitor": visitor})),
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    body["visitor"].clone()
}

async fn room(app: &TestApp, token: &str) -> Value {
    let (status, body) = public(
        app,
        Method::GET,
        &format!("/api/v1/livechat/room?token={token}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    body
}

async fn close_room(app: &TestApp, token: &str, rid: &str) -> (u16, Value) {
    public(
        app,
        Method::POST,
        "/api/v1/livechat/room.close",
        Some(json!({"rid": rid, "token": token})),
    )
    .await
}

#[tokio::test]
async fn a_visitor_registers_in_rocketchats_shape_and_reads_itself_back() {
    let app = spawn_app().await;
    let sales = app.department_with("sales", &[]).await;
    let v = register(&app, "tok-1", Some(&sales)).await;
    assert_eq!(v["token"], "tok-1");
    assert_eq!(v["department"], sales);
    assert!(v["username"].as_str().unwrap().starts_with("guest-"));
    let stored = app
        .stored("rocketchat_livechat_visitor", v["_id"].as_str().unwrap())
        .await
        .expect("stored");
    assert_eq!(stored.get_str("token").unwrap(), "tok-1");
    let emails = stored.get_array("visitorEmails").unwrap();
    assert_eq!(
        emails[0].as_document().unwrap().get_str("address").unwrap(),
        "tok-1@example.com"
    );
    // Registering again updates the same visitor.
    let again = register(&app, "tok-1", None).await;
    assert_eq!(again["_id"], v["_id"]);
    assert_eq!(again["username"], v["username"]);
    let (status, body) = public(&app, Method::GET, "/api/v1/livechat/visitor/tok-1", None).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body["visitor"]["_id"], v["_id"]);
    let (status, body) = public(&app, Method::GET, "/api/v1/livechat/visitor/nobody", None).await;
    assert_eq!(status, 400, "{body:?}");
    assert_eq!(body["error"], "invalid-token");
    let (status, body) = public(
        &app,
        Method::POST,
        "/api/v1/livechat/visitor.status",
        Some(json!({"token": "tok-1", "status": "away"})),
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body["status"], "away");
}

#[tokio::test]
async fn a_bad_registration_is_refused_clearly_and_stores_nothing() {
    let app = spawn_app().await;
    let off = app.department_with("off", &[]).await;
    app.put(
        &format!("/api/v1/livechat/department/{off}"),
        &app.admin,
        json!({"department": {"enabled": false, "name": "off", "email": "off@example.com",
               "showOnRegistration": true, "showOnOfflineForm": true}}),
    )
    .await;
    let long = "x".repeat(300);
    let cases = [
        (
            json!({"token": "t", "department": "no-such-department"}),
            "error-invalid-department",
        ),
        (
            json!({"token": "t", "department": off}),
            "error-invalid-department",
        ),
        (
            json!({"token": "t", "email": "not-an-email"}),
            "visitor.email",
        ),
        (json!({"token": "t", "name": long}), "visitor.name"),
        (json!({"name": "no token"}), "visitor.token"),
    ];
    for (visitor, needle) in cases {
        let (status, body) = public(
            &app,
            Method::POST,
            "/api/v1/livechat/visitor",
            Some(json!({"visitor": visitor})),
        )
        .await;
        assert_eq!(status, 400, "{visitor}: {body:?}");
        assert!(body.to_string().contains(needle), "{visitor}: {body:?}");
    }
    assert_eq!(app.count("rocketchat_livechat_visitor", doc! {}).await, 0);
}

#[tokio::test]
async fn the_room_is_routed_to_an_agent_of_the_visitors_department_once() {
    let app = spawn_app().await;
    let (ann, _) = app.available_agent("ann").await;
    let (bob, _) = app.available_agent("bob").await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    app.department_with("support", &[(&bob, None, None)]).await;
    register(&app, "v-1", Some(&sales)).await;
    let first = room(&app, "v-1").await;
    assert_eq!(first["newRoom"], true);
    let r = &first["room"];
    let rid = r["_id"].as_str().unwrap();
    assert_eq!(r["t"], "l");
    assert_eq!(r["servedBy"]["username"], "ann");
    assert_eq!(r["departmentId"], sales);
    // Stored as Rocket.Chat stores it, with the assignment as its routing record.
    let stored = app.stored("rocketchat_room", rid).await.expect("room");
    assert_eq!(stored.get_str("t").unwrap(), "l");
    assert_eq!(
        stored
            .get_document("servedBy")
            .unwrap()
            .get_str("_id")
            .unwrap(),
        ann
    );
    assert_eq!(
        stored.get_document("v").unwrap().get_str("token").unwrap(),
        "v-1"
    );
    assert_eq!(
        app.count(
            "switchboard_assignments",
            doc! {"roomId": rid, "agentId": &ann, "status": "open"}
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "rocketchat_livechat_inquiry",
            doc! {"rid": rid, "status": "taken"}
        )
        .await,
        1
    );
    // Asking again answers the same room, routed once.
    let again = room(&app, "v-1").await;
    assert_eq!(again["newRoom"], false);
    assert_eq!(again["room"]["_id"], rid);
    assert_eq!(app.count("rocketchat_room", doc! {}).await, 1);
    assert_eq!(app.count("switchboard_assignments", doc! {}).await, 1);
    // The agent, as the widget shows it.
    let (status, body) = public(
        &app,
        Method::GET,
        &format!("/api/v1/livechat/agent.info/{rid}/v-1"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body["agent"]["username"], "ann");
    assert_eq!(body["agent"]["name"], "ann name");
}

#[tokio::test]
async fn with_its_agents_full_the_room_waits_and_is_served_when_a_chat_closes() {
    let app = spawn_app_with(|s| s.routing.queue_interval_ms = 0).await;
    let (ann, _) = app.available_agent("ann").await;
    app.set_limit(&ann, 1).await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    register(&app, "first", Some(&sales)).await;
    register(&app, "second", Some(&sales)).await;
    let first = room(&app, "first").await["room"].clone();
    assert_eq!(first["servedBy"]["username"], "ann");
    let waiting = room(&app, "second").await["room"].clone();
    assert!(waiting.get("servedBy").is_none(), "{waiting:?}");
    let rid = waiting["_id"].as_str().unwrap();
    assert_eq!(
        app.count(
            "rocketchat_livechat_inquiry",
            doc! {"rid": rid, "status": "queued"}
        )
        .await,
        1
    );
    let (_, config) = public(
        &app,
        Method::GET,
        "/api/v1/livechat/config?token=second",
        None,
    )
    .await;
    assert_eq!(config["config"]["queueInfo"]["spot"], 1, "{config:?}");
    assert_eq!(config["config"]["room"]["_id"], rid);
    assert!(config["config"].get("agent").is_none());
    let (status, body) = public(
        &app,
        Method::GET,
        &format!("/api/v1/livechat/agent.info/{rid}/second"),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body:?}");
    // The first visitor ends its chat: Ann's slot goes to the waiting room.
    let (status, body) = close_room(&app, "first", first["_id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body["comment"], "Closed by visitor");
    let served = app.stored("rocketchat_room", rid).await.unwrap();
    assert_eq!(
        served
            .get_document("servedBy")
            .unwrap()
            .get_str("_id")
            .unwrap(),
        ann
    );
    let closed = app
        .stored("rocketchat_room", first["_id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(closed.get("open").is_none());
    assert_eq!(closed.get_str("closer").unwrap(), "visitor");
    let (_, config) = public(
        &app,
        Method::GET,
        "/api/v1/livechat/config?token=second",
        None,
    )
    .await;
    assert_eq!(config["config"]["agent"]["username"], "ann");
    assert!(config["config"].get("queueInfo").is_none());
    assert_eq!(app.open_per_agent().await.get(&ann), Some(&1));
    // Closing again is refused as Rocket.Chat does.
    let (status, body) = close_room(&app, "first", first["_id"].as_str().unwrap()).await;
    assert_eq!(status, 400, "{body:?}");
    assert_eq!(body["errorType"], "room-closed");
}

#[tokio::test]
async fn messages_are_stored_in_rocketchats_shape_and_only_their_visitor_reads_them() {
    let app = spawn_app().await;
    let (ann, _) = app.available_agent("ann").await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    register(&app, "writer", Some(&sales)).await;
    register(&app, "other", Some(&sales)).await;
    let rid = room(&app, "writer").await["room"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    for text in ["hello", "anyone there?"] {
        let (status, body) = public(
            &app,
            Method::POST,
            "/api/v1/livechat/message",
            Some(json!({"token": "writer", "rid": rid, "msg": text})),
        )
        .await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["message"]["msg"], text);
    }
    let stored = app
        .db
        .collection::<mongodb::bson::Document>("rocketchat_message")
        .find_one(doc! {"rid": &rid, "msg": "hello"})
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.get_str("token").unwrap(), "writer");
    assert!(
        stored
            .get_document("u")
            .unwrap()
            .get_str("username")
            .unwrap()
            .starts_with("guest-")
    );
    let room_doc = app.stored("rocketchat_room", &rid).await.unwrap();
    assert_eq!(crate::helpers::number(&room_doc, "msgs"), 2);
    let (status, body) = public(
        &app,
        Method::GET,
        &format!("/api/v1/livechat/messages.history/{rid}?token=writer"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    let texts: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msg"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["anyone there?", "hello"]);
    // Another visitor's token reaches neither the room nor its messages.
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/livechat/messages.history/{rid}?token=other"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/livechat/agent.info/{rid}/other"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/livechat/room?token=other&rid={rid}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/livechat/message".to_string(),
            Some(json!({"token": "other", "rid": rid, "msg": "x"})),
        ),
        (
            Method::POST,
            "/api/v1/livechat/room.close".to_string(),
            Some(json!({"token": "other", "rid": rid})),
        ),
    ] {
        let (status, answer) = public(&app, method, &path, body).await;
        assert_eq!(status, 400, "{path}: {answer:?}");
        assert_eq!(answer["error"], "invalid-room", "{path}");
    }
    let (status, _) = public(
        &app,
        Method::POST,
        "/api/v1/livechat/message",
        Some(json!({"token": "writer", "rid": rid, "msg": "x".repeat(5001)})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(app.count("rocketchat_message", doc! {}).await, 2);
}

#[tokio::test]
async fn removing_a_visitor_closes_its_chat_and_removes_its_data() {
    let app = spawn_app().await;
    let (ann, _) = app.available_agent("ann").await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    register(&app, "gone", Some(&sales)).await;
    room(&app, "gone").await;
    let (status, body) = public(&app, Method::DELETE, "/api/v1/livechat/visitor/gone", None).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(app.count("rocketchat_livechat_visitor", doc! {}).await, 0);
    assert_eq!(app.count("rocketchat_room", doc! {}).await, 0);
    assert_eq!(
        app.count("switchboard_assignments", doc! {"status": "open"})
            .await,
        0
    );
    assert_eq!(app.open_per_agent().await.get(&ann), None);
}

#[tokio::test]
async fn the_config_answers_what_the_widget_reads() {
    let app = spawn_app().await;
    let (_, body) = public(&app, Method::GET, "/api/v1/livechat/config", None).await;
    let c = &body["config"];
    for key in [
        "registrationForm",
        "nameFieldRegistrationForm",
        "emailFieldRegistrationForm",
        "displayOfflineForm",
        "allowSwitchingDepartments",
        "fileUpload",
        "limitTextLength",
    ] {
        assert!(c["settings"].get(key).is_some(), "settings.{key}: {c:?}");
    }
    for key in ["title", "color", "offlineTitle", "offlineColor", "position"] {
        assert!(c["theme"].get(key).is_some(), "theme.{key}");
    }
    for key in [
        "enabled",
        "messages",
        "survey",
        "triggers",
        "departments",
        "resources",
        "online",
    ] {
        assert!(c.get(key).is_some(), "{key}");
    }
    // With a department: whether that department has an available agent.
    let (ann, _) = app.available_agent("ann").await;
    let staffed = app.department_with("staffed", &[(&ann, None, None)]).await;
    let empty = app.department_with("empty", &[]).await;
    let online = |d: String| {
        let app = &app;
        async move {
            let path = format!("/api/v1/livechat/config?department={d}");
            public(app, Method::GET, &path, None).await.1["config"]["online"].clone()
        }
    };
    assert_eq!(online(staffed).await, json!(true));
    assert_eq!(online(empty).await, json!(false));
    // A setting change shows in the config (through this instance: at once).
    let a = app
        .post(
            "/api/v1/settings/Livechat_title",
            &app.admin,
            json!({"value": "Help desk"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let (_, body) = public(&app, Method::GET, "/api/v1/livechat/config", None).await;
    assert_eq!(body["config"]["theme"]["title"], "Help desk");
    // Livechat off: Rocket.Chat's config says only that.
    let a = app
        .post(
            "/api/v1/settings/Livechat_enabled",
            &app.admin,
            json!({"value": false}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let (_, body) = public(&app, Method::GET, "/api/v1/livechat/config", None).await;
    assert_eq!(body, json!({"config": {"enabled": false}, "success": true}));
}

#[tokio::test]
async fn public_calls_are_rate_limited_per_client_address() {
    let app = spawn_app_with(|s| s.rate_limit.livechat_per_minute = 2).await;
    for _ in 0..2 {
        let (status, _) = public(&app, Method::GET, "/api/v1/livechat/config", None).await;
        assert_eq!(status, 200);
    }
    let a = app
        .call(Method::GET, "/api/v1/livechat/visitor/x", None, None)
        .await;
    assert_eq!(a.status, 429, "{:?}", a.body);
    assert!(a.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn the_widget_may_call_from_its_own_origin() {
    let app = spawn_app_with(|s| s.http.cors_origins = vec!["http://widget.example".into()]).await;
    let a = app
        .http
        .request(
            Method::OPTIONS,
            format!("{}/api/v1/livechat/visitor", app.address),
        )
        .header("Origin", "http://widget.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(a.status().is_success(), "{}", a.status());
    assert_eq!(
        a.headers().get("access-control-allow-origin").unwrap(),
        "http://widget.example"
    );
}

#[tokio::test]
async fn concurrent_asks_for_a_visitors_room_open_one_room_routed_once() {
    let app = spawn_app().await;
    let (ann, _) = app.available_agent("ann").await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    register(&app, "eager", Some(&sales)).await;
    let asks = (0..8).map(|_| room(&app, "eager"));
    let answers = futures::future::join_all(asks).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| a["room"]["_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(app.count("rocketchat_room", doc! {}).await, 1);
    assert_eq!(app.count("rocketchat_livechat_inquiry", doc! {}).await, 1);
    assert_eq!(app.count("switchboard_assignments", doc! {}).await, 1);
    assert_eq!(app.open_per_agent().await.get(&ann), Some(&1));
}

#[tokio::test]
async fn a_waiting_room_gets_its_agent_when_one_becomes_available() {
    let app = spawn_app_with(|s| s.routing.queue_interval_ms = 0).await;
    let (ann, ann_creds) = app.available_agent("ann").await;
    app.set_livechat_status(&ann_creds, "not-available").await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    register(&app, "patient", Some(&sales)).await;
    let waiting = room(&app, "patient").await["room"].clone();
    assert!(waiting.get("servedBy").is_none(), "{waiting:?}");
    let rid = waiting["_id"].as_str().unwrap();
    // Ann comes back: the engine places the waiting chat, and the same
    // code path writes the room's servedBy.
    app.set_livechat_status(&ann_creds, "available").await;
    let stored = app.stored("rocketchat_room", rid).await.unwrap();
    assert_eq!(
        stored
            .get_document("servedBy")
            .unwrap()
            .get_str("_id")
            .unwrap(),
        ann
    );
    assert_eq!(
        app.count(
            "rocketchat_livechat_inquiry",
            doc! {"rid": rid, "status": "taken"}
        )
        .await,
        1
    );
    let again = room(&app, "patient").await;
    assert_eq!(again["room"]["servedBy"]["username"], "ann");
}

#[tokio::test]
async fn removing_a_department_makes_its_rooms_and_waiting_inquiries_forget_it() {
    let app = spawn_app_with(|s| s.routing.queue_interval_ms = 0).await;
    let (ann, _) = app.available_agent("ann").await;
    app.set_limit(&ann, 1).await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    register(&app, "served", Some(&sales)).await;
    register(&app, "waiting", Some(&sales)).await;
    let served = room(&app, "served").await["room"]["_id"].clone();
    let waiting = room(&app, "waiting").await["room"]["_id"].clone();
    assert_eq!(
        app.count("rocketchat_room", doc! {"departmentId": &sales})
            .await,
        2
    );
    assert_eq!(
        app.count("rocketchat_livechat_inquiry", doc! {"department": &sales})
            .await,
        2
    );

    let removed = app
        .delete(&format!("/api/v1/livechat/department/{sales}"), &app.admin)
        .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);

    for rid in [&served, &waiting] {
        let stored = app
            .stored("rocketchat_room", rid.as_str().unwrap())
            .await
            .expect("the room stays");
        assert!(stored.get("departmentId").is_none(), "{stored:?}");
    }
    assert_eq!(
        app.count("rocketchat_livechat_inquiry", doc! {"department": &sales})
            .await,
        0
    );
    assert_eq!(
        app.count(
            "rocketchat_livechat_inquiry",
            doc! {"rid": waiting.as_str().unwrap()}
        )
        .await,
        1,
        "the waiting inquiry stays, without its department"
    );
}
