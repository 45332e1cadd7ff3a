//! A queue that moves on every event: whenever room may have appeared, the
//! oldest waiting chat that the room can serve is placed at once — these
//! apps never sweep, so nothing here waits for the periodic safety net.

use mongodb::bson::doc;
use serde_json::{Value, json};

use crate::helpers::{Creds, TestApp, app_with_slow_sweep, assignment, configure, number, switch};

async fn set_status(app: &TestApp, creds: &Creds, status: &str) {
    let a = app
        .post("/api/v1/users.setStatus", creds, json!({"status": status}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

/// Asserts the older chat got the agent and the newer still waits.
async fn oldest_placed(app: &TestApp, older: &Value, newer: &Value, agent: &str) {
    let older = assignment(app, &older["_id"]).await;
    assert_eq!(older["status"], "open", "{older}");
    assert_eq!(older["username"], agent);
    let newer = assignment(app, &newer["_id"]).await;
    assert_eq!(newer["status"], "queued", "{newer}");
}

/// Ann (limit 1) is the only agent of `sales`, busy with one chat; two
/// chats wait behind it.
struct Busy {
    ann: String,
    ann_creds: Creds,
    sales: String,
    open: Value,
    older: Value,
    newer: Value,
}

async fn busy(app: &TestApp) -> Busy {
    let (ann, ann_creds) = app.available_agent("ann").await;
    app.set_limit(&ann, 1).await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    let open = app.route("v0", Some(&sales)).await;
    assert_eq!(open["username"], "ann");
    let older = app.route("v1", Some(&sales)).await;
    let newer = app.route("v2", Some(&sales)).await;
    assert_eq!(older["status"], "queued");
    assert_eq!(newer["status"], "queued");
    Busy {
        ann,
        ann_creds,
        sales,
        open,
        older,
        newer,
    }
}

#[tokio::test]
async fn a_close_places_the_oldest_waiting_chat_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    app.close(b.open["_id"].as_str().unwrap()).await;
    oldest_placed(&app, &b.older, &b.newer, "ann").await;
}

#[tokio::test]
async fn an_agent_becoming_available_places_the_oldest_waiting_chat_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    app.set_livechat_status(&b.ann_creds, "not-available").await;
    app.close(b.open["_id"].as_str().unwrap()).await;
    // Not available: the freed slot waits for it.
    assert_eq!(assignment(&app, &b.older["_id"]).await["status"], "queued");

    app.set_livechat_status(&b.ann_creds, "available").await;

    oldest_placed(&app, &b.older, &b.newer, "ann").await;
}

#[tokio::test]
async fn an_agent_coming_online_places_the_oldest_waiting_chat_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    set_status(&app, &b.ann_creds, "offline").await;
    app.close(b.open["_id"].as_str().unwrap()).await;
    assert_eq!(assignment(&app, &b.older["_id"]).await["status"], "queued");

    set_status(&app, &b.ann_creds, "online").await;

    oldest_placed(&app, &b.older, &b.newer, "ann").await;
}

#[tokio::test]
async fn a_raised_limit_places_the_oldest_waiting_chat_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    app.set_limit(&b.ann, 2).await;
    oldest_placed(&app, &b.older, &b.newer, "ann").await;
}

#[tokio::test]
async fn a_link_added_places_the_oldest_waiting_chat_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    let (bob, _) = app.available_agent("bob").await;
    app.set_limit(&bob, 1).await;

    let a = app
        .post(
            &format!("/api/v1/livechat/department/{}/agents", b.sales),
            &app.admin,
            json!({"upsert": [{"agentId": bob}], "remove": []}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);

    oldest_placed(&app, &b.older, &b.newer, "bob").await;
    // Bob joined at the department's lowest count (Ann's 1), then served one.
    assert_eq!(number(&app.stored_link(&b.sales, &bob).await, "count"), 2);
    let user = app.stored("users", &bob).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 1);
}

#[tokio::test]
async fn an_agent_added_by_a_department_update_places_the_oldest_waiting_chat_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    let (bob, _) = app.available_agent("bob").await;
    app.set_limit(&bob, 1).await;

    let a = app
        .put(
            &format!("/api/v1/livechat/department/{}", b.sales),
            &app.admin,
            json!({
                "department": {"enabled": true, "showOnRegistration": true, "showOnOfflineForm": true,
                               "name": "sales", "email": "sales@example.com"},
                "agents": [{"agentId": b.ann}, {"agentId": bob}],
            }),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);

    oldest_placed(&app, &b.older, &b.newer, "bob").await;
}

