//! A routing request answered with an error leaves nothing that acts
//! later: a chat decided for a request that failed is withdrawn, whether
//! its record landed late, the room it names could not be written, or the
//! caller stopped waiting (answered 503 by the request bound). A retry
//! then converges on one chat.

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;

use crate::faults::{FAIL_POINT, arm_for, disarm, faulty_settings, repaired};
use crate::helpers::{Answer, Creds, TestApp, all, fresh_db_name, number, spawn_instance};

/// An instance that fail points can single out, with requests bounded at
/// 3 s (so a stall of 5 s outlasts them), Ann in `sales`, and the visitor
/// `vera` registered in `sales`.
struct Case {
    app: TestApp,
    app_name: String,
    ann: String,
    ann_creds: Creds,
    sales: String,
}

async fn case(kind: &str) -> Case {
    let db_name = fresh_db_name();
    let app_name = format!("{kind}-{db_name}");
    let mut settings = faulty_settings(&db_name, &app_name);
    settings.http.request_timeout_ms = 3_000;
    let app = spawn_instance(settings).await;
    let (ann, ann_creds) = app.available_agent("ann").await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    let a = app
        .call(
            Method::POST,
            "/api/v1/livechat/visitor",
            None,
            Some(json!({"visitor": {"token": "vera", "department": &sales}})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    Case {
        app,
        app_name,
        ann,
        ann_creds,
        sales,
    }
}

async fn open_room(app: &TestApp) -> Answer {
    app.call(Method::GET, "/api/v1/livechat/room?token=vera", None, None)
        .await
}

/// Waits until Vera has no live chat and no open room, and the repair has
/// left Ann's slots and counts matching what was routed.
async fn withdrawn(c: &Case) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let live = all(
            &c.app,
            "switchboard_assignments",
            doc! {"visitorToken": "vera", "status": {"$in": ["open", "offered", "queued"]}},
        )
        .await;
        let open_rooms = all(
            &c.app,
            "rocketchat_room",
            doc! {"v.token": "vera", "open": true},
        )
        .await;
        if live.is_empty() && open_rooms.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the failed request's chat was not withdrawn: {live:?} {open_rooms:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    repaired(&c.app, &c.sales, &[&c.ann]).await;
    let ann = c.app.stored("users", &c.ann).await.unwrap();
    assert_eq!(number(&ann, "openLivechats"), 0, "{ann:?}");
}

/// Asking again opens one room, served by Ann.
async fn a_retry_converges(c: &Case) {
    let again = open_room(&c.app).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["room"]["servedBy"]["_id"], c.ann.as_str());
    let live = all(
        &c.app,
        "switchboard_assignments",
        doc! {"visitorToken": "vera", "active": true},
    )
    .await;
    assert_eq!(live.len(), 1, "{live:?}");
}

#[tokio::test]
async fn a_queued_chat_whose_record_lands_after_its_request_failed_is_never_given_to_an_agent() {
    let _turn = FAIL_POINT.lock().await;
    let c = case("late-queued").await;
    c.app
        .set_livechat_status(&c.ann_creds, "not-available")
        .await;
    // The record of the decision (queued: nobody is available) and the
    // fence that follows it both stall past the request bound.
    arm_for(&c.app, &c.app_name, "insert", 0, 2, Some(5_000)).await;
    let failed = open_room(&c.app).await;
    assert_eq!(failed.status, 503, "{:?}", failed.body);
    // Ann becomes available while the stalled record is still landing;
    // the sweep runs every 100 ms.
    c.app.set_livechat_status(&c.ann_creds, "available").await;
    tokio::time::sleep(std::time::Duration::from_millis(6_000)).await;
    disarm(&c.app).await;
    withdrawn(&c).await;
    let served = all(
        &c.app,
        "switchboard_assignments",
        doc! {"visitorToken": "vera", "agentId": {"$exists": true}},
    )
    .await;
    assert!(served.is_empty(), "given to an agent: {served:?}");
    a_retry_converges(&c).await;
}

#[tokio::test]
async fn a_chat_whose_room_cannot_be_written_is_withdrawn_and_frees_its_slot() {
    let _turn = FAIL_POINT.lock().await;
    let c = case("room-fails").await;
    // The decision's record goes through; the room's insert fails.
    arm_for(&c.app, &c.app_name, "insert", 1, 1, None).await;
    let failed = open_room(&c.app).await;
    disarm(&c.app).await;
    assert!(failed.status >= 500, "{:?}", failed.body);
    withdrawn(&c).await;
    a_retry_converges(&c).await;
}

#[tokio::test]
async fn a_chat_finished_after_its_caller_was_answered_503_is_withdrawn() {
    let _turn = FAIL_POINT.lock().await;
    let c = case("caller-gone").await;
    // The room's insert stalls past the request bound, then lands: the
    // caller has been answered 503 by then.
    arm_for(&c.app, &c.app_name, "insert", 1, 1, Some(5_000)).await;
    let failed = open_room(&c.app).await;
    assert_eq!(failed.status, 503, "{:?}", failed.body);
    assert_eq!(failed.body["errorType"], "error-request-timeout");
    disarm(&c.app).await;
    withdrawn(&c).await;
    a_retry_converges(&c).await;
}
