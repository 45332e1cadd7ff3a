use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app};

#[tokio::test]
async fn new_users_start_offline_and_not_available() {
    let app = spawn_app().await;
    let id = app.create_user("ann", &["user", "livechat-agent"]).await;
    let user = app.stored("users", &id).await.unwrap();
    assert_eq!(user.get_str("status").unwrap(), "offline");
    assert_eq!(user.get_str("statusLivechat").unwrap(), "not-available");
}

#[tokio::test]
async fn a_user_sets_its_own_status_and_message() {
    let app = spawn_app().await;
    let (id, ann) = app.user_with_roles("ann", &["user"]).await;
    for status in ["online", "away", "busy", "offline"] {
        let a = app
            .post(
                "/api/v1/users.setStatus",
                &ann,
                json!({"status": status, "message": "lunch"}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_eq!(a.body, json!({"success": true}));
        let user = app.stored("users", &id).await.unwrap();
        assert_eq!(user.get_str("status").unwrap(), status);
        assert_eq!(user.get_str("statusText").unwrap(), "lunch");
    }
}

#[tokio::test]
async fn set_status_validates_and_guards_other_users() {
    let app = spawn_app().await;
    let (id, ann) = app.user_with_roles("ann", &["user"]).await;
    let (_, bob) = app.user_with_roles("bob", &["user"]).await;
    assert_bad_request(
        &app.post(
            "/api/v1/users.setStatus",
            &ann,
            json!({"status": "sleeping"}),
        )
        .await,
        "status",
    );
    assert_bad_request(
        &app.post("/api/v1/users.setStatus", &ann, json!({})).await,
        "status",
    );
    assert_forbidden(
        &app.post(
            "/api/v1/users.setStatus",
            &bob,
            json!({"status": "online", "userId": id}),
        )
        .await,
    );
    let a = app
        .post(
            "/api/v1/users.setStatus",
            &app.admin,
            json!({"status": "busy", "userId": id}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        app.stored("users", &id)
            .await
            .unwrap()
            .get_str("status")
            .unwrap(),
        "busy"
    );
    assert_unauthenticated(
        &app.call(
            Method::POST,
            "/api/v1/users.setStatus",
            None,
            Some(json!({"status": "online"})),
        )
        .await,
    );
}

#[tokio::test]
async fn agent_status_sets_and_toggles() {
    let app = spawn_app().await;
    let (id, ann) = app
        .user_with_roles("ann", &["user", "livechat-agent"])
        .await;
    let a = app
        .post(
            "/api/v1/livechat/agent.status",
            &ann,
            json!({"status": "available"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "available");
    let a = app
        .post("/api/v1/livechat/agent.status", &ann, json!({}))
        .await;
    assert_eq!(a.body["status"], "not-available");
    assert_eq!(
        app.stored("users", &id)
            .await
            .unwrap()
            .get_str("statusLivechat")
            .unwrap(),
        "not-available"
    );
    let a = app
        .post("/api/v1/livechat/agent.status", &ann, json!({}))
        .await;
    assert_eq!(a.body["status"], "available");
}

#[tokio::test]
async fn agent_status_of_another_agent_needs_manage_livechat_agents() {
    let app = spawn_app().await;
    let (id, _) = app
        .user_with_roles("ann", &["user", "livechat-agent"])
        .await;
    let (_, bob) = app
        .user_with_roles("bob", &["user", "livechat-agent"])
        .await;
    assert_forbidden(
        &app.post(
            "/api/v1/livechat/agent.status",
            &bob,
            json!({"agentId": id, "status": "available"}),
        )
        .await,
    );
    let a = app
        .post(
            "/api/v1/livechat/agent.status",
            &app.admin,
            json!({"agentId": id, "status": "available"}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        app.stored("users", &id)
            .await
            .unwrap()
            .get_str("statusLivechat")
            .unwrap(),
        "available"
    );
}

#[tokio::test]
async fn agent_status_refuses_non_agents_and_bad_values() {
    let app = spawn_app().await;
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    assert_bad_request(
        &app.post("/api/v1/livechat/agent.status", &plain, json!({}))
            .await,
        "error-invalid-agent",
    );
    let (_, ann) = app
        .user_with_roles("ann", &["user", "livechat-agent"])
        .await;
    assert_bad_request(
        &app.post(
            "/api/v1/livechat/agent.status",
            &ann,
            json!({"status": "maybe"}),
        )
        .await,
        "status",
    );
    assert_unauthenticated(
        &app.call(
            Method::POST,
            "/api/v1/livechat/agent.status",
            None,
            Some(json!({})),
        )
        .await,
    );
}
