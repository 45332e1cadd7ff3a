//! Many waiting chats, three instances, agents accepting, declining and
//! freeing slots in a random (seeded, reproducible) order: every chat is
//! served exactly once, first placed in arrival order within its
//! department, no agent ever holds more than its limit, and the `count`
//! increments equal the chats routed.

use std::collections::HashMap;

use futures::StreamExt;
use mongodb::bson::{Document, doc};
use serde_json::json;

use crate::helpers::configure;
use crate::helpers::{TestApp, fresh_db_name, number, spawn_instance, test_settings};

/// A small deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

async fn all(app: &TestApp) -> Vec<Document> {
    app.db
        .collection::<Document>("switchboard_assignments")
        .find(doc! {"status": {"$ne": "abandoned"}})
        .sort(doc! {"createdAt": 1})
        .await
        .unwrap()
        .map(|d| d.unwrap())
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_accepts_declines_and_closes_on_three_instances_serve_every_chat_once_in_order() {
    // Another order: SWITCHBOARD_TEST_SEED=<n>.
    const SEED: u64 = 0x5eed_2026;
    let seed = std::env::var("SWITCHBOARD_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let mut rng = Rng(seed);
    let db_name = fresh_db_name();
    let settings = {
        let mut s = test_settings(&db_name);
        // Only events move the queue: the test drives them one at a time.
        s.routing.queue_interval_ms = 0;
        s.routing.offer_timeout_ms = 0;
        // Agents come back while chats wait; fair rejoin would lift their
        // `count` and blur what this test adds up.
        s.routing.strict_counts = true;
        s
    };
    let instances = [
        spawn_instance(settings.clone()).await,
        spawn_instance(settings.clone()).await,
        spawn_instance(settings).await,
    ];
    let first = &instances[0];

    // a0 (d1) and a2 (d2) accept by hand; a1 (d1 and d2) and a3 (d2) do not.
    let mut agents = Vec::new();
    for i in 0..4 {
        let (id, creds) = first.available_agent(&format!("a{i}")).await;
        first.set_limit(&id, 2).await;
        first.set_livechat_status(&creds, "not-available").await;
        agents.push((id, creds));
    }
    let id = |i: usize| agents[i].0.as_str();
    let d1 = first
        .department_with("d1", &[(id(0), None, None), (id(1), None, None)])
        .await;
    let d2 = first
        .department_with(
            "d2",
            &[
                (id(1), None, None),
                (id(2), None, None),
                (id(3), None, None),
            ],
        )
        .await;
    configure(
        first,
        json!({"agentAutoDistributionConfigs": [
            {"agentId": id(0), "ifAutoAcceptChat": false},
            {"agentId": id(2), "ifAutoAcceptChat": false}]}),
    )
    .await;
    let chats = 24;
    for i in 0..chats {
        let d = if i % 3 == 0 { &d1 } else { &d2 };
        let app = &instances[rng.below(3)];
        let waiting = app.route(&format!("v{i}"), Some(d)).await;
        assert_eq!(waiting["status"], "queued");
    }
    for (_, creds) in &agents {
        instances[rng.below(3)]
            .set_livechat_status(creds, "available")
            .await;
    }

    let mut steps = 0;
    loop {
        let now = all(first).await;
        // Invariants, after every step.
        let mut held: HashMap<String, i64> = HashMap::new();
        for a in &now {
            let status = a.get_str("status").unwrap();
            if status == "open" || status == "offered" {
                *held
                    .entry(a.get_str("agentId").unwrap().to_string())
                    .or_default() += 1;
            }
        }
        for (agent, _) in &agents {
            let n = held.get(agent).copied().unwrap_or(0);
            assert!(n <= 2, "step {steps} (seed {seed:#x}): {agent} holds {n}");
            let user = first.stored("users", agent).await.unwrap();
            assert_eq!(number(&user, "openLivechats"), n, "step {steps}");
        }
        let live: Vec<&Document> = now
            .iter()
            .filter(|a| matches!(a.get_str("status").unwrap(), "open" | "offered"))
            .collect();
        let waiting = now
            .iter()
            .filter(|a| a.get_str("status").unwrap() == "queued")
            .count();
        if live.is_empty() {
            assert_eq!(
                waiting, 0,
                "stuck at step {steps} (seed {seed:#x}): {now:?}"
            );
            break;
        }
        steps += 1;
        assert!(steps < 1000, "no end in sight (seed {seed:#x})");
        let chat = live[rng.below(live.len())];
        let chat_id = chat.get_str("_id").unwrap();
        let app = &instances[rng.below(3)];
        let verb = match chat.get_str("status").unwrap() {
            "offered" if rng.below(5) < 2 => "decline",
            "offered" => "accept",
            _ => "close",
        };
        let a = app
            .post(
                &format!("/api/v1/livechat/assignments/{chat_id}/{verb}"),
                &app.admin,
                json!({}),
            )
            .await;
        assert_eq!(a.status, 200, "{verb} at step {steps}: {:?}", a.body);
    }

    let done = all(first).await;
    assert_eq!(done.len(), chats);
    let mut first_placed: HashMap<String, Vec<mongodb::bson::DateTime>> = HashMap::new();
    let mut declines = 0;
    for a in &done {
        assert_eq!(a.get_str("status").unwrap(), "closed");
        let history = a.get_array("history").unwrap();
        let changes: Vec<&str> = history
            .iter()
            .map(|h| h.as_document().unwrap().get_str("status").unwrap())
            .collect();
        assert_eq!(
            changes.iter().filter(|c| **c == "open").count(),
            1,
            "served exactly once: {changes:?}"
        );
        declines += changes.iter().filter(|c| **c == "declined").count();
        let placed = history
            .iter()
            .map(|h| h.as_document().unwrap())
            .find(|h| matches!(h.get_str("status").unwrap(), "offered" | "open"))
            .unwrap();
        first_placed
            .entry(a.get_str("requestedDepartmentId").unwrap().to_string())
            .or_default()
            .push(*placed.get_datetime("at").unwrap());
    }
    if seed == SEED {
        assert!(declines > 0, "the seed exercises declines");
    }
    for (department, times) in &first_placed {
        // `done` is in arrival order: first placements must be too.
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "department {department} placed out of arrival order: {times:?}"
        );
    }
    let mut counts = 0;
    for (agent, _) in &agents {
        for d in [&d1, &d2] {
            if let Some(l) = first
                .db
                .collection::<Document>("rocketchat_livechat_department_agents")
                .find_one(doc! {"departmentId": d, "agentId": agent})
                .await
                .unwrap()
            {
                counts += number(&l, "count");
            }
        }
        let user = first.stored("users", agent).await.unwrap();
        assert_eq!(number(&user, "openLivechats"), 0);
    }
    assert_eq!(counts, chats as i64, "count increments equal chats routed");
}
