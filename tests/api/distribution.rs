//! The Comm100 distribution methods on the routing engine: each method's
//! sequence of choices, alone and under concurrency, limits, the
//! last-chatted preference and ordered backup departments.

use futures::future::join_all;
use reqwest::Method as Http;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::helpers::{TestApp, spawn_app};

const CONFIG: &str = "/api/v1/livechat/autoDistributionConfig";

async fn configure(app: &TestApp, body: Value) {
    let a = app.put(CONFIG, &app.admin, body).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

async fn method_for(app: &TestApp, department: &str, method: &str) {
    configure(
        app,
        json!({"departmentAutoDistributionConfigs": [
            {"departmentId": department, "autoDistributionMethod": method}]}),
    )
    .await;
}

async fn limits(app: &TestApp, agents: &[(&str, u32)]) {
    let entries: Vec<Value> = agents
        .iter()
        .map(|(id, n)| json!({"agentId": id, "maxConcurrentChats": n, "ifAutoAcceptChat": true}))
        .collect();
    configure(app, json!({"agentAutoDistributionConfigs": entries})).await;
}

fn names(assignments: &[Value]) -> Vec<String> {
    assignments
        .iter()
        .map(|a| a["username"].as_str().unwrap_or("(queued)").to_string())
        .collect()
}

async fn route_all(app: &TestApp, department: &str, visitors: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for v in visitors {
        out.push(app.route(v, Some(department)).await);
    }
    out
}

async fn concurrently(app: &TestApp, department: &str, n: usize) -> HashMap<String, usize> {
    let calls = (0..n).map(|i| async move { app.route(&format!("c{i}"), Some(department)).await });
    let mut per_agent = HashMap::new();
    for a in join_all(calls).await {
        *per_agent
            .entry(a["username"].as_str().unwrap_or("(queued)").to_string())
            .or_insert(0) += 1;
    }
    per_agent
}

#[tokio::test]
async fn load_balancing_picks_the_fewest_open_chats_then_the_earliest_last_assignment() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let (c, _) = app.available_agent("cid").await;
    // Counts are ignored by this method.
    let d = app
        .department_with(
            "lb",
            &[
                (&a, Some(100), None),
                (&b, Some(0), None),
                (&c, Some(0), None),
            ],
        )
        .await;
    method_for(&app, &d, "loadBalancing").await;
    let first = route_all(&app, &d, &["v1", "v2", "v3", "v4"]).await;
    assert_eq!(names(&first), ["ann", "bob", "cid", "ann"]);
    assert!(first.iter().all(|x| x["method"] == "loadBalancing"));
    assert!(
        first[1]["reason"]
            .as_str()
            .unwrap()
            .contains("fewest open chats")
    );
    // Bob's chat ends: he now has the fewest. Then Bob and Cid hold one
    // each and Cid's last assignment is the earlier.
    app.close(first[1]["_id"].as_str().unwrap()).await;
    assert_eq!(
        names(&route_all(&app, &d, &["v5", "v6"]).await),
        ["bob", "cid"]
    );
}

#[tokio::test]
async fn round_robin_rotates_by_last_assignment_whatever_the_load() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let (c, _) = app.available_agent("cid").await;
    let d = app
        .department_with(
            "rr",
            &[
                (&a, Some(0), Some(2)),
                (&b, Some(0), Some(1)),
                (&c, Some(0), Some(3)),
            ],
        )
        .await;
    method_for(&app, &d, "roundRobin").await;
    let mut sequence = Vec::new();
    for i in 0..6 {
        let x = app.route(&format!("v{i}"), Some(&d)).await;
        sequence.push(x["username"].as_str().unwrap().to_string());
        // Ann always closes at once: load does not move her up the line.
        if x["username"] == "ann" {
            app.close(x["_id"].as_str().unwrap()).await;
        }
    }
    assert_eq!(sequence, ["bob", "ann", "cid", "bob", "ann", "cid"]);
}

#[tokio::test]
async fn capability_weighted_picks_the_lowest_ratio_of_open_chats_to_limit() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("cw", &[(&a, Some(0), None), (&b, Some(0), None)])
        .await;
    limits(&app, &[(&a, 4), (&b, 2)]).await;
    method_for(&app, &d, "capabilityWeighted").await;
    let visitors: Vec<String> = (0..7).map(|i| format!("v{i}")).collect();
    let refs: Vec<&str> = visitors.iter().map(String::as_str).collect();
    let sequence = route_all(&app, &d, &refs).await;
    // 0/4=0/2 (ann by name), 0/2, 1/4<1/2, 2/4=1/2 (bob: assigned earlier),
    // then only ann has room (3/4, 4/4), then nobody.
    assert_eq!(
        names(&sequence),
        ["ann", "bob", "ann", "bob", "ann", "ann", "(queued)"]
    );
    assert!(
        sequence[0]["reason"]
            .as_str()
            .unwrap()
            .contains("load ratio")
    );
}

