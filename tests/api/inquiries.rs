//! Manual take, Rocket.Chat's way: the inquiry API over the waiting chats.

use futures::future::join_all;
use mongodb::bson::doc;
use serde_json::{Value, json};

use crate::helpers::{
    Creds, TestApp, assert_bad_request, assert_forbidden, fresh_db_name, number, spawn_instance,
    test_settings,
};
use crate::helpers::{app_with_slow_sweep, assignment, configure, switch};

async fn take(app: &TestApp, creds: &Creds, inquiry: &Value) -> crate::helpers::Answer {
    app.post(
        "/api/v1/livechat/inquiries.take",
        creds,
        json!({"inquiryId": inquiry["_id"]}),
    )
    .await
}

/// Auto distribution is off: chats wait for an agent to take them. Ann
/// and Bob are agents of `sales`.
struct Manual {
    ann: String,
    ann_creds: Creds,
    bob: String,
    bob_creds: Creds,
    sales: String,
}

async fn manual(app: &TestApp) -> Manual {
    let (ann, ann_creds) = app.available_agent("ann").await;
    let (bob, bob_creds) = app.available_agent("bob").await;
    let sales = app
        .department_with("sales", &[(&ann, None, None), (&bob, None, None)])
        .await;
    switch(app, false).await;
    Manual {
        ann,
        ann_creds,
        bob,
        bob_creds,
        sales,
    }
}

#[tokio::test]
async fn with_auto_distribution_disabled_an_agent_takes_a_waiting_chat() {
    let app = app_with_slow_sweep().await;
    let m = manual(&app).await;
    let waiting = app.route("v1", Some(&m.sales)).await;
    assert_eq!(waiting["status"], "queued");

    let a = take(&app, &m.ann_creds, &waiting).await;

    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["inquiry"]["_id"], waiting["_id"]);
    assert_eq!(a.body["inquiry"]["status"], "taken");
    let taken = assignment(&app, &waiting["_id"]).await;
    assert_eq!(taken["status"], "open");
    assert_eq!(taken["username"], "ann");
    assert_eq!(taken["method"], "manual");
    assert_eq!(taken["departmentId"], json!(m.sales));
    assert_eq!(number(&app.stored_link(&m.sales, &m.ann).await, "count"), 1);
    let user = app.stored("users", &m.ann).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 1);
    assert!(user.get_array("routingHolds").unwrap().len() == 1);
    let text = crate::helpers::scrape(&app.address).await;
    assert!(crate::helpers::sample(&text, "switchboard_manual_takes_total", &[]) >= 1.0);
    let history: Vec<&str> = taken["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["queued", "takenManually"]);

    // Taken once: a second take is refused and changes nothing.
    let again = take(&app, &m.bob_creds, &waiting).await;
    assert_bad_request(&again, "Inquiry already taken");
    let bob = app.stored("users", &m.bob).await.unwrap();
    assert_eq!(number(&bob, "openLivechats"), 0);
    assert_eq!(number(&app.stored_link(&m.sales, &m.bob).await, "count"), 0);
}

