use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app};

#[tokio::test]
async fn adding_an_agent_gives_the_role_and_answers_the_user() {
    let app = spawn_app().await;
    let id = app.create_user("ann", &["user"]).await;
    let a = app
        .post(
            "/api/v1/livechat/users/agent",
            &app.admin,
            json!({"username": "ann"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["success"], json!(true));
    assert_eq!(a.body["user"]["_id"], json!(id));
    assert!(
        a.body["user"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("livechat-agent"))
    );
    let stored = app.stored("users", &id).await.unwrap();
    assert!(
        stored
            .get_array("roles")
            .unwrap()
            .iter()
            .any(|r| r.as_str() == Some("livechat-agent"))
    );
}

#[tokio::test]
async fn adding_a_manager_gives_the_manager_role() {
    let app = spawn_app().await;
    app.create_user("mia", &["user"]).await;
    let a = app
        .post(
            "/api/v1/livechat/users/manager",
            &app.admin,
            json!({"username": "mia"}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body["user"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("livechat-manager"))
    );
}

#[tokio::test]
async fn unknown_usernames_and_types_are_400() {
    let app = spawn_app().await;
    assert_bad_request(
        &app.post(
            "/api/v1/livechat/users/agent",
            &app.admin,
            json!({"username": "ghost"}),
        )
        .await,
        "ghost",
    );
    app.create_user("ann", &["user"]).await;
    assert_bad_request(
        &app.post(
            "/api/v1/livechat/users/wizard",
            &app.admin,
            json!({"username": "ann"}),
        )
        .await,
        "error-invalid-type",
    );
    assert_bad_request(
        &app.post("/api/v1/livechat/users/agent", &app.admin, json!({}))
            .await,
        "username",
    );
}

#[tokio::test]
async fn agents_are_listed_paginated_and_filtered() {
    let app = spawn_app().await;
    for name in ["carl", "anna", "bert"] {
        app.create_user(name, &["user", "livechat-agent"]).await;
    }
    app.create_user("zed", &["user"]).await;
    let a = app
        .get("/api/v1/livechat/users/agent?count=2&offset=0", &app.admin)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["total"], json!(3));
    assert_eq!(a.body["count"], json!(2));
    assert_eq!(a.body["offset"], json!(0));
    let names: Vec<_> = a.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, vec![json!("anna"), json!("bert")]);
    let a = app
        .get("/api/v1/livechat/users/agent?text=ER", &app.admin)
        .await;
    let names: Vec<_> = a.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, vec![json!("bert")]);
    // Regex characters are matched literally.
    let a = app
        .get("/api/v1/livechat/users/agent?text=.*", &app.admin)
        .await;
    assert_eq!(a.body["total"], json!(0));
    assert_bad_request(
        &app.get("/api/v1/livechat/users/agent?count=x", &app.admin)
            .await,
        "count",
    );
}

#[tokio::test]
async fn one_agent_is_read_by_id() {
    let app = spawn_app().await;
    let id = app.create_user("ann", &["user", "livechat-agent"]).await;
    let other = app.create_user("bob", &["user"]).await;
    let a = app
        .get(&format!("/api/v1/livechat/users/agent/{id}"), &app.admin)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["user"]["username"], "ann");
    let a = app
        .get(&format!("/api/v1/livechat/users/agent/{other}"), &app.admin)
        .await;
    assert_eq!(a.body["user"], json!(null));
}

#[tokio::test]
async fn removing_an_agent_takes_the_role_and_its_department_links() {
    let app = spawn_app().await;
    let id = app.create_user("ann", &["user", "livechat-agent"]).await;
    // Two departments that link this agent and one other agent, as a
    // Rocket.Chat server would have stored them.
    let depts = app
        .db
        .collection::<mongodb::bson::Document>("rocketchat_livechat_department");
    let links = app
        .db
        .collection::<mongodb::bson::Document>("rocketchat_livechat_department_agents");
    for d in ["d1", "d2"] {
        depts
            .insert_one(doc! {"_id": d, "name": d, "numAgents": 2})
            .await
            .unwrap();
        links.insert_one(doc! {"_id": format!("{d}-ann"), "departmentId": d, "agentId": &id, "username": "ann", "count": 0, "order": 0}).await.unwrap();
        links.insert_one(doc! {"_id": format!("{d}-x"), "departmentId": d, "agentId": "x", "username": "x", "count": 0, "order": 0}).await.unwrap();
    }
    let a = app
        .delete(&format!("/api/v1/livechat/users/agent/{id}"), &app.admin)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let user = app.stored("users", &id).await.unwrap();
    assert!(
        !user
            .get_array("roles")
            .unwrap()
            .iter()
            .any(|r| r.as_str() == Some("livechat-agent"))
    );
    assert_eq!(
        app.count(
            "rocketchat_livechat_department_agents",
            doc! {"agentId": &id}
        )
        .await,
        0
    );
    assert_eq!(
        app.count("rocketchat_livechat_department_agents", doc! {})
            .await,
        2
    );
    for d in ["d1", "d2"] {
        let dept = app
            .stored("rocketchat_livechat_department", d)
            .await
            .unwrap();
        assert_eq!(
            dept.get_i32("numAgents")
                .map(i64::from)
                .or_else(|_| dept.get_i64("numAgents"))
                .unwrap(),
            1
        );
    }
    // Removing again is a 400: it is no longer an agent.
    assert_bad_request(
        &app.delete(&format!("/api/v1/livechat/users/agent/{id}"), &app.admin)
            .await,
        "error-user-not-found",
    );
}

#[tokio::test]
async fn removing_a_manager_takes_only_that_role() {
    let app = spawn_app().await;
    let id = app.create_user("mia", &["user", "livechat-manager"]).await;
    assert_eq!(
        app.delete(&format!("/api/v1/livechat/users/manager/{id}"), &app.admin)
            .await
            .status,
        200
    );
    let user = app.stored("users", &id).await.unwrap();
    let roles: Vec<_> = user
        .get_array("roles")
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(roles, vec!["user"]);
}

#[tokio::test]
async fn livechat_user_endpoints_need_login_and_permissions() {
    let app = spawn_app().await;
    assert_unauthenticated(
        &app.call(Method::GET, "/api/v1/livechat/users/agent", None, None)
            .await,
    );
    let (id, plain) = app.user_with_roles("plain", &["user"]).await;
    assert_forbidden(&app.get("/api/v1/livechat/users/agent", &plain).await);
    assert_forbidden(
        &app.get(&format!("/api/v1/livechat/users/agent/{id}"), &plain)
            .await,
    );
    assert_forbidden(
        &app.post(
            "/api/v1/livechat/users/agent",
            &plain,
            json!({"username": "plain"}),
        )
        .await,
    );
    assert_forbidden(
        &app.delete(&format!("/api/v1/livechat/users/agent/{id}"), &plain)
            .await,
    );
    // A livechat manager may add agents but not managers.
    let (_, manager) = app
        .user_with_roles("boss2", &["user", "livechat-manager"])
        .await;
    assert_eq!(
        app.post(
            "/api/v1/livechat/users/agent",
            &manager,
            json!({"username": "plain"})
        )
        .await
        .status,
        200
    );
    let (_, monitor) = app
        .user_with_roles("mon", &["user", "livechat-monitor"])
        .await;
    assert_forbidden(
        &app.post(
            "/api/v1/livechat/users/manager",
            &monitor,
            json!({"username": "plain"}),
        )
        .await,
    );
}