#[tokio::test]
async fn a_department_override_beats_the_global_method() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("ls", &[(&a, Some(5), None), (&b, Some(0), None)])
        .await;
    configure(&app, json!({"autoDistributionMethod": "loadBalancing",
        "departmentAutoDistributionConfigs": [{"departmentId": d, "autoDistributionMethod": "leastServed"}]})).await;
    let sequence = route_all(&app, &d, &["v1", "v2", "v3"]).await;
    // Least served: Bob until his count reaches Ann's, whatever the load.
    assert_eq!(names(&sequence), ["bob", "bob", "bob"]);
    assert!(sequence.iter().all(|x| x["method"] == "leastServed"));
    // Without an override the global method applies.
    let other = app
        .department_with("global", &[(&a, Some(5), None), (&b, Some(0), None)])
        .await;
    let x = app.route("v4", Some(&other)).await;
    assert_eq!(x["method"], "loadBalancing");
    assert_eq!(
        x["username"], "ann",
        "ann has fewer open chats (0 against 3)"
    );
}

#[tokio::test]
async fn every_method_stays_balanced_and_within_limits_under_concurrency() {
    for method in [
        "leastServed",
        "loadBalancing",
        "roundRobin",
        "capabilityWeighted",
    ] {
        let app = spawn_app().await;
        let mut ids = Vec::new();
        for name in ["ann", "bob", "cid", "dan"] {
            ids.push(app.available_agent(name).await.0);
        }
        let links: Vec<(&str, Option<i64>, Option<i64>)> =
            ids.iter().map(|i| (i.as_str(), Some(0), Some(0))).collect();
        let d = app.department_with(method, &links).await;
        method_for(&app, &d, method).await;
        // One chat each for four concurrent visitors: nobody gets two.
        let per_agent = concurrently(&app, &d, 4).await;
        assert_eq!(per_agent.len(), 4, "{method}: {per_agent:?}");
        assert!(
            per_agent.values().all(|n| *n == 1),
            "{method}: {per_agent:?}"
        );
        // Limits hold: 3 each, 20 visitors at once → 12 open, 8 queued.
        let entries: Vec<(&str, u32)> = ids.iter().map(|i| (i.as_str(), 4)).collect();
        limits(&app, &entries).await;
        let calls = (0..20).map(|i| {
            let app = &app;
            let d = d.clone();
            async move { app.route(&format!("burst{i}"), Some(&d)).await }
        });
        let answers = join_all(calls).await;
        let open = answers.iter().filter(|a| a["status"] == "open").count();
        assert_eq!(open, 12, "{method}: 4 agents × 3 more slots");
        for id in &ids {
            let held = app
                .count(
                    "switchboard_assignments",
                    mongodb::bson::doc! {"agentId": id, "status": "open"},
                )
                .await;
            assert_eq!(held, 4, "{method}: every agent is exactly at its limit");
        }
    }
}

#[tokio::test]
async fn the_limit_for_all_agents_applies_to_agents_without_their_own() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("limits", &[(&a, Some(0), None), (&b, Some(1), None)])
        .await;
    configure(
        &app,
        json!({"ifLimitMaxConcurrentChatsForAllAgents": true, "maxConcurrentChatsForAllAgents": 1,
        "agentAutoDistributionConfigs": [{"agentId": b, "maxConcurrentChats": 2}]}),
    )
    .await;
    let sequence = route_all(&app, &d, &["v1", "v2", "v3", "v4"]).await;
    assert_eq!(names(&sequence), ["ann", "bob", "bob", "(queued)"]);
    // The same limit is Rocket.Chat's livechat.maxNumberSimultaneousChat.
    let user = app.stored("users", &b).await.unwrap();
    assert_eq!(
        user.get_document("livechat")
            .unwrap()
            .get("maxNumberSimultaneousChat")
            .and_then(|v| v.as_i64().or(v.as_i32().map(i64::from))),
        Some(2)
    );
    // Lifting the global limit frees Ann at once.
    configure(
        &app,
        json!({"ifLimitMaxConcurrentChatsForAllAgents": false}),
    )
    .await;
    assert_eq!(app.route("v5", Some(&d)).await["username"], "ann");
}

#[tokio::test]
async fn the_last_chatted_agent_is_preferred_while_eligible() {
    let app = spawn_app().await;
    let (a, a_creds) = app.available_agent("ann").await;
    let (b, _) = app.available_agent("bob").await;
    let d = app
        .department_with("sticky", &[(&a, Some(0), Some(1)), (&b, Some(0), Some(2))])
        .await;
    configure(
        &app,
        json!({"departmentAutoDistributionConfigs": [
        {"departmentId": d, "isLastChattedAgentPreferred": true}]}),
    )
    .await;
    let first = app.route("returning", Some(&d)).await;
    assert_eq!(first["username"], "ann");
    app.close(first["_id"].as_str().unwrap()).await;
    // Least served would now pick Bob; the visitor goes back to Ann.
    let again = app.route("returning", Some(&d)).await;
    assert_eq!(again["username"], "ann");
    assert!(
        again["reason"].as_str().unwrap().contains("last-chatted"),
        "{again:?}"
    );
    app.close(again["_id"].as_str().unwrap()).await;
    // A new visitor is routed by the method.
    assert_eq!(app.route("new", Some(&d)).await["username"], "bob");
    // When Ann is not available the method decides.
    app.set_livechat_status(&a_creds, "not-available").await;
    assert_eq!(app.route("returning", Some(&d)).await["username"], "bob");
}

