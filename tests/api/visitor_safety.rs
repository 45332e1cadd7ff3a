//! A visitor's token is a credential. No race hands one visitor another's
//! room, no public call touches a room that is not a livechat room, one
//! token is one visitor, and a waiting chat is taken only by an agent that
//! can take it. Races are fired at once over three instances on one
//! database.

use futures::future::join_all;
use mongodb::bson::{Document, doc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, all, number, spawn_app, spawn_instance, test_settings};
use crate::helpers::{app_with_slow_sweep, switch};

/// This app and two more instances on its database.
async fn three_instances(app: &TestApp) -> Vec<TestApp> {
    let mut all = vec![app.same_database_at(app.address.clone())];
    for _ in 0..2 {
        all.push(spawn_instance(test_settings(&app.db_name)).await);
    }
    all
}

async fn register(app: &TestApp, token: &str) -> Answer {
    app.call(
        Method::POST,
        "/api/v1/livechat/visitor",
        None,
        Some(json!({"visitor": {"token": token, "name": format!("Visitor {token}")}})),
    )
    .await
}

async fn ask_room(app: &TestApp, token: &str, rid: Option<&str>) -> Answer {
    let path = match rid {
        Some(rid) => format!("/api/v1/livechat/room?token={token}&rid={rid}"),
        None => format!("/api/v1/livechat/room?token={token}"),
    };
    app.call(Method::GET, &path, None, None).await
}

fn assert_invalid_room(a: &Answer) {
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.body, json!({"success": false, "error": "invalid-room"}));
}

#[tokio::test]
async fn two_visitors_asking_at_once_for_one_unused_room_id_get_nothing_of_each_other() {
    let app = spawn_app().await;
    let instances = three_instances(&app).await;
    let (ann, _) = app.available_agent("ann").await;
    app.department_with("sales", &[(&ann, None, None)]).await;
    for t in ["t1", "t2"] {
        assert_eq!(register(&app, t).await.status, 200);
    }
    for pair in 0..10 {
        let rid = format!("chosen-{pair}");
        let first = &instances[pair % 3];
        let second = &instances[(pair + 1) % 3];
        let (a, b) = tokio::join!(
            ask_room(first, "t1", Some(&rid)),
            ask_room(second, "t2", Some(&rid))
        );
        // A room id the client chose names no room: nothing is opened
        // under it, for either visitor.
        assert_invalid_room(&a);
        assert_invalid_room(&b);
        assert!(app.stored("rocketchat_room", &rid).await.is_none());
        assert!(
            all(&app, "switchboard_assignments", doc! {"roomId": &rid})
                .await
                .is_empty()
        );
    }
    let user = app.stored("users", &ann).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 0);
}

#[tokio::test]
async fn a_visitor_reaches_its_own_open_room_by_id_and_no_other_visitor_does() {
    let app = spawn_app().await;
    let (ann, _) = app.available_agent("ann").await;
    app.department_with("sales", &[(&ann, None, None)]).await;
    for t in ["owner", "intruder"] {
        assert_eq!(register(&app, t).await.status, 200);
    }
    let opened = ask_room(&app, "owner", None).await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);
    let rid = opened.body["room"]["_id"].as_str().unwrap().to_string();

    let again = ask_room(&app, "owner", Some(&rid)).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["room"]["_id"], rid.as_str());
    assert_eq!(again.body["newRoom"], false);
    assert_invalid_room(&ask_room(&app, "intruder", Some(&rid)).await);
    // The intruder opened nothing and holds no slot.
    assert!(
        all(
            &app,
            "switchboard_assignments",
            doc! {"visitorToken": "intruder"}
        )
        .await
        .is_empty()
    );
    let user = app.stored("users", &ann).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 1);
}

#[tokio::test]
async fn two_visitors_recorded_for_one_room_at_once_leave_one_live_chat_in_it() {
    let app = spawn_app().await;
    let instances = three_instances(&app).await;
    let (ann, _) = app.available_agent("ann").await;
    let (bob, _) = app.available_agent("bob").await;
    let sales = app
        .department_with("sales", &[(&ann, None, None), (&bob, None, None)])
        .await;
    for round in 0..4 {
        let room = format!("shared-{round}");
        let asks = (0..2).map(|i| {
            let instance = &instances[(round + i) % 3];
            let body = json!({"visitorToken": format!("v{round}-{i}"), "departmentId": &sales,
                              "roomId": &room});
            async move {
                instance
                    .post("/api/v1/livechat/assignments", &instance.admin, body)
                    .await
            }
        });
        let answers = join_all(asks).await;
        let won: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
        assert_eq!(won.len(), 1, "{answers:?}");
        let lost = answers.iter().find(|a| a.status != 200).unwrap();
        assert_invalid_room(lost);
        let live = all(
            &app,
            "switchboard_assignments",
            doc! {"roomId": &room, "active": true},
        )
        .await;
        assert_eq!(live.len(), 1, "{live:?}");
        assert_eq!(
            live[0].get_str("visitorToken").unwrap(),
            won[0].body["assignment"]["visitorToken"].as_str().unwrap()
        );
    }
    // One slot per room: the losers gave theirs back.
    let mut open = 0;
    for agent in [&ann, &bob] {
        open += number(&app.stored("users", agent).await.unwrap(), "openLivechats");
    }
    assert_eq!(open, 4);
}