#[tokio::test]
async fn with_rocketchats_manual_selection_chats_wait_to_be_taken() {
    let app = app_with_slow_sweep().await;
    let (ann, ann_creds) = app.available_agent("ann").await;
    let sales = app.department_with("sales", &[(&ann, None, None)]).await;
    let set = app
        .post(
            "/api/v1/settings/Livechat_Routing_Method",
            &app.admin,
            json!({"value": "Manual_Selection"}),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    // Within the one-second bound every instance's policies follow.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;

    let waiting = app.route("v1", Some(&sales)).await;
    assert_eq!(waiting["status"], "queued", "{waiting:?}");
    let a = take(&app, &ann_creds, &waiting).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(assignment(&app, &waiting["_id"]).await["username"], "ann");

    // Back to automatic: the next chat is routed at once.
    let set = app
        .post(
            "/api/v1/settings/Livechat_Routing_Method",
            &app.admin,
            json!({"value": "Auto_Selection"}),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let routed = app.route("v2", Some(&sales)).await;
    assert_eq!(routed["status"], "open", "{routed:?}");
}

#[tokio::test]
async fn inquiries_list_the_waiting_chats_oldest_first() {
    let app = app_with_slow_sweep().await;
    let m = manual(&app).await;
    let (_, plain) = app.available_agent("cid").await; // in no department
    let first = app.route("v1", Some(&m.sales)).await;
    let second = app.route("v2", Some(&m.sales)).await;
    let other = app.department_with("other", &[]).await;
    let elsewhere = app.route("v3", Some(&other)).await;

    let all = app.get("/api/v1/livechat/inquiries.list", &app.admin).await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    assert_eq!(all.body["total"], 3);
    assert_eq!(all.body["inquiries"][0]["_id"], first["_id"]);
    assert_eq!(all.body["inquiries"][0]["department"], json!(m.sales));
    assert_eq!(all.body["inquiries"][0]["v"]["token"], "v1");
    assert_eq!(all.body["inquiries"][0]["status"], "queued");
    let of_sales = app
        .get(
            &format!("/api/v1/livechat/inquiries.list?department={}", m.sales),
            &app.admin,
        )
        .await;
    assert_eq!(of_sales.body["total"], 2);
    // Agents see only what they may take; the manager's list is not theirs.
    assert_forbidden(
        &app.get("/api/v1/livechat/inquiries.list", &m.ann_creds)
            .await,
    );
    let mine = app
        .get("/api/v1/livechat/inquiries.queuedForUser", &m.ann_creds)
        .await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    let ids: Vec<&Value> = mine.body["inquiries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["_id"])
        .collect();
    assert_eq!(ids, [&first["_id"], &second["_id"]]);
    assert!(!ids.contains(&&elsewhere["_id"]));
    let none = app
        .get("/api/v1/livechat/inquiries.queuedForUser", &plain)
        .await;
    assert_eq!(none.body["total"], 0, "{:?}", none.body);
}

#[tokio::test]
async fn get_one_answers_a_rooms_inquiry() {
    let app = app_with_slow_sweep().await;
    let m = manual(&app).await;
    let a = app
        .post(
            "/api/v1/livechat/assignments",
            &app.admin,
            json!({"visitorToken": "v1", "departmentId": m.sales, "roomId": "room-1"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);

    let one = app
        .get(
            "/api/v1/livechat/inquiries.getOne?roomId=room-1",
            &m.ann_creds,
        )
        .await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    assert_eq!(one.body["inquiry"]["rid"], "room-1");
    assert_eq!(one.body["inquiry"]["status"], "queued");
    let unknown = app
        .get(
            "/api/v1/livechat/inquiries.getOne?roomId=nowhere",
            &m.ann_creds,
        )
        .await;
    assert_eq!(unknown.body["inquiry"], Value::Null);
    let missing = app
        .get("/api/v1/livechat/inquiries.getOne", &m.ann_creds)
        .await;
    assert_eq!(missing.status, 400, "{:?}", missing.body);
}

#[tokio::test]
async fn an_agent_outside_the_chats_department_may_not_take_it() {
    let app = app_with_slow_sweep().await;
    let m = manual(&app).await;
    let (_, outsider) = app.available_agent("cid").await;
    let waiting = app.route("v1", Some(&m.sales)).await;

    assert_bad_request(&take(&app, &outsider, &waiting).await, "error-not-allowed");
    assert_eq!(assignment(&app, &waiting["_id"]).await["status"], "queued");
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    assert_forbidden(&take(&app, &plain, &waiting).await);
}

#[tokio::test]
async fn at_its_limit_an_agent_may_not_take_a_chat_unless_the_switch_allows_it() {
    let app = app_with_slow_sweep().await;
    let m = manual(&app).await;
    app.set_limit(&m.ann, 1).await;
    let first = app.route("v1", Some(&m.sales)).await;
    let second = app.route("v2", Some(&m.sales)).await;
    assert_eq!(take(&app, &m.ann_creds, &first).await.status, 200);

    // Off (the default): refused, and nothing is held.
    let refused = take(&app, &m.ann_creds, &second).await;
    assert_bad_request(&refused, "error-max-number-simultaneous-chats-reached");
    assert_eq!(assignment(&app, &second["_id"]).await["status"], "queued");
    let ann = app.stored("users", &m.ann).await.unwrap();
    assert_eq!(number(&ann, "openLivechats"), 1);
    assert_eq!(number(&app.stored_link(&m.sales, &m.ann).await, "count"), 1);

    // On: taken over the limit.
    configure(
        &app,
        json!({"ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit": true}),
    )
    .await;
    let allowed = take(&app, &m.ann_creds, &second).await;
    assert_eq!(allowed.status, 200, "{:?}", allowed.body);
    let ann = app.stored("users", &m.ann).await.unwrap();
    assert_eq!(number(&ann, "openLivechats"), 2);
    assert_eq!(number(&app.stored_link(&m.sales, &m.ann).await, "count"), 2);
}

#[tokio::test]
async fn a_manager_takes_a_chat_for_an_agent() {
    let app = app_with_slow_sweep().await;
    let m = manual(&app).await;
    let waiting = app.route("v1", Some(&m.sales)).await;
    let a = app
        .post(
            "/api/v1/livechat/inquiries.take",
            &app.admin,
            json!({"inquiryId": waiting["_id"], "userId": m.bob}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(assignment(&app, &waiting["_id"]).await["username"], "bob");
}

/// Two instances, two agents, each taking every waiting chat at the same
/// moment: each chat goes to exactly one of them; the other is refused.
#[tokio::test]
async fn two_agents_taking_one_chat_on_two_instances_one_wins() {
    let db_name = fresh_db_name();
    let settings = {
        let mut s = test_settings(&db_name);
        s.routing.queue_interval_ms = 600_000;
        s
    };
    let first = spawn_instance(settings.clone()).await;
    let second = spawn_instance(settings).await;
    let m = manual(&first).await;
    let mut chats = Vec::new();
    for i in 0..6 {
        chats.push(first.route(&format!("v{i}"), Some(&m.sales)).await);
    }

    for chat in &chats {
        let (a, b) = futures::join!(
            take(&first, &m.ann_creds, chat),
            take(&second, &m.bob_creds, chat)
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "{:?} / {:?}", a.body, b.body);
        let loser = if a.status == 400 { &a } else { &b };
        assert_bad_request(loser, "Inquiry already taken");
    }

    let opened: Vec<Value> = join_all(chats.iter().map(|c| assignment(&first, &c["_id"]))).await;
    assert!(opened.iter().all(|a| a["status"] == "open"));
    let ann = first.stored("users", &m.ann).await.unwrap();
    let bob = first.stored("users", &m.bob).await.unwrap();
    assert_eq!(
        number(&ann, "openLivechats") + number(&bob, "openLivechats"),
        6
    );
    let counts = number(&first.stored_link(&m.sales, &m.ann).await, "count")
        + number(&first.stored_link(&m.sales, &m.bob).await, "count");
    assert_eq!(counts, 6);
    assert_eq!(
        first
            .count("switchboard_assignments", doc! {"status": "open"})
            .await,
        6
    );
}
