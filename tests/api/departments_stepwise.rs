//! Department saves without multi-document transactions
//! (`mongo.transactions = false`, as on a standalone server): the writes
//! run one by one, and the registry keeps every guarantee it gives with
//! transactions — `numAgents` exact, rejected requests write nothing, no
//! link outlives its department.

use mongodb::bson::doc;
use serde_json::json;

use crate::helpers::{BASE, LINKS, department_body};
use crate::helpers::{TestApp, assert_bad_request, number, spawn_app_with};

async fn app_without_transactions() -> TestApp {
    spawn_app_with(|s| s.mongo.transactions = false).await
}

#[tokio::test]
async fn creating_with_agents_stores_the_department_its_links_and_an_exact_num_agents() {
    let app = app_without_transactions().await;
    let one = app.agent("one").await;
    let two = app.agent("two").await;
    let body = app
        .create_department(
            "Stepwise",
            json!([{"agentId": one, "count": 3}, {"agentId": two, "order": 2}]),
        )
        .await;
    let id = body["department"]["_id"].as_str().unwrap();
    assert_eq!(body["department"]["numAgents"], 2);
    assert_eq!(app.num_agents(id).await, 2);
    let link = app.link(id, &one).await.expect("one is linked");
    assert_eq!(number(&link, "count"), 3);
    assert!(app.link(id, &two).await.is_some());
}

#[tokio::test]
async fn a_rejected_save_writes_nothing() {
    let app = app_without_transactions().await;
    let agent = app.agent("real").await;
    let a = app
        .post(
            BASE,
            &app.admin,
            json!({"department": department_body("Half"),
                   "agents": [{"agentId": agent}, {"agentId": "ghost"}]}),
        )
        .await;
    assert_bad_request(&a, "ghost");
    assert_eq!(app.footprint().await, (0, 0));
}

#[tokio::test]
async fn concurrent_agent_saves_keep_num_agents_exact() {
    let app = app_without_transactions().await;
    let mut agents = Vec::new();
    for i in 0..6 {
        agents.push(app.agent(&format!("racer{i}")).await);
    }
    let id = app.department_id("Race", json!([])).await;
    let path = format!("{BASE}/{id}/agents");
    // Every agent is upserted by two requests at once.
    let calls = agents.iter().chain(agents.iter()).map(|agent| {
        app.post(
            &path,
            &app.admin,
            json!({"upsert": [{"agentId": agent}], "remove": []}),
        )
    });
    for a in futures::future::join_all(calls).await {
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    assert_eq!(app.count(LINKS, doc! {"departmentId": &id}).await, 6);
    assert_eq!(app.num_agents(&id).await, 6);
    // Half are removed, each by two requests at once.
    let calls = agents[..3].iter().chain(agents[..3].iter()).map(|agent| {
        app.post(
            &path,
            &app.admin,
            json!({"upsert": [], "remove": [{"agentId": agent}]}),
        )
    });
    for a in futures::future::join_all(calls).await {
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    assert_eq!(app.count(LINKS, doc! {"departmentId": &id}).await, 3);
    assert_eq!(app.num_agents(&id).await, 3);
}

#[tokio::test]
async fn deleting_removes_the_department_and_its_links() {
    let app = app_without_transactions().await;
    let agent = app.agent("leaver").await;
    let id = app
        .department_id("Doomed", json!([{"agentId": agent}]))
        .await;
    let a = app.delete(&format!("{BASE}/{id}"), &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(app.footprint().await, (0, 0));
}
