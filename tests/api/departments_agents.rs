//! Agents of a department: `GET/POST …/:_id/agents`, the count rules, the
//! agent's departments and concurrent saves.

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{BASE, LINKS};
use crate::helpers::{
    assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn listing_agents_pages_and_answers_empty_for_unknown_departments() {
    let app = spawn_app().await;
    let a = app.get(&format!("{BASE}/test/agents"), &app.admin).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        (a.body["agents"].clone(), a.body["total"].clone()),
        (json!([]), json!(0))
    );
    let empty = app.department_id("Empty", json!([])).await;
    let a = app.get(&format!("{BASE}/{empty}/agents"), &app.admin).await;
    assert_eq!(a.body["total"], json!(0));
    let b = app.agent("bravo").await;
    let c = app.agent("alpha").await;
    let id = app
        .department_id("Full", json!([{"agentId": b}, {"agentId": c}]))
        .await;
    let a = app
        .get(&format!("{BASE}/{id}/agents?count=1"), &app.admin)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["count"], json!(1));
    assert_eq!(a.body["total"], json!(2));
    let first = &a.body["agents"][0];
    assert_eq!(first["username"], json!("alpha"));
    assert_eq!(first["departmentId"], json!(id));
    assert_eq!(first["departmentEnabled"], json!(true));
    assert!(first["_id"].is_string());
    let (_, nobody) = app.user_with_roles("nobody", &["user"]).await;
    assert_forbidden(&app.get(&format!("{BASE}/test/agents"), &nobody).await);
}

