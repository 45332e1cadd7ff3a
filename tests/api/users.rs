use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app};

fn new_user(username: &str) -> serde_json::Value {
    json!({"username": username, "name": "Ann", "email": format!("{username}@example.com"), "password": "pw"})
}

#[tokio::test]
async fn users_create_answers_the_user_and_stores_meteor_credentials() {
    let app = spawn_app().await;
    let a = app
        .post("/api/v1/users.create", &app.admin, new_user("ann"))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["success"], json!(true));
    let user = &a.body["user"];
    let id = user["_id"].as_str().unwrap();
    assert_eq!(id.len(), 17);
    assert_eq!(user["username"], "ann");
    assert_eq!(user["roles"], json!(["user"]));
    assert_eq!(user["status"], "offline");
    assert_eq!(user["statusLivechat"], "not-available");
    assert!(user.get("services").is_none());
    let stored = app.stored("users", id).await.unwrap();
    assert!(stored.get_datetime("createdAt").is_ok());
    assert!(app.login("ann", "pw").await.status == 200);
}

#[tokio::test]
async fn users_create_keeps_given_roles_and_active() {
    let app = spawn_app().await;
    let mut body = new_user("bob");
    body["roles"] = json!(["user", "livechat-agent"]);
    body["active"] = json!(false);
    let a = app.post("/api/v1/users.create", &app.admin, body).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["user"]["roles"], json!(["user", "livechat-agent"]));
    assert_eq!(a.body["user"]["active"], json!(false));
    // An inactive user cannot log in.
    assert_eq!(app.login("bob", "pw").await.status, 401);
}

#[tokio::test]
async fn duplicate_username_or_email_is_400_and_nothing_is_written() {
    let app = spawn_app().await;
    assert_eq!(
        app.post("/api/v1/users.create", &app.admin, new_user("ann"))
            .await
            .status,
        200
    );
    let a = app
        .post("/api/v1/users.create", &app.admin, new_user("ann"))
        .await;
    assert_bad_request(&a, "already in use");
    let mut other = new_user("ann2");
    other["email"] = json!("ANN@example.com");
    assert_bad_request(
        &app.post("/api/v1/users.create", &app.admin, other).await,
        "already in use",
    );
    assert_eq!(
        app.count("users", doc! {"username": {"$regex": "^ann"}})
            .await,
        1
    );
}

#[tokio::test]
async fn users_create_validates_each_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"name": "x", "email": "a@b.c", "password": "p"}),
            "username",
        ),
        (
            json!({"username": "u1", "name": "x", "email": "nope", "password": "p"}),
            "email",
        ),
        (
            json!({"username": "u1", "name": "", "email": "a@b.c", "password": "p"}),
            "name",
        ),
        (
            json!({"username": "u1", "name": "x", "email": "a@b.c", "password": ""}),
            "password",
        ),
        (
            json!({"username": "u 1", "name": "x", "email": "a@b.c", "password": "p"}),
            "username",
        ),
        (
            json!({"username": "u1", "name": "x", "email": "a@b.c", "password": "p", "roles": ["wizard"]}),
            "roles[0]",
        ),
        (
            json!({"username": "u1", "name": 5, "email": "a@b.c", "password": "p"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let a = app
            .post("/api/v1/users.create", &app.admin, body.clone())
            .await;
        assert_bad_request(&a, field);
    }
    assert_eq!(
        app.count("users", doc! {}).await,
        1,
        "only the admin exists"
    );
}

#[tokio::test]
async fn users_create_needs_login_and_create_user() {
    let app = spawn_app().await;
    assert_unauthenticated(
        &app.call(
            Method::POST,
            "/api/v1/users.create",
            None,
            Some(new_user("x")),
        )
        .await,
    );
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    assert_forbidden(
        &app.post("/api/v1/users.create", &plain, new_user("y"))
            .await,
    );
    assert_eq!(app.count("users", doc! {"username": "y"}).await, 0);
}
