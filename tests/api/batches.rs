//! Decisions for one department that arrive together are taken together:
//! they are dealt exactly as the same decisions one after another would be,
//! and every chat keeps its own hold. (How many commands a batch saves is
//! the load benchmark's to measure: metrics are shared by every instance a
//! test process runs.)

use futures::future::join_all;
use mongodb::bson::{Document, doc};

use crate::helpers::{TestApp, number, spawn_app};

async fn burst(app: &TestApp, department: &str, n: usize) -> Vec<serde_json::Value> {
    let calls = (0..n).map(|i| {
        let department = department.to_string();
        async move { app.route(&format!("together{i}"), Some(&department)).await }
    });
    join_all(calls).await
}

async fn holds_of(app: &TestApp, collection: &str, filter: Document) -> usize {
    let found = app
        .db
        .collection::<Document>(collection)
        .find_one(filter)
        .await
        .unwrap()
        .expect("the document exists");
    found
        .get_array("routingHolds")
        .map(|h| h.len())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_burst_is_dealt_as_one_decision_after_another_would_deal_it() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cid", "dan", "eve"] {
        ids.push(app.available_agent(name).await.0);
    }
    // ann starts 4 chats behind the others.
    let links: Vec<(&str, Option<i64>, Option<i64>)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), Some(if i == 0 { 0 } else { 4 }), Some(0)))
        .collect();
    let department = app.department_with("together", &links).await;

    let answers = burst(&app, &department, 44).await;

    assert!(answers.iter().all(|a| a["status"] == "open"), "{answers:?}");
    // 44 chats over counts 0,4,4,4,4: ann catches up (4), then 8 each.
    let open = app.open_per_agent().await;
    for id in &ids {
        let want = if *id == ids[0] { 12 } else { 8 };
        assert_eq!(open.get(id).copied(), Some(want), "{open:?}");
        let link = app.stored_link(&department, id).await;
        // Counts: ann 0 + 12, the others 4 + 8.
        assert_eq!(number(&link, "count"), 12);
        assert_eq!(number(&link, "openChats"), want);
        // One hold per open chat, on the link and on the agent.
        let on_link = holds_of(
            &app,
            "rocketchat_livechat_department_agents",
            doc! {"departmentId": &department, "agentId": id},
        )
        .await;
        assert_eq!(on_link as i64, want);
        let on_user = holds_of(&app, "users", doc! {"_id": id}).await;
        assert_eq!(on_user as i64, want);
    }
}

#[tokio::test]
async fn a_burst_fills_agents_exactly_to_their_limits_and_queues_the_rest() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cid"] {
        let id = app.available_agent(name).await.0;
        app.set_limit(&id, 3).await;
        ids.push(id);
    }
    let links: Vec<(&str, Option<i64>, Option<i64>)> =
        ids.iter().map(|i| (i.as_str(), Some(0), Some(0))).collect();
    let department = app.department_with("limited", &links).await;

    let answers = burst(&app, &department, 15).await;

    let open = answers.iter().filter(|a| a["status"] == "open").count();
    let queued = answers.iter().filter(|a| a["status"] == "queued").count();
    assert_eq!((open, queued), (9, 6), "{answers:?}");
    for id in &ids {
        let user = app.stored("users", id).await.unwrap();
        assert_eq!(number(&user, "openLivechats"), 3);
        assert_eq!(holds_of(&app, "users", doc! {"_id": id}).await, 3);
        let link = app.stored_link(&department, id).await;
        assert_eq!(number(&link, "count"), 3, "no count without a routed chat");
        assert_eq!(link.get_bool("agentFull"), Ok(true));
    }
}