#[tokio::test]
async fn posting_agents_upserts_removes_and_keeps_num_agents_exact() {
    let app = spawn_app().await;
    let a1 = app.agent("one").await;
    let a2 = app.agent("two").await;
    let id = app
        .department_id("D", json!([{"agentId": a1, "count": 5, "order": 3}]))
        .await;
    let path = format!("{BASE}/{id}/agents");
    let a = app
        .post(
            &path,
            &app.admin,
            json!({"upsert": [{"agentId": a2, "username": "two"}], "remove": [{"agentId": a1}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body, json!({"success": true}));
    assert!(app.link(&id, &a1).await.is_none());
    assert!(app.link(&id, &a2).await.is_some());
    assert_eq!(app.num_agents(&id).await, 1);
    // Removing an agent that is not linked changes nothing.
    app.post(
        &path,
        &app.admin,
        json!({"upsert": [], "remove": [{"agentId": a1}]}),
    )
    .await;
    assert_eq!(app.num_agents(&id).await, 1);
}

#[tokio::test]
async fn posting_agents_errors_match_rocketchat_and_write_nothing() {
    let app = spawn_app().await;
    let agent = app.agent("err.agent").await;
    assert_unauthenticated(
        &app.call(Method::POST, &format!("{BASE}/test/agents"), None, None)
            .await,
    );
    let (_, nobody) = app.user_with_roles("nobody", &["user"]).await;
    assert_forbidden(
        &app.post(&format!("{BASE}/test/agents"), &nobody, json!({}))
            .await,
    );
    let a = app
        .post(
            &format!("{BASE}/test/agents"),
            &app.admin,
            json!({"upsert": [], "remove": []}),
        )
        .await;
    assert_bad_request(&a, "Department not found [error-department-not-found]");
    let id = app.department_id("D", json!([])).await;
    let path = format!("{BASE}/{id}/agents");
    assert_bad_request(&app.post(&path, &app.admin, json!({})).await, "upsert");
    assert_bad_request(
        &app.post(&path, &app.admin, json!({"upsert": [{}], "remove": []}))
            .await,
        "upsert[0].agentId",
    );
    assert_bad_request(
        &app.post(
            &path,
            &app.admin,
            json!({"upsert": [{"agentId": agent}, {"agentId": "ghost"}], "remove": []}),
        )
        .await,
        "ghost",
    );
    assert_eq!(app.count(LINKS, doc! {}).await, 0);
    assert_eq!(app.num_agents(&id).await, 0);
}

#[tokio::test]
async fn re_upserting_keeps_stored_count_and_order_unless_given() {
    let app = spawn_app().await;
    let agent = app.agent("keep").await;
    let id = app
        .department_id("K", json!([{"agentId": agent, "count": 7, "order": 2}]))
        .await;
    let path = format!("{BASE}/{id}/agents");
    app.post(
        &path,
        &app.admin,
        json!({"upsert": [{"agentId": agent}], "remove": []}),
    )
    .await;
    let link = app.link(&id, &agent).await.unwrap();
    assert_eq!(
        (
            link.get_i64("count").unwrap(),
            link.get_i64("order").unwrap()
        ),
        (7, 2)
    );
    app.post(
        &path,
        &app.admin,
        json!({"upsert": [{"agentId": agent, "count": 0}], "remove": []}),
    )
    .await;
    let link = app.link(&id, &agent).await.unwrap();
    assert_eq!(
        (
            link.get_i64("count").unwrap(),
            link.get_i64("order").unwrap()
        ),
        (0, 2)
    );
    // PUT's agents behave the same.
    app.put(
        &format!("{BASE}/{id}"),
        &app.admin,
        json!({"department": crate::helpers::department_body("K"), "agents": [{"agentId": agent, "order": 9}]}),
    )
    .await;
    let link = app.link(&id, &agent).await.unwrap();
    assert_eq!(
        (
            link.get_i64("count").unwrap(),
            link.get_i64("order").unwrap()
        ),
        (0, 9)
    );
    assert_eq!(app.num_agents(&id).await, 1);
}

#[tokio::test]
async fn a_new_agent_starts_at_the_lowest_count_of_the_other_eligible_agents() {
    let app = spawn_app().await;
    let (busy, _) = app.available_agent("busy").await;
    let (calm, _) = app.available_agent("calm").await;
    let offline = app.agent("offline").await;
    let id = app
        .department_id(
            "Fair",
            json!([{"agentId": busy, "count": 50}, {"agentId": calm, "count": 20}, {"agentId": offline, "count": 1}]),
        )
        .await;
    let (late, _) = app.available_agent("late").await;
    let path = format!("{BASE}/{id}/agents");
    app.post(
        &path,
        &app.admin,
        json!({"upsert": [{"agentId": late}], "remove": []}),
    )
    .await;
    // The offline agent (count 1) is not eligible, so it does not count.
    assert_eq!(
        app.link(&id, &late)
            .await
            .unwrap()
            .get_i64("count")
            .unwrap(),
        20
    );
    // An agent who leaves and rejoins joins level with the others too.
    app.post(
        &path,
        &app.admin,
        json!({"upsert": [], "remove": [{"agentId": busy}]}),
    )
    .await;
    app.post(
        &path,
        &app.admin,
        json!({"upsert": [{"agentId": busy}], "remove": []}),
    )
    .await;
    assert_eq!(
        app.link(&id, &busy)
            .await
            .unwrap()
            .get_i64("count")
            .unwrap(),
        20
    );
}

#[tokio::test]
async fn agents_linked_in_the_same_request_do_not_raise_each_other() {
    let app = spawn_app().await;
    let (heavy, _) = app.available_agent("heavy").await;
    let (x, _) = app.available_agent("x").await;
    let (y, _) = app.available_agent("y").await;
    let id = app
        .department_id(
            "Same",
            json!([{"agentId": heavy, "count": 10000}, {"agentId": x}, {"agentId": y}]),
        )
        .await;
    assert_eq!(
        app.link(&id, &x).await.unwrap().get_i64("count").unwrap(),
        0
    );
    assert_eq!(
        app.link(&id, &y).await.unwrap().get_i64("count").unwrap(),
        0
    );
    assert_eq!(
        app.link(&id, &heavy)
            .await
            .unwrap()
            .get_i64("count")
            .unwrap(),
        10000
    );
}

#[tokio::test]
async fn strict_counts_start_new_agents_at_zero() {
    let app = spawn_app_with(|s| s.routing.strict_counts = true).await;
    let (busy, _) = app.available_agent("busy").await;
    let id = app
        .department_id("Strict", json!([{"agentId": busy, "count": 30}]))
        .await;
    let (late, _) = app.available_agent("late").await;
    app.post(
        &format!("{BASE}/{id}/agents"),
        &app.admin,
        json!({"upsert": [{"agentId": late}], "remove": []}),
    )
    .await;
    assert_eq!(
        app.link(&id, &late)
            .await
            .unwrap()
            .get_i64("count")
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn links_carry_the_routing_fields() {
    let app = spawn_app().await;
    let (on, _) = app.available_agent("on").await;
    let off = app.agent("off").await;
    let id = app
        .department_id("R", json!([{"agentId": on}, {"agentId": off}]))
        .await;
    let on_link = app.link(&id, &on).await.unwrap();
    assert!(on_link.get_bool("eligible").unwrap());
    assert!(on_link.get_bool("eligibleNotAway").unwrap());
    assert_eq!(on_link.get_str("username").unwrap(), "on");
    assert!(
        !app.link(&id, &off)
            .await
            .unwrap()
            .get_bool("eligible")
            .unwrap()
    );
}

#[tokio::test]
async fn concurrent_upserts_of_the_same_agent_make_one_link() {
    let app = spawn_app().await;
    let agent = app.agent("racer").await;
    let id = app.department_id("Race", json!([])).await;
    let path = format!("{BASE}/{id}/agents");
    let body = json!({"upsert": [{"agentId": agent}], "remove": []});
    let calls = (0..8).map(|_| app.post(&path, &app.admin, body.clone()));
    for a in futures::future::join_all(calls).await {
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    assert_eq!(app.count(LINKS, doc! {"departmentId": &id}).await, 1);
    assert_eq!(app.num_agents(&id).await, 1);
    // And concurrent removals count it down once.
    let body = json!({"upsert": [], "remove": [{"agentId": agent}]});
    let calls = (0..8).map(|_| app.post(&path, &app.admin, body.clone()));
    for a in futures::future::join_all(calls).await {
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    assert_eq!(app.count(LINKS, doc! {"departmentId": &id}).await, 0);
    assert_eq!(app.num_agents(&id).await, 0);
}

#[tokio::test]
async fn removing_the_agent_role_unlinks_it_and_fixes_num_agents() {
    let app = spawn_app().await;
    let agent = app.agent("leaver").await;
    let id = app.department_id("L", json!([{"agentId": agent}])).await;
    let a = app
        .delete(&format!("/api/v1/livechat/users/agent/{agent}"), &app.admin)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(app.link(&id, &agent).await.is_none());
    assert_eq!(app.num_agents(&id).await, 0);
}

#[tokio::test]
async fn an_agents_departments_can_be_limited_to_enabled_ones() {
    let app = spawn_app().await;
    let agent = app.agent("multi").await;
    let on = app.department_id("On", json!([{"agentId": agent}])).await;
    let off = app.department_id("Off", json!([{"agentId": agent}])).await;
    app.post(&format!("{BASE}/{off}/archive"), &app.admin, json!({}))
        .await;
    let path = format!("/api/v1/livechat/agents/{agent}/departments");
    let a = app.get(&path, &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["departments"].as_array().unwrap().len(), 2);
    let a = app
        .get(&format!("{path}?enabledDepartmentsOnly=true"), &app.admin)
        .await;
    let departments = a.body["departments"].as_array().unwrap();
    assert_eq!(departments.len(), 1);
    assert_eq!(departments[0]["departmentId"], json!(on));
    assert_unauthenticated(&app.call(Method::GET, &path, None, None).await);
}