/// Without a department the global preference applies: a returning
/// visitor goes back to its agent rather than the lowest `livechatCount`.
#[tokio::test]
async fn without_a_department_the_global_last_chatted_preference_applies() {
    let app = spawn_app().await;
    let (_, a_creds) = app.available_agent("ann").await;
    app.available_agent("bob").await;
    configure(
        &app,
        json!({"isLastChattedAgentPreferredForAutoDistribution": true}),
    )
    .await;
    let first = app.route("returning", None).await;
    assert_eq!(first["username"], "ann");
    app.close(first["_id"].as_str().unwrap()).await;
    // By livechatCount Bob is next; the returning visitor gets Ann back.
    let again = app.route("returning", None).await;
    assert_eq!(again["username"], "ann");
    assert!(
        again["reason"].as_str().unwrap().contains("last-chatted"),
        "{again:?}"
    );
    app.close(again["_id"].as_str().unwrap()).await;
    assert_eq!(app.route("new", None).await["username"], "bob");
    // An agent that cannot take it is passed over.
    app.set_livechat_status(&a_creds, "not-available").await;
    let back = app.route("returning", None).await;
    assert_eq!(back["username"], "bob", "{back:?}");
    assert!(back["reason"].as_str().unwrap().contains("least served"));
}

#[tokio::test]
async fn backups_are_tried_in_order_following_chains_without_looping() {
    let app = spawn_app().await;
    let (c, _) = app.available_agent("cid").await;
    let (off, off_creds) = app.available_agent("off").await;
    let primary = app
        .department_with("primary", &[(&off, Some(0), None)])
        .await;
    let second = app.department_with("second", &[]).await;
    let third = app.department_with("third", &[]).await;
    let last = app.department_with("last", &[(&c, Some(0), None)]).await;
    app.set_livechat_status(&off_creds, "not-available").await;
    // primary → [second (1), last (2)]; second → [third, primary (a cycle)];
    // third → [second (a cycle)].
    configure(&app, json!({"departmentAutoDistributionConfigs": [
        {"departmentId": primary, "backupDepartments": [
            {"backupDepartmentId": last, "order": 2}, {"backupDepartmentId": second, "order": 1}]},
        {"departmentId": second, "backupDepartments": [
            {"backupDepartmentId": third, "order": 1}, {"backupDepartmentId": primary, "order": 2}]},
        {"departmentId": third, "backupDepartments": [{"backupDepartmentId": second, "order": 1}]},
    ]})).await;
    let a = app.route("v1", Some(&primary)).await;
    assert_eq!(a["status"], "open");
    assert_eq!(a["username"], "cid");
    assert_eq!(a["departmentId"], json!(last));
    assert_eq!(a["requestedDepartmentId"], json!(primary));
    let reason = a["reason"].as_str().unwrap();
    assert!(reason.contains("primary → second → third"), "{reason}");
    // With nobody anywhere the chain ends, queued on the requested department.
    let lone = app.department_with("lone", &[]).await;
    configure(&app, json!({"departmentAutoDistributionConfigs": [
        {"departmentId": second, "backupDepartments": [{"backupDepartmentId": lone, "order": 1}]},
        {"departmentId": lone, "backupDepartments": [{"backupDepartmentId": second, "order": 1}]},
    ]})).await;
    let q = app.route("v2", Some(&second)).await;
    assert_eq!(q["status"], "queued");
    assert_eq!(q["departmentId"], json!(second));
}

#[tokio::test]
async fn with_auto_distribution_disabled_chats_are_queued() {
    let app = spawn_app().await;
    let (a, _) = app.available_agent("ann").await;
    let d = app.department_with("off", &[(&a, Some(0), None)]).await;
    assert_eq!(
        app.post(&format!("{CONFIG}:disable"), &app.admin, json!({}))
            .await
            .status,
        200
    );
    let q = app.route("v1", Some(&d)).await;
    assert_eq!(q["status"], "queued");
    assert!(q["reason"].as_str().unwrap().contains("disabled"));
    let next = app
        .call(
            Http::GET,
            &format!("/api/v1/livechat/agent.next/v2?department={d}"),
            None,
            None,
        )
        .await;
    assert_eq!(next.status, 400);
    assert_eq!(
        app.post(&format!("{CONFIG}:enable"), &app.admin, json!({}))
            .await
            .status,
        200
    );
    assert_eq!(app.route("v3", Some(&d)).await["username"], "ann");
}
