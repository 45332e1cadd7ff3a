//! The real livechat widget against Switchboard, in a real browser: Rocket.Chat's
//! `@rocket.chat/livechat` 1.13.3 (pinned in `tests/widget/package-lock.json`)
//! driven by `tests/widget/journey.mjs` with `playwright-core` in Debian's
//! chromium. Two departments are shown on registration, each with an agent;
//! a visitor choosing Sales is served by Ann; with Support's only agent full,
//! a visitor choosing Support is told it waits.
//!
//! Over its live connection (`/websocket`), a waiting visitor is told that
//! it waits and, when a chat closes through another instance, shows its
//! agent without a reload.
//!
//! `scripts/test.sh` installs the widget (`npm ci` in `tests/widget`). Set
//! `WIDGET_SCREENSHOTS=docs/widget` to refresh the README's screenshots.

use mongodb::bson::{Document, doc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with, spawn_instance, test_settings};

fn widget_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/widget")
}

/// A port nobody listens on right now, for the widget's static server.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the journey script; answers its exit success and what it saw.
async fn journey(options: Value) -> (bool, Value) {
    let dir = widget_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "the widget is not installed: run `npm ci` in tests/widget (scripts/test.sh does)"
    );
    // The server runs on this test's runtime: wait for the browser off it.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(dir.join("journey.mjs"))
            .arg(options.to_string())
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seen = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_else(
            || json!({"stdout": stdout, "stderr": String::from_utf8_lossy(&output.stderr)}),
        );
    (output.status.success(), seen)
}

fn screenshots(name: &str) -> Value {
    match std::env::var("WIDGET_SCREENSHOTS") {
        Ok(dir) if !dir.is_empty() => {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            json!(dir.join(name).to_string_lossy())
        }
        _ => Value::Null,
    }
}

/// A port for the widget's page, and an instance that page may call
/// (CORS) whose queue is placed on events only.
async fn widget_app() -> (u16, TestApp) {
    let widget_port = free_port();
    let origin = format!("http://127.0.0.1:{widget_port}");
    let app = spawn_app_with(|s| {
        s.http.cors_origins = vec![origin];
        s.routing.queue_interval_ms = 0;
    })
    .await;
    (widget_port, app)
}

/// The id of the agent a stored room names as `servedBy`.
fn served_by(room: &Document) -> &str {
    room.get_document("servedBy")
        .and_then(|s| s.get_str("_id"))
        .unwrap_or_else(|_| panic!("no servedBy: {room:?}"))
}

async fn room_of(app: &TestApp, token: &str) -> Document {
    app.db
        .collection::<Document>("rocketchat_room")
        .find_one(doc! {"t": "l", "v.token": token})
        .await
        .unwrap()
        .expect("the widget's visitor has a room")
}

