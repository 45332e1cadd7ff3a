//! Routing at scale: many instances at once, and large departments.

use std::collections::HashMap;

use futures::StreamExt;
use mongodb::bson::{Document, doc};
use serde_json::json;

use crate::helpers::{TestApp, fresh_db_name, number, spawn_instance, test_settings};

/// The two tests here are the heaviest on the shared local server (one
/// seeds 20,000 documents and has it sort 10,000 links in memory; the other
/// races 180 decisions over three instances): run side by side on a 2-core
/// machine, the second has seen the server as unavailable. They take turns;
/// the rest of the suite still runs beside them.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Closes the assignments through the instances in turn, 16 at a time (at
/// the default request bound, while the rest of the suite runs).
async fn close_all(instances: &[&TestApp], ids: Vec<String>) {
    futures::stream::iter(ids.into_iter().enumerate())
        .map(|(i, id)| {
            let app = instances[i % instances.len()];
            async move {
                let path = format!("/api/v1/livechat/assignments/{id}/close");
                assert_eq!(app.post(&path, &app.admin, json!({})).await.status, 200);
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

/// Three instances on one database, 180 routing requests from 8
/// concurrent clients, agents with small limits: every request is
/// answered 200, no agent ever holds more open chats than its limit, and
/// the `count` increments add up to the chats routed to agents.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_never_push_an_agent_over_its_limit() {
    let _turn = HEAVY.lock().await;
    let db_name = fresh_db_name();
    let first = spawn_instance(test_settings(&db_name)).await;
    let second = spawn_instance(test_settings(&db_name)).await;
    let third = spawn_instance(test_settings(&db_name)).await;
    let instances = [&first, &second, &third];

    let mut agents = Vec::new();
    let mut limits = HashMap::new();
    for i in 0..8 {
        let (id, _) = first.available_agent(&format!("agent{i}")).await;
        let limit = 1 + (i % 3) as u32;
        first.set_limit(&id, limit).await;
        limits.insert(id.clone(), i64::from(limit));
        agents.push(id);
    }
    let links: Vec<(&str, Option<i64>, Option<i64>)> = agents
        .iter()
        .map(|a| (a.as_str(), Some(0), Some(0)))
        .collect();
    let d = first.department_with("burst", &links).await;
    let capacity: i64 = limits.values().sum();

    let mut routed = 0;
    let mut requests = 0;
    for burst in 0..3 {
        let answers: Vec<serde_json::Value> = futures::stream::iter(0..60)
            .map(|i| {
                let app = instances[i % 3];
                let body = json!({"visitorToken": format!("b{burst}-v{i}"), "departmentId": d});
                async move {
                    let a = app
                        .post("/api/v1/livechat/assignments", &app.admin, body)
                        .await;
                    assert_eq!(a.status, 200, "{:?}", a.body);
                    a.body["assignment"].clone()
                }
            })
            // 8 in flight, at the default request bound: every take and
            // reservation races across the three instances while the rest
            // of the suite shares the 2-core machine (the 64-client figures
            // are the load benchmark's job).
            .buffer_unordered(8)
            .collect()
            .await;
        requests += answers.len();
        let opened = answers.iter().filter(|a| a["status"] == "open").count() as i64;
        routed += opened;
        // Everything that fits was routed, and nothing more.
        assert_eq!(
            opened, capacity,
            "burst {burst}: all capacity is used, no more"
        );
        let open = first.open_per_agent().await;
        for (agent, n) in &open {
            assert!(
                *n <= limits[agent],
                "burst {burst}: {agent} holds {n} > {}",
                limits[agent]
            );
        }
        // Free every slot before the next burst, through all instances:
        // first the waiting chats, so no freed slot is handed to them,
        // then the open ones.
        for status in ["queued", "open"] {
            let ids: Vec<String> = answers
                .iter()
                .filter(|a| a["status"] == status)
                .map(|a| a["_id"].as_str().unwrap().to_string())
                .collect();
            close_all(&instances, ids).await;
        }
    }
    assert_eq!(requests, 180);
    let links = first
        .db
        .collection::<Document>("rocketchat_livechat_department_agents");
    let mut total_count = 0;
    for agent in &agents {
        let link = links
            .find_one(doc! {"departmentId": &d, "agentId": agent})
            .await
            .unwrap()
            .unwrap();
        total_count += number(&link, "count");
        assert_eq!(number(&link, "openChats"), 0);
        let user = first.stored("users", agent).await.unwrap();
        assert_eq!(number(&user, "openLivechats"), 0, "every slot was freed");
    }
    assert_eq!(total_count, routed, "count increments equal chats routed");
    let with_agent = first
        .count(
            "switchboard_assignments",
            doc! {"agentId": {"$exists": true}},
        )
        .await as i64;
    assert_eq!(with_agent, routed);
    assert!(first.open_per_agent().await.is_empty());
}

/// A department of 10,000 agents still routes to its least-served agent.
/// (Whether the server walks the take's index is the routing benchmark's
/// to report: it prints the plan the server chooses.)
#[tokio::test]
async fn ten_thousand_agents_still_route_to_the_least_served() {
    let _turn = HEAVY.lock().await;
    // At the service's default request bound; how fast a decision is over
    // 10,000 links is the routing benchmark's to measure.
    let app = spawn_instance(test_settings(&fresh_db_name())).await;
    let department_id = "big-department";
    app.db
        .collection::<Document>("rocketchat_livechat_department")
        .insert_one(doc! {"_id": department_id, "name": "big", "enabled": true,
        "email": "big@example.com", "showOnRegistration": true, "showOnOfflineForm": true,
        "numAgents": 10_000})
        .await
        .unwrap();
    let now = mongodb::bson::DateTime::now();
    let users: Vec<Document> = (0..10_000)
        .map(|i| {
            doc! {"_id": format!("agent{i:05}"), "username": format!("agent{i:05}"),
            "roles": ["user", "livechat-agent"], "active": true, "status": "online",
            "statusLivechat": "available", "createdAt": now}
        })
        .collect();
    insert_in_small_batches(&app, "users", users).await;
    let links: Vec<Document> = (0..10_000)
        .map(|i| {
            doc! {"_id": format!("link{i:05}"), "departmentId": department_id,
            "agentId": format!("agent{i:05}"), "username": format!("agent{i:05}"),
            "departmentEnabled": true, "eligible": true, "eligibleNotAway": true,
            // agent07777 alone has the lowest count.
            "count": if i == 7777 { 3 } else { 10 + (i % 17) }, "order": 0}
        })
        .collect();
    insert_in_small_batches(&app, "rocketchat_livechat_department_agents", links).await;

    let a = app
        .post(
            "/api/v1/livechat/assignments",
            &app.admin,
            json!({"visitorToken": "v", "departmentId": department_id}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["assignment"]["username"], "agent07777");
}

/// Seeds in batches small enough that the shared local database serves
/// the other tests' requests between them (one insert of 10,000 documents
/// holds it for seconds, past the request bound of the concurrency tests).
async fn insert_in_small_batches(app: &TestApp, collection: &str, docs: Vec<Document>) {
    for batch in docs.chunks(200) {
        app.db
            .collection::<Document>(collection)
            .insert_many(batch.to_vec())
            .await
            .unwrap();
    }
}