#[tokio::test]
async fn room_in_a_backup_department_places_the_chat_that_falls_back_to_it_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    // `support` has nobody and falls back to `sales`; its chat waits longest.
    let support = app.department_with("support", &[]).await;
    configure(
        &app,
        json!({"departmentAutoDistributionConfigs": [
            {"departmentId": support, "backupDepartments": [{"backupDepartmentId": b.sales, "order": 1}]}]}),
    )
    .await;
    // Queued after sales' two, so sales' older chat is still first overall.
    let fallback = app.route("v3", Some(&support)).await;
    assert_eq!(fallback["status"], "queued");
    app.set_limit(&b.ann, 2).await;
    oldest_placed(&app, &b.older, &b.newer, "ann").await;

    app.close(b.open["_id"].as_str().unwrap()).await;
    // Sales' newer chat (v2) waited longer than support's (v3).
    oldest_placed(&app, &b.newer, &fallback, "ann").await;

    app.close(b.older["_id"].as_str().unwrap()).await;

    let placed = assignment(&app, &fallback["_id"]).await;
    assert_eq!(placed["status"], "open", "{placed}");
    assert_eq!(placed["username"], "ann");
    assert_eq!(placed["departmentId"], json!(b.sales));
    assert_eq!(placed["requestedDepartmentId"], json!(support));
}

#[tokio::test]
async fn the_chat_waiting_longest_across_queues_gets_the_freed_slot() {
    let app = app_with_slow_sweep().await;
    let (ann, _) = app.available_agent("ann").await;
    app.set_limit(&ann, 1).await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    let support = app.department_with("support", &[]).await;
    configure(
        &app,
        json!({"departmentAutoDistributionConfigs": [
            {"departmentId": support, "backupDepartments": [{"backupDepartmentId": sales, "order": 1}]}]}),
    )
    .await;
    let open = app.route("v0", Some(&sales)).await;
    let first = app.route("v1", Some(&support)).await;
    let second = app.route("v2", Some(&sales)).await;

    app.close(open["_id"].as_str().unwrap()).await;

    oldest_placed(&app, &first, &second, "ann").await;
}

#[tokio::test]
async fn enabling_auto_distribution_places_the_oldest_waiting_chat_at_once() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    switch(&app, false).await;
    app.close(b.open["_id"].as_str().unwrap()).await;
    assert_eq!(assignment(&app, &b.older["_id"]).await["status"], "queued");

    switch(&app, true).await;

    oldest_placed(&app, &b.older, &b.newer, "ann").await;
}

#[tokio::test]
async fn the_queue_lists_waiting_chats_per_department_in_order() {
    let app = app_with_slow_sweep().await;
    let b = busy(&app).await;
    let elsewhere = app.route("v9", None).await;
    // Nobody without a department either: Ann is full.
    assert_eq!(elsewhere["status"], "queued");

    let a = app.get("/api/v1/livechat/queue", &app.admin).await;

    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["total"], 2);
    let queue = a.body["queue"].as_array().unwrap();
    assert_eq!(queue[0]["department"]["_id"], json!(b.sales));
    assert_eq!(queue[0]["department"]["name"], "sales");
    assert_eq!(queue[0]["chats"], 2);
    let ids: Vec<&Value> = queue[0]["inquiries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["_id"])
        .collect();
    assert_eq!(ids, [&b.older["_id"], &b.newer["_id"]]);
    assert_eq!(queue[0]["inquiries"][0]["status"], "queued");
    assert_eq!(queue[1]["department"], Value::Null);
    assert_eq!(queue[1]["inquiries"][0]["_id"], elsewhere["_id"]);

    let only = app
        .get(
            &format!("/api/v1/livechat/queue?departmentId={}", b.sales),
            &app.admin,
        )
        .await;
    assert_eq!(only.body["total"], 1, "{:?}", only.body);
    app.close(b.open["_id"].as_str().unwrap()).await;
    let after = app.get("/api/v1/livechat/queue", &app.admin).await;
    assert_eq!(after.body["queue"][0]["chats"], 1, "{:?}", after.body);
    assert_eq!(
        app.count("switchboard_assignments", doc! {"status": "queued"})
            .await,
        2
    );
}

#[tokio::test]
async fn the_queue_needs_view_l_room() {
    let app = app_with_slow_sweep().await;
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    crate::helpers::assert_forbidden(&app.get("/api/v1/livechat/queue", &plain).await);
    crate::helpers::assert_unauthenticated(
        &app.get(
            "/api/v1/livechat/queue",
            &Creds {
                user_id: "x".into(),
                token: "y".into(),
            },
        )
        .await,
    );
}
