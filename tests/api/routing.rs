//! Least-served routing: which agent takes each chat, limits, fairness,
//! assignments and the widget's `agent.next`.

use mongodb::bson::{Document, doc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_bad_request, assert_forbidden, assert_unauthenticated, number, spawn_app,
    spawn_app_with,
};

async fn usernames_routed(app: &TestApp, department: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let a = app
            .route(&format!("v-{department}-{i}"), Some(department))
            .await;
        assert_eq!(a["status"], "open", "{a:?}");
        out.push(a["username"].as_str().unwrap().to_string());
        app.close(a["_id"].as_str().unwrap()).await;
    }
    out
}

#[tokio::test]
async fn equal_counts_follow_order_then_username() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let (c, _) = app.available_agent("cid").await;
    let d = app
        .department_with(
            "sales",
            &[
                (&a, Some(0), Some(2)),
                (&b, Some(0), Some(1)),
                (&c, Some(0), Some(2)),
            ],
        )
        .await;
    let sequence = usernames_routed(&app, &d, 6).await;
    assert_eq!(sequence, ["bob", "ann", "cid", "bob", "ann", "cid"]);
    for agent in [&a, &b, &c] {
        assert_eq!(number(&app.stored_link(&d, agent).await, "count"), 2);
    }
}

#[tokio::test]
async fn a_high_count_agent_gets_nothing_until_the_others_catch_up() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let (c, _) = app.available_agent("cid").await;
    let d = app
        .department_with(
            "sales",
            &[
                (&a, Some(3), None),
                (&b, Some(0), None),
                (&c, Some(0), None),
            ],
        )
        .await;
    let sequence = usernames_routed(&app, &d, 9).await;
    assert_eq!(
        sequence,
        [
            "bob", "cid", "bob", "cid", "bob", "cid", "ann", "bob", "cid"
        ]
    );
}

#[tokio::test]
async fn unavailable_offline_inactive_and_unlinked_agents_are_never_chosen() {
    let app = spawn_app().await;
    let (on, _) = app.available_agent("on").await;
    let (off, off_creds) = app.available_agent("off").await;
    let (na, na_creds) = app.available_agent("na").await;
    let (gone, _) = app.available_agent("gone").await;
    let (_other, _) = app.available_agent("other").await;
    let d = app
        .department_with(
            "sales",
            &[
                (&on, Some(50), None),
                (&off, Some(0), None),
                (&na, Some(0), None),
                (&gone, Some(0), None),
            ],
        )
        .await;
    app.post(
        "/api/v1/users.setStatus",
        &off_creds,
        json!({"status": "offline"}),
    )
    .await;
    app.set_livechat_status(&na_creds, "not-available").await;
    app.db
        .collection::<Document>("users")
        .update_one(doc! {"_id": &gone}, doc! {"$set": {"active": false}})
        .await
        .unwrap();
    let sequence = usernames_routed(&app, &d, 4).await;
    assert_eq!(sequence, ["on", "on", "on", "on"]);
}

#[tokio::test]
async fn away_agents_are_excluded_only_when_configured() {
    for (exclude, expected) in [(false, "away"), (true, "here")] {
        let app = spawn_app_with(|s| s.routing.exclude_away = exclude).await;
        let (away, creds) = app.available_agent("away").await;
        let (here, _) = app.available_agent("here").await;
        let d = app
            .department_with("sales", &[(&away, Some(0), None), (&here, Some(5), None)])
            .await;
        app.post("/api/v1/users.setStatus", &creds, json!({"status": "away"}))
            .await;
        let a = app.route("v1", Some(&d)).await;
        assert_eq!(a["username"], expected);
    }
}

#[tokio::test]
async fn an_assignment_records_the_decision_and_its_reason() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let d = app
        .department_with("sales", &[(&a, Some(4), Some(1))])
        .await;
    let assignment = app.route("visitor-1", Some(&d)).await;
    assert_eq!(assignment["status"], "open");
    assert_eq!(assignment["agentId"], json!(a));
    assert_eq!(assignment["username"], "ann");
    assert_eq!(assignment["departmentId"], json!(d));
    assert_eq!(assignment["visitorToken"], "visitor-1");
    assert_eq!(assignment["method"], "leastServed");
    let reason = assignment["reason"].as_str().unwrap();
    assert!(
        reason.contains("ann") && reason.contains("lowest count (4)"),
        "{reason}"
    );
    assert_eq!(assignment["_id"].as_str().unwrap().len(), 17);
    assert!(assignment["createdAt"].as_str().unwrap().ends_with('Z'));
    let stored = app
        .stored(
            "switchboard_assignments",
            assignment["_id"].as_str().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(stored.get_str("status").unwrap(), "open");
    assert_eq!(number(&app.stored_link(&d, &a).await, "count"), 5);
}