#[tokio::test]
async fn the_widget_registers_a_visitor_who_is_served_or_told_to_wait() {
    let (widget_port, app) = widget_app().await;
    let (ann, _) = app.available_agent("ann").await;
    let (bob, _) = app.available_agent("bob").await;
    app.set_limit(&bob, 1).await;
    let sales = app.department_with("Sales", &[(&ann, None, None)]).await;
    let support = app.department_with("Support", &[(&bob, None, None)]).await;

    // A visitor choosing Sales is served by Ann.
    let (ok, seen) = journey(json!({
        "widgetPort": widget_port, "serverUrl": app.address, "department": "Sales",
        "expect": "agent", "agentName": "ann name", "screenshots": screenshots("served"),
        "visitorName": "Vera Visitor", "visitorEmail": "vera@example.com",
    }))
    .await;
    assert!(ok, "{seen:#}");
    assert_eq!(seen["departments"], json!(["Sales", "Support"]), "{seen:#}");
    assert_eq!(seen["failed"], json!([]), "{seen:#}");
    let token = seen["token"].as_str().expect("the widget's token");
    let visitor = app
        .db
        .collection::<Document>("rocketchat_livechat_visitor")
        .find_one(doc! {"token": token})
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(visitor.get_str("name").unwrap(), "Vera Visitor");
    assert_eq!(visitor.get_str("department").unwrap(), sales);
    let room = room_of(&app, token).await;
    assert_eq!(served_by(&room), ann);
    let rid = room.get_str("_id").unwrap();
    assert_eq!(
        app.count(
            "switchboard_assignments",
            doc! {"roomId": rid, "agentId": &ann, "status": "open"}
        )
        .await,
        1
    );
    assert_eq!(app.count("rocketchat_message", doc! {"rid": rid}).await, 1);

    // Support's only agent is full: the next visitor choosing it waits.
    let busy = app.route("already-with-bob", Some(&support)).await;
    assert_eq!(busy["username"], "bob");
    let (ok, seen) = journey(json!({
        "widgetPort": widget_port, "serverUrl": app.address, "department": "Support",
        "expect": "waiting", "screenshots": screenshots("waiting"),
        "visitorName": "Walt Waiting", "visitorEmail": "walt@example.com",
    }))
    .await;
    assert!(ok, "{seen:#}");
    assert_eq!(seen["waitingShown"], true);
    assert_eq!(seen["failed"], json!([]), "{seen:#}");
    let token = seen["token"].as_str().expect("the widget's token");
    let room = room_of(&app, token).await;
    assert!(room.get("servedBy").is_none(), "{room:?}");
    let rid = room.get_str("_id").unwrap();
    assert_eq!(
        app.count(
            "rocketchat_livechat_inquiry",
            doc! {"rid": rid, "status": "queued"}
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "switchboard_assignments",
            doc! {"roomId": rid, "status": "queued"}
        )
        .await,
        1
    );
    let config = app
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/livechat/config?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(
        config.body["config"]["queueInfo"]["spot"], 1,
        "{:?}",
        config.body
    );
}

/// How soon the widget must show the agent after the close.
const AGENT_SHOWN_WITHIN_MS: u64 = 2000;

#[tokio::test]
async fn a_waiting_widget_shows_its_agent_without_a_reload_when_a_chat_closes_on_another_instance()
{
    let (widget_port, app) = widget_app().await;
    let mut settings = test_settings(&app.db_name);
    settings.routing.queue_interval_ms = 0;
    let other = spawn_instance(settings).await;
    let (bob, _) = app.available_agent("bob").await;
    app.set_limit(&bob, 1).await;
    let support = app.department_with("Support", &[(&bob, None, None)]).await;
    let busy = app.route("already-with-bob", Some(&support)).await;
    assert_eq!(busy["username"], "bob");
    let close_url = format!(
        "{}/api/v1/livechat/assignments/{}/close",
        other.address,
        busy["_id"].as_str().unwrap()
    );

    let (ok, seen) = journey(json!({
        "widgetPort": widget_port, "serverUrl": app.address, "department": "Support",
        "expect": "waiting", "live": true, "screenshots": screenshots("live"),
        "visitorName": "Walt Waiting", "visitorEmail": "walt@example.com",
        "closeUrl": close_url,
        "closeHeaders": {"X-User-Id": other.admin.user_id, "X-Auth-Token": other.admin.token},
        "agentName": "bob name", "agentWithinMs": AGENT_SHOWN_WITHIN_MS,
    }))
    .await;
    assert!(ok, "{seen:#}");
    assert_eq!(seen["failed"], json!([]), "{seen:#}");
    assert_eq!(seen["waitingShown"], true, "{seen:#}");
    assert_eq!(seen["closeStatus"], 200, "{seen:#}");
    assert_eq!(seen["agentShown"], "bob name", "{seen:#}");
    assert!(
        seen["agentAfterMs"].as_u64().unwrap() <= AGENT_SHOWN_WITHIN_MS,
        "{seen:#}"
    );
    // One page load: nothing was reloaded.
    assert_eq!(seen["loads"], 1, "{seen:#}");
    let socket = format!("{}/websocket", app.address.replacen("http", "ws", 1));
    assert!(
        seen["socket"]["urls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == &json!(socket)),
        "{seen:#}"
    );
    let token = seen["token"].as_str().expect("the widget's token");
    let room = room_of(&app, token).await;
    assert_eq!(served_by(&room), bob);
}