#[tokio::test]
async fn a_room_that_is_not_a_livechat_room_is_never_read_or_written_by_a_public_call() {
    let app = spawn_app().await;
    let (ann, _) = app.available_agent("ann").await;
    app.department_with("sales", &[(&ann, None, None)]).await;
    let general = doc! {"_id": "GENERAL", "t": "c", "name": "general", "usersCount": 3};
    app.db
        .collection::<Document>("rocketchat_room")
        .insert_one(general.clone())
        .await
        .unwrap();
    assert_eq!(register(&app, "vera").await.status, 200);

    assert_invalid_room(&ask_room(&app, "vera", Some("GENERAL")).await);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/livechat/message",
            Some(json!({"token": "vera", "rid": "GENERAL", "msg": "hello"})),
        ),
        (
            Method::POST,
            "/api/v1/livechat/room.close",
            Some(json!({"token": "vera", "rid": "GENERAL"})),
        ),
        (
            Method::GET,
            "/api/v1/livechat/messages.history/GENERAL?token=vera",
            None,
        ),
    ] {
        let a = app.call(method, path, None, body).await;
        assert_invalid_room(&a);
    }

    // The channel is as it was, and nothing was routed for it.
    assert_eq!(
        app.stored("rocketchat_room", "GENERAL").await,
        Some(general)
    );
    assert!(
        all(&app, "switchboard_assignments", doc! {"roomId": "GENERAL"})
            .await
            .is_empty()
    );
    let user = app.stored("users", &ann).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 0);
    // The visitor's own calls still work.
    let own = ask_room(&app, "vera", None).await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_ne!(own.body["room"]["_id"], "GENERAL");
}

#[tokio::test]
async fn concurrent_registrations_of_one_token_all_answer_the_one_visitor_stored() {
    let app = spawn_app().await;
    let instances = three_instances(&app).await;
    for round in 0..3 {
        let token = format!("tabs-{round}");
        let answers = join_all((0..8).map(|i| register(&instances[i % 3], &token))).await;
        for a in &answers {
            assert_eq!(a.status, 200, "{:?}", a.body);
        }
        let ids: std::collections::BTreeSet<&str> = answers
            .iter()
            .map(|a| a.body["visitor"]["_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 1, "{answers:?}");
        let stored = all(&app, "rocketchat_livechat_visitor", doc! {"token": &token}).await;
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert_eq!(
            stored[0].get_str("_id").unwrap(),
            *ids.iter().next().unwrap()
        );
    }
}

/// A chat waiting in `sales` (auto distribution is off); Quinn is an agent
/// of `sales` who is offline and not available; Otto is an available agent
/// of another department.
struct Waiting {
    chat: Value,
    quinn: String,
    quinn_creds: crate::helpers::Creds,
    otto_creds: crate::helpers::Creds,
}

async fn waiting_chat(app: &TestApp) -> Waiting {
    let (quinn, quinn_creds) = app.available_agent("quinn").await;
    let (otto, otto_creds) = app.available_agent("otto").await;
    let sales = app.department_with("sales", &[(&quinn, None, None)]).await;
    app.department_with("support", &[(&otto, None, None)]).await;
    switch(app, false).await;
    let chat = app.route("waiting-visitor", Some(&sales)).await;
    assert_eq!(chat["status"], "queued");
    app.set_livechat_status(&quinn_creds, "not-available").await;
    let a = app
        .post(
            "/api/v1/users.setStatus",
            &quinn_creds,
            json!({"status": "offline"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    Waiting {
        chat,
        quinn,
        quinn_creds,
        otto_creds,
    }
}

async fn take(app: &TestApp, creds: &crate::helpers::Creds, body: Value) -> Answer {
    app.post("/api/v1/livechat/inquiries.take", creds, body)
        .await
}

async fn still_waiting(app: &TestApp, w: &Waiting) {
    let chat = app
        .stored("switchboard_assignments", w.chat["_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(chat.get_str("status").unwrap(), "queued");
    let quinn = app.stored("users", &w.quinn).await.unwrap();
    assert_eq!(number(&quinn, "openLivechats"), 0);
}

#[tokio::test]
async fn a_waiting_chat_is_taken_only_by_an_online_available_agent_and_for_another_only_by_a_manager()
 {
    let app = app_with_slow_sweep().await;
    let w = waiting_chat(&app).await;
    let for_quinn = json!({"inquiryId": w.chat["_id"], "userId": w.quinn});

    // An agent of another department takes it for Quinn: not its to give.
    let a = take(&app, &w.otto_creds, for_quinn.clone()).await;
    crate::helpers::assert_forbidden(&a);
    still_waiting(&app, &w).await;

    // A manager may take it for Quinn, but Quinn is offline.
    let a = take(&app, &app.admin, for_quinn.clone()).await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.body["errorType"], "error-agent-status-service-offline");
    still_waiting(&app, &w).await;

    // Quinn, offline and not available, takes it for itself.
    let a = take(&app, &w.quinn_creds, json!({"inquiryId": w.chat["_id"]})).await;
    assert_eq!(a.body["errorType"], "error-agent-status-service-offline");
    still_waiting(&app, &w).await;

    // Online but still not available: refused the same way.
    let online = app
        .post(
            "/api/v1/users.setStatus",
            &w.quinn_creds,
            json!({"status": "online"}),
        )
        .await;
    assert_eq!(online.status, 200, "{:?}", online.body);
    let a = take(&app, &w.quinn_creds, json!({"inquiryId": w.chat["_id"]})).await;
    assert_eq!(a.body["errorType"], "error-agent-status-service-offline");
    still_waiting(&app, &w).await;

    // Online and available, Quinn takes it.
    app.set_livechat_status(&w.quinn_creds, "available").await;
    let a = take(&app, &w.quinn_creds, json!({"inquiryId": w.chat["_id"]})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["inquiry"]["status"], "taken");
    let quinn = app.stored("users", &w.quinn).await.unwrap();
    assert_eq!(number(&quinn, "openLivechats"), 1);
}