#[tokio::test]
async fn with_no_agent_the_chat_is_queued_and_still_200() {
    let app = spawn_app().await;
    let (_, creds) = app.available_agent("ann").await;
    let d = app.department_with("empty", &[]).await;
    let a = app.route("v", Some(&d)).await;
    assert_eq!(a["status"], "queued");
    assert_eq!(a["agentId"], json!(null));
    assert!(a["reason"].as_str().unwrap().contains("queued"));
    let _ = creds;
}

#[tokio::test]
async fn an_agent_never_exceeds_its_own_limit_and_closing_frees_the_slot() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), None), (&b, Some(100), None)])
        .await;
    app.set_limit(&a, 2).await;
    let first = app.route("v1", Some(&d)).await;
    let second = app.route("v2", Some(&d)).await;
    let third = app.route("v3", Some(&d)).await;
    assert_eq!(
        [&first["username"], &second["username"], &third["username"]],
        [&json!("ann"), &json!("ann"), &json!("bob")]
    );
    // Ann is full; Bob has no limit.
    app.set_limit(&b, 1).await;
    let fourth = app.route("v4", Some(&d)).await;
    assert_eq!(fourth["status"], "queued");
    // Closing frees Ann's slot, and the chat waiting for it takes it.
    app.close(first["_id"].as_str().unwrap()).await;
    let path = format!(
        "/api/v1/livechat/assignments/{}",
        fourth["_id"].as_str().unwrap()
    );
    let fourth = app.get(&path, &app.admin).await.body["assignment"].clone();
    assert_eq!(fourth["status"], "open");
    assert_eq!(fourth["username"], "ann");
    assert_eq!(app.route("v5", Some(&d)).await["status"], "queued");
}

#[tokio::test]
async fn the_department_limit_counts_chats_in_that_department() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), None), (&b, Some(10), None)])
        .await;
    let other = app.department_with("support", &[(&a, Some(0), None)]).await;
    app.put(
        &format!("/api/v1/livechat/department/{d}"),
        &app.admin,
        json!({"department": {
        "enabled": true, "showOnRegistration": true, "showOnOfflineForm": true, "name": "sales",
        "email": "sales@example.com", "maxNumberSimultaneousChat": 1}}),
    )
    .await;
    assert_eq!(app.route("o1", Some(&other)).await["username"], "ann");
    assert_eq!(app.route("s1", Some(&d)).await["username"], "ann");
    assert_eq!(app.route("s2", Some(&d)).await["username"], "bob");
}

#[tokio::test]
async fn the_global_limit_applies_to_agents_without_their_own() {
    let app = spawn_app_with(|s| s.routing.global_max_chats = 1).await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), None), (&b, Some(5), None)])
        .await;
    app.set_limit(&b, 3).await;
    let names: Vec<Value> = [
        app.route("v1", Some(&d)).await,
        app.route("v2", Some(&d)).await,
        app.route("v3", Some(&d)).await,
        app.route("v4", Some(&d)).await,
        app.route("v5", Some(&d)).await,
    ]
    .iter()
    .map(|a| a["username"].clone())
    .collect();
    assert_eq!(
        names,
        [
            json!("ann"),
            json!("bob"),
            json!("bob"),
            json!("bob"),
            json!(null)
        ]
    );
}

#[tokio::test]
async fn without_a_department_the_lowest_livechat_count_wins() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    app.db
        .collection::<Document>("users")
        .update_one(doc! {"_id": &a}, doc! {"$set": {"livechatCount": 2}})
        .await
        .unwrap();
    let names: Vec<Value> = [
        app.route("v1", None).await,
        app.route("v2", None).await,
        app.route("v3", None).await,
        app.route("v4", None).await,
    ]
    .iter()
    .map(|a| a["username"].clone())
    .collect();
    assert_eq!(
        names,
        [json!("bob"), json!("bob"), json!("ann"), json!("bob")]
    );
    let stored = app.stored("users", &b).await.unwrap();
    assert_eq!(number(&stored, "livechatCount"), 3);
}

