//! The waiting queue: a chat no agent could take waits `queued`, and the
//! first agent with room takes the oldest waiting chat — when a chat
//! closes, when the visitor asks again, or on each instance's sweep.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use mongodb::bson::{Document, doc};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, fresh_db_name, number, spawn_app_with, spawn_instance, test_settings,
};
use crate::helpers::{sample, scrape};

/// An app whose only drains are the ones requests cause.
async fn app_without_sweep() -> TestApp {
    spawn_app_with(|s| s.routing.queue_interval_ms = 0).await
}

async fn assignment(app: &TestApp, id: &Value) -> Value {
    let path = format!("/api/v1/livechat/assignments/{}", id.as_str().unwrap());
    let a = app.get(&path, &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["assignment"].clone()
}

async fn link_count(app: &TestApp, department: &str, agent: &str) -> i64 {
    number(&app.stored_link(department, agent).await, "count")
}

/// Ann, limited to one chat, holds visitor `v1`'s chat in department
/// `sales`; visitor `v2` waits.
struct Busy {
    ann: String,
    department: String,
    open: Value,
    waiting: Value,
}

async fn one_busy_agent(app: &TestApp) -> Busy {
    let (ann, _) = app.available_agent("ann").await;
    app.set_limit(&ann, 1).await;
    let department = app.department_with("sales", &[(&ann, None, None)]).await;
    let open = app.route("v1", Some(&department)).await;
    assert_eq!(open["username"], "ann");
    let waiting = app.route("v2", Some(&department)).await;
    assert_eq!(waiting["status"], "queued");
    Busy {
        ann,
        department,
        open,
        waiting,
    }
}

/// Polls until `done` holds; fails with what it last saw after a minute.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut last = String::new();
    for _ in 0..600 {
        match done().await {
            Ok(()) => return,
            Err(seen) => last = seen,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened; last seen: {last}");
}

#[tokio::test]
async fn closing_a_chat_hands_the_freed_slot_to_the_oldest_waiting_chat() {
    let app = app_without_sweep().await;
    let Busy {
        ann,
        department: d,
        open,
        waiting: older,
    } = one_busy_agent(&app).await;
    let newer = app.route("v3", Some(&d)).await;
    assert_eq!(newer["status"], "queued");
    let labels = ["method=\"leastServed\"", "outcome=\"dequeued\""];
    let dequeued_before = sample(
        &scrape(&app.address).await,
        "switchboard_routing_decisions_total",
        &labels,
    );

    app.close(open["_id"].as_str().unwrap()).await;

    let older = assignment(&app, &older["_id"]).await;
    assert_eq!(older["status"], "open", "{older}");
    assert_eq!(older["username"], "ann");
    assert_eq!(older["departmentId"], json!(d));
    let reason = older["reason"].as_str().unwrap();
    assert!(reason.contains("from the queue"), "{reason}");
    assert!(older["routedAt"].as_str().unwrap() >= older["createdAt"].as_str().unwrap());
    assert_eq!(assignment(&app, &newer["_id"]).await["status"], "queued");
    // Counts and load stay exact: two chats routed to Ann, one open now.
    assert_eq!(link_count(&app, &d, &ann).await, 2);
    let user = app.stored("users", &ann).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 1);
    let text = scrape(&app.address).await;
    assert!(
        sample(&text, "switchboard_routing_decisions_total", &labels) >= dequeued_before + 1.0,
        "{text}"
    );
}

/// Links the agent to the department: room appears without any of the
/// events that drain the queue at once.
async fn link_agent(app: &TestApp, department: &str, agent: &str) {
    let a = app
        .post(
            &format!("/api/v1/livechat/department/{department}/agents"),
            &app.admin,
            json!({"upsert": [{"agentId": agent}], "remove": []}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

#[tokio::test]
async fn a_visitor_asking_again_keeps_one_assignment_and_gets_the_agent_once_one_has_room() {
    let app = app_without_sweep().await;
    let (ann, _) = app.available_agent("ann").await;
    let d = app.department_with("sales", &[]).await;
    let waiting = app.route("returning", Some(&d)).await;
    assert_eq!(waiting["status"], "queued");
    let again = app.route("returning", Some(&d)).await;
    assert_eq!(
        again["_id"], waiting["_id"],
        "no second record while waiting"
    );
    assert_eq!(again["status"], "queued");
    // The widget's agent.next finds no agent for a waiting visitor.
    let next = app
        .get("/api/v1/livechat/agent.next/returning", &app.admin)
        .await;
    assert_eq!(next.status, 400, "{:?}", next.body);

    // A new link places the waiting chat at once.
    link_agent(&app, &d, &ann).await;
    let served = app.route("returning", Some(&d)).await;
    assert_eq!(served["_id"], waiting["_id"]);
    assert_eq!(served["status"], "open");
    assert_eq!(served["username"], "ann");
    assert_eq!(
        app.count(
            "switchboard_assignments",
            doc! {"visitorToken": "returning"}
        )
        .await,
        1
    );
    let next = app
        .get("/api/v1/livechat/agent.next/returning", &app.admin)
        .await;
    assert_eq!(next.body["agent"]["username"], "ann", "{:?}", next.body);
}

#[tokio::test]
async fn an_agent_becoming_available_takes_the_waiting_chats_at_once() {
    let app = app_without_sweep().await;
    let (ann, ann_creds) = app.available_agent("ann").await;
    let d = app.department_with("sales", &[(&ann, None, None)]).await;
    app.set_livechat_status(&ann_creds, "not-available").await;
    let first = app.route("w1", Some(&d)).await;
    let second = app.route("w2", Some(&d)).await;
    let anywhere = app.route("w3", None).await;
    for waiting in [&first, &second, &anywhere] {
        assert_eq!(waiting["status"], "queued");
    }

    app.set_livechat_status(&ann_creds, "available").await;

    let first = assignment(&app, &first["_id"]).await;
    let second = assignment(&app, &second["_id"]).await;
    let anywhere = assignment(&app, &anywhere["_id"]).await;
    for placed in [&first, &second, &anywhere] {
        assert_eq!(placed["status"], "open", "{placed}");
        assert_eq!(placed["username"], "ann");
    }
    // Oldest first within a queue.
    assert!(first["routedAt"].as_str().unwrap() <= second["routedAt"].as_str().unwrap());
}

#[tokio::test]
async fn raising_an_agents_limit_hands_the_new_room_to_the_waiting_chat() {
    let app = app_without_sweep().await;
    let busy = one_busy_agent(&app).await;
    app.set_limit(&busy.ann, 2).await;
    let placed = assignment(&app, &busy.waiting["_id"]).await;
    assert_eq!(placed["status"], "open", "{placed}");
    assert_eq!(placed["username"], "ann");
}

#[tokio::test]
async fn each_instances_sweep_places_chats_that_no_event_announced() {
    let app = spawn_app_with(|s| s.routing.queue_interval_ms = 100).await;
    let (ann, _) = app.available_agent("ann").await;
    let d = app.department_with("sales", &[(&ann, None, None)]).await;
    // A waiting chat written by something no event reaches (another
    // service, a restore), while Ann has room.
    let id = "written-behind-our-back";
    app.db
        .collection::<Document>("switchboard_assignments")
        .insert_one(doc! {
            "_id": id, "visitorToken": "w1", "requestedDepartmentId": &d,
            "departmentId": &d, "status": "queued", "method": "leastServed",
            "reason": "queued", "createdAt": mongodb::bson::DateTime::now(), "active": true,
        })
        .await
        .unwrap();
    let waiting = json!({"_id": id});

    eventually("the waiting chat placed by the sweep", || async {
        let seen = assignment(&app, &waiting["_id"]).await;
        if seen["status"] == "open" && seen["username"] == "ann" {
            Ok(())
        } else {
            Err(seen.to_string())
        }
    })
    .await;
}

#[tokio::test]
async fn a_waiting_chat_is_told_its_place_in_its_own_queue() {
    let app = app_without_sweep().await;
    let busy = one_busy_agent(&app).await;
    let d = &busy.department;
    let second = app.route("v3", Some(d)).await;
    assert_eq!(second["queuePosition"], 2);
    let elsewhere = app.route("v4", None).await;
    assert_eq!(elsewhere["queuePosition"], 1, "another queue: {elsewhere}");
    assert_eq!(
        assignment(&app, &busy.waiting["_id"]).await["queuePosition"],
        1
    );
    assert!(busy.open.get("queuePosition").is_none(), "{}", busy.open);

    app.close(busy.open["_id"].as_str().unwrap()).await;

    let placed = assignment(&app, &busy.waiting["_id"]).await;
    assert_eq!(placed["status"], "open");
    assert!(placed.get("queuePosition").is_none(), "{placed}");
    assert_eq!(assignment(&app, &second["_id"]).await["queuePosition"], 1);
}

#[tokio::test]
async fn a_closed_waiting_chat_leaves_the_queue() {
    let app = app_without_sweep().await;
    let busy = one_busy_agent(&app).await;
    let withdrawn = app.close(busy.waiting["_id"].as_str().unwrap()).await;
    assert_eq!(withdrawn["status"], "closed");

    app.close(busy.open["_id"].as_str().unwrap()).await;

    let withdrawn = assignment(&app, &busy.waiting["_id"]).await;
    assert_eq!(withdrawn["status"], "closed");
    assert_eq!(withdrawn["agentId"], json!(null));
    let user = app.stored("users", &busy.ann).await.unwrap();
    assert_eq!(number(&user, "openLivechats"), 0);
    assert_eq!(link_count(&app, &busy.department, &busy.ann).await, 1);
}

#[tokio::test]
async fn with_auto_distribution_disabled_a_freed_slot_is_not_handed_to_the_queue() {
    let app = app_without_sweep().await;
    let busy = one_busy_agent(&app).await;
    let switch = |on: bool| {
        let path = if on {
            "/api/v1/livechat/autoDistributionConfig:enable"
        } else {
            "/api/v1/livechat/autoDistributionConfig:disable"
        };
        app.post(path, &app.admin, json!({}))
    };
    assert_eq!(switch(false).await.status, 200);

    app.close(busy.open["_id"].as_str().unwrap()).await;
    assert_eq!(
        assignment(&app, &busy.waiting["_id"]).await["status"],
        "queued"
    );

    assert_eq!(switch(true).await.status, 200);
    let served = app.route("v2", Some(&busy.department)).await;
    assert_eq!(served["_id"], busy.waiting["_id"]);
    assert_eq!(served["username"], "ann");
}

/// Three instances sweep one queue of 20 waiting chats every 50 ms while
/// chats close through all of them: each waiting chat is placed once, no
/// agent ever holds more than its limit, and `count` grows by exactly the
/// chats placed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_draining_at_once_place_each_chat_once_within_every_limit() {
    let db_name = fresh_db_name();
    let settings = || {
        let mut s = test_settings(&db_name);
        s.routing.queue_interval_ms = 50;
        // Agents come back while chats are placed; fair rejoin would lift
        // their `count` and blur what this test adds up.
        s.routing.strict_counts = true;
        s
    };
    let first = spawn_instance(settings()).await;
    let second = spawn_instance(settings()).await;
    let third = spawn_instance(settings()).await;
    let instances = [&first, &second, &third];

    let mut agents = Vec::new();
    let mut limits = HashMap::new();
    for (i, limit) in [1, 2, 3].into_iter().enumerate() {
        let (id, creds) = first.available_agent(&format!("agent{i}")).await;
        first.set_limit(&id, limit).await;
        first.set_livechat_status(&creds, "not-available").await;
        limits.insert(id.clone(), i64::from(limit));
        agents.push((id, creds));
    }
    let links: Vec<(&str, Option<i64>, Option<i64>)> = agents
        .iter()
        .map(|(a, _)| (a.as_str(), None, None))
        .collect();
    let d = first.department_with("queue", &links).await;
    let capacity: i64 = limits.values().sum();
    let waiting: Vec<Value> = futures::stream::iter(0..20)
        .map(|i| {
            let app = instances[i % 3];
            let d = d.clone();
            async move { app.route(&format!("q{i}"), Some(&d)).await }
        })
        .buffer_unordered(20)
        .collect()
        .await;
    assert!(waiting.iter().all(|a| a["status"] == "queued"));

    for (_, creds) in &agents {
        first.set_livechat_status(creds, "available").await;
    }
    let mut placed_total = 0;
    for round in 0..3 {
        let expected_closed = round * capacity;
        eventually("all capacity used", || async {
            let open: i64 = first.open_per_agent().await.values().sum();
            let closed = first
                .count("switchboard_assignments", doc! {"status": "closed"})
                .await as i64;
            if open == capacity && closed == expected_closed {
                Ok(())
            } else {
                Err(format!("open {open}, closed {closed}"))
            }
        })
        .await;
        // A few more sweeps on every instance change nothing.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let open = first.open_per_agent().await;
        for (agent, n) in &open {
            assert!(*n <= limits[agent], "round {round}: {agent} holds {n}");
        }
        assert_eq!(open.values().sum::<i64>(), capacity, "round {round}");
        placed_total += capacity;
        let mut counts = 0;
        for (agent, _) in &agents {
            counts += link_count(&first, &d, agent).await;
            let user = first.stored("users", agent).await.unwrap();
            assert_eq!(
                number(&user, "openLivechats"),
                open.get(agent).copied().unwrap_or(0)
            );
        }
        assert_eq!(counts, placed_total, "count grows by the chats placed");
        assert_eq!(
            first
                .count("switchboard_assignments", doc! {"status": "queued"})
                .await as i64,
            20 - placed_total
        );
        // Free every slot at once, through all instances.
        let ids: Vec<String> = first
            .db
            .collection::<Document>("switchboard_assignments")
            .find(doc! {"status": "open"})
            .await
            .unwrap()
            .map(|a| a.unwrap().get_str("_id").unwrap().to_string())
            .collect()
            .await;
        futures::stream::iter(ids.into_iter().enumerate())
            .map(|(i, id)| {
                let app = instances[i % 3];
                async move { app.close(&id).await }
            })
            .buffer_unordered(8)
            .collect::<Vec<Value>>()
            .await;
    }
}