#[tokio::test]
async fn a_returning_agent_starts_at_the_lowest_count_of_the_others() {
    let app = spawn_app().await;
    let (a, a_creds) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let (c, _) = app.available_agent("cid").await;
    let d = app
        .department_with(
            "sales",
            &[
                (&a, Some(0), None),
                (&b, Some(40), None),
                (&c, Some(55), None),
            ],
        )
        .await;
    app.set_livechat_status(&a_creds, "not-available").await;
    app.set_livechat_status(&a_creds, "available").await;
    assert_eq!(number(&app.stored_link(&d, &a).await, "count"), 40);
    // Never lowered: an agent above the others keeps its count.
    app.post(
        "/api/v1/users.setStatus",
        &a_creds,
        json!({"status": "offline"}),
    )
    .await;
    app.db
        .collection::<Document>("rocketchat_livechat_department_agents")
        .update_one(
            doc! {"departmentId": &d, "agentId": &a},
            doc! {"$set": {"count": 70}},
        )
        .await
        .unwrap();
    app.post(
        "/api/v1/users.setStatus",
        &a_creds,
        json!({"status": "online"}),
    )
    .await;
    assert_eq!(number(&app.stored_link(&d, &a).await, "count"), 70);
}

#[tokio::test]
async fn strict_counts_restore_rocketchats_behaviour() {
    let app = spawn_app_with(|s| s.routing.strict_counts = true).await;
    let (a, a_creds) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), None), (&b, Some(40), None)])
        .await;
    app.set_livechat_status(&a_creds, "not-available").await;
    app.set_livechat_status(&a_creds, "available").await;
    assert_eq!(number(&app.stored_link(&d, &a).await, "count"), 0);
}

#[tokio::test]
async fn closing_twice_changes_nothing_the_second_time() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let d = app.department_with("sales", &[(&a, Some(0), None)]).await;
    let open = app.route("v1", Some(&d)).await;
    let id = open["_id"].as_str().unwrap();
    let first = app.close(id).await;
    assert_eq!(first["status"], "closed");
    assert!(first["closedAt"].is_string());
    let second = app.close(id).await;
    assert_eq!(second["closedAt"], first["closedAt"]);
    let user = app.stored("users", &a).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 0);
}

#[tokio::test]
async fn assignments_are_read_and_listed_with_filters() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), None), (&b, Some(0), None)])
        .await;
    let first = app.route("v1", Some(&d)).await;
    app.route("v2", Some(&d)).await;
    app.close(first["_id"].as_str().unwrap()).await;
    let one = app
        .get(
            &format!(
                "/api/v1/livechat/assignments/{}",
                first["_id"].as_str().unwrap()
            ),
            &app.admin,
        )
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["assignment"]["status"], "closed");
    let list = app
        .get(
            &format!("/api/v1/livechat/assignments?departmentId={d}&status=open"),
            &app.admin,
        )
        .await;
    assert_eq!(list.body["total"], json!(1));
    assert_eq!(list.body["assignments"][0]["visitorToken"], "v2");
    let list = app
        .get(
            &format!("/api/v1/livechat/assignments?agentId={a}"),
            &app.admin,
        )
        .await;
    assert_eq!(list.body["total"], json!(1));
    let list = app
        .get(
            "/api/v1/livechat/assignments?visitorToken=v1&count=1",
            &app.admin,
        )
        .await;
    assert_eq!(list.body["count"], json!(1));
    assert_bad_request(
        &app.get("/api/v1/livechat/assignments?status=lost", &app.admin)
            .await,
        "status",
    );
    let missing = app
        .get("/api/v1/livechat/assignments/nope", &app.admin)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({"success": false, "error": "assignment-not-found"})
    );
}

#[tokio::test]
async fn an_agent_reads_and_closes_only_its_own_assignments() {
    let app = spawn_app().await;
    let (a, a_creds) = app.available_agent("ann").await;
    let (b, b_creds) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), Some(1)), (&b, Some(0), Some(2))])
        .await;
    let ann_chat = app.route("v1", Some(&d)).await;
    let bob_chat = app.route("v2", Some(&d)).await;
    assert_eq!(bob_chat["username"], "bob");
    let path = |x: &Value| {
        format!(
            "/api/v1/livechat/assignments/{}",
            x["_id"].as_str().unwrap()
        )
    };
    assert_eq!(app.get(&path(&ann_chat), &a_creds).await.status, 200);
    assert_forbidden(&app.get(&path(&bob_chat), &a_creds).await);
    assert_forbidden(
        &app.post(&format!("{}/close", path(&bob_chat)), &a_creds, json!({}))
            .await,
    );
    assert_eq!(
        app.post(&format!("{}/close", path(&ann_chat)), &a_creds, json!({}))
            .await
            .status,
        200
    );
    let own = app.get("/api/v1/livechat/assignments", &b_creds).await;
    assert_eq!(own.body["total"], json!(1));
    assert_forbidden(
        &app.get(
            &format!("/api/v1/livechat/assignments?agentId={a}"),
            &b_creds,
        )
        .await,
    );
    assert_forbidden(
        &app.post(
            "/api/v1/livechat/assignments",
            &a_creds,
            json!({"visitorToken": "x"}),
        )
        .await,
    );
    assert_unauthenticated(
        &app.call(Method::GET, "/api/v1/livechat/assignments", None, None)
            .await,
    );
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    assert_forbidden(&app.get("/api/v1/livechat/assignments", &plain).await);
}

#[tokio::test]
async fn routing_requests_are_validated() {
    let app = spawn_app().await;
    assert_bad_request(
        &app.post("/api/v1/livechat/assignments", &app.admin, json!({}))
            .await,
        "visitorToken",
    );
    assert_bad_request(
        &app.post(
            "/api/v1/livechat/assignments",
            &app.admin,
            json!({"visitorToken": ""}),
        )
        .await,
        "visitorToken",
    );
    assert_bad_request(
        &app.post(
            "/api/v1/livechat/assignments",
            &app.admin,
            json!({"visitorToken": "v", "departmentId": "nope"}),
        )
        .await,
        "error-department-not-found",
    );
    assert_eq!(app.count("switchboard_assignments", doc! {}).await, 0);
    let (a, _) = app.available_agent("ann").await;
    assert_bad_request(
        &app.put(
            &format!("/api/v1/livechat/users/agent/{a}"),
            &app.admin,
            json!({"maxNumberSimultaneousChat": -1}),
        )
        .await,
        "maxNumberSimultaneousChat",
    );
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    assert_forbidden(
        &app.put(
            &format!("/api/v1/livechat/users/agent/{a}"),
            &plain,
            json!({"maxNumberSimultaneousChat": 1}),
        )
        .await,
    );
}

#[tokio::test]
async fn agent_next_answers_the_agent_and_is_idempotent_per_visitor() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), None), (&b, Some(0), None)])
        .await;
    let next = |token: &'static str| {
        let app = &app;
        let d = d.clone();
        async move {
            app.call(
                Method::GET,
                &format!("/api/v1/livechat/agent.next/{token}?department={d}"),
                None,
                None,
            )
            .await
        }
    };
    let first = next("visitor").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["agent"]["username"], "ann");
    assert_eq!(first.body["agent"]["name"], "ann name");
    assert_eq!(first.body["success"], json!(true));
    for _ in 0..3 {
        assert_eq!(next("visitor").await.body["agent"]["_id"], json!(a));
    }
    assert_eq!(
        app.count("switchboard_assignments", doc! {"visitorToken": "visitor"})
            .await,
        1
    );
    assert_eq!(number(&app.stored_link(&d, &a).await, "count"), 1);
    assert_eq!(next("other").await.body["agent"]["username"], "bob");
}

#[tokio::test]
async fn agent_next_without_an_eligible_agent_is_agent_not_found() {
    let app = spawn_app().await;
    let d = app.department_with("empty", &[]).await;
    let a = app
        .call(
            Method::GET,
            &format!("/api/v1/livechat/agent.next/v?department={d}"),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        json!({"success": false, "error": "agent-not-found"})
    );
}

#[tokio::test]
async fn concurrent_agent_next_calls_for_one_visitor_route_once() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sales", &[(&a, Some(0), None), (&b, Some(0), None)])
        .await;
    let path = format!("/api/v1/livechat/agent.next/same?department={d}");
    let calls = (0..16).map(|_| app.call(Method::GET, &path, None, None));
    let answers = futures::future::join_all(calls).await;
    let agents: std::collections::HashSet<String> = answers
        .iter()
        .map(|x| {
            assert_eq!(x.status, 200, "{:?}", x.body);
            x.body["agent"]["_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(agents.len(), 1);
    assert_eq!(
        app.count(
            "switchboard_assignments",
            doc! {"visitorToken": "same", "status": "open"}
        )
        .await,
        1
    );
    let total: i64 = number(&app.stored_link(&d, &a).await, "count")
        + number(&app.stored_link(&d, &b).await, "count");
    assert_eq!(total, 1, "compensated takes leave no count behind");
}

#[tokio::test]
async fn agent_next_is_rate_limited_per_client_address() {
    let app = spawn_app_with(|s| s.rate_limit.agent_next_per_minute = 2).await;
    let (a, _) = app.available_agent("ann").await;
    let d = app.department_with("sales", &[(&a, Some(0), None)]).await;
    let path = format!("/api/v1/livechat/agent.next/v?department={d}");
    for _ in 0..2 {
        assert_eq!(app.call(Method::GET, &path, None, None).await.status, 200);
    }
    let limited = app.call(Method::GET, &path, None, None).await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert_eq!(limited.body["success"], json!(false));
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // Refused calls route nothing.
    assert_eq!(
        app.count("switchboard_assignments", doc! {"visitorToken": "v"})
            .await,
        1
    );
}
