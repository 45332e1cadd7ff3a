use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USERNAME, assert_unauthenticated, spawn_app};

#[tokio::test]
async fn login_answers_rocketchats_shape_and_the_token_works() {
    let app = spawn_app().await;
    let a = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type(), "application/json");
    assert_eq!(a.body["status"], "success");
    let data = &a.body["data"];
    assert_eq!(data["me"]["username"], ADMIN_USERNAME);
    assert!(data["me"].get("services").is_none());
    let creds = crate::helpers::Creds {
        user_id: data["userId"].as_str().unwrap().into(),
        token: data["authToken"].as_str().unwrap().into(),
    };
    let me = app.get("/api/v1/me", &creds).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["_id"], data["userId"]);
}

#[tokio::test]
async fn login_by_email_and_by_sha256_digest() {
    let app = spawn_app().await;
    let a = app.login("boss@example.com", ADMIN_PASSWORD).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let digest = hex::encode(Sha256::digest(ADMIN_PASSWORD.as_bytes()));
    let a = app
        .call(
            Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"username": ADMIN_USERNAME,
                        "password": {"digest": digest, "algorithm": "sha-256"}})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

#[tokio::test]
async fn bad_credentials_are_401_unauthorized() {
    let app = spawn_app().await;
    for (user, password) in [(ADMIN_USERNAME, "wrong"), ("nobody", "x"), ("", "")] {
        let a = app.login(user, password).await;
        assert_eq!(a.status, 401);
        assert_eq!(
            a.body,
            json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"})
        );
    }
}

#[tokio::test]
async fn tokens_are_stored_only_hashed_as_meteor_does() {
    let app = spawn_app().await;
    let stored = app.stored("users", &app.admin.user_id).await.unwrap();
    let tokens = stored
        .get_document("services")
        .unwrap()
        .get_document("resume")
        .unwrap()
        .get_array("loginTokens")
        .unwrap();
    let hashes: Vec<&str> = tokens
        .iter()
        .map(|t| t.as_document().unwrap().get_str("hashedToken").unwrap())
        .collect();
    let expected = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha256::digest(app.admin.token.as_bytes()),
    );
    assert!(hashes.contains(&expected.as_str()));
    assert!(!stored.to_string().contains(&app.admin.token));
    let bcrypt = stored
        .get_document("services")
        .unwrap()
        .get_document("password")
        .unwrap()
        .get_str("bcrypt")
        .unwrap();
    let sha = hex::encode(Sha256::digest(ADMIN_PASSWORD.as_bytes()));
    assert!(bcrypt::verify(sha, bcrypt).unwrap());
}

/// A token a Rocket.Chat server wrote into the shared database works here.
#[tokio::test]
async fn a_token_issued_elsewhere_is_accepted() {
    let app = spawn_app().await;
    let token = "token-from-rocketchat";
    let hashed = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha256::digest(token.as_bytes()),
    );
    app.db
        .collection::<mongodb::bson::Document>("users")
        .update_one(
            mongodb::bson::doc! {"_id": &app.admin.user_id},
            mongodb::bson::doc! {"$push": {"services.resume.loginTokens": {"hashedToken": hashed, "when": mongodb::bson::DateTime::now()}}},
        )
        .await
        .unwrap();
    let creds = crate::helpers::Creds {
        user_id: app.admin.user_id.clone(),
        token: token.into(),
    };
    assert_eq!(app.get("/api/v1/me", &creds).await.status, 200);
}

#[tokio::test]
async fn logout_removes_only_that_token() {
    let app = spawn_app().await;
    let second = app.login_ok(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let a = app.post("/api/v1/logout", &second, json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "success");
    assert_unauthenticated(&app.get("/api/v1/me", &second).await);
    assert_eq!(app.get("/api/v1/me", &app.admin).await.status, 200);
}

#[tokio::test]
async fn me_needs_valid_credentials() {
    let app = spawn_app().await;
    assert_unauthenticated(&app.call(Method::GET, "/api/v1/me", None, None).await);
    let wrong_token = crate::helpers::Creds {
        user_id: app.admin.user_id.clone(),
        token: "nope".into(),
    };
    assert_unauthenticated(&app.get("/api/v1/me", &wrong_token).await);
    let wrong_user = crate::helpers::Creds {
        user_id: "someone-else".into(),
        token: app.admin.token.clone(),
    };
    assert_unauthenticated(&app.get("/api/v1/me", &wrong_user).await);
    assert_unauthenticated(&app.post("/api/v1/logout", &wrong_token, json!({})).await);
}

#[tokio::test]
async fn me_shows_the_callers_fields_without_services() {
    let app = spawn_app().await;
    let me = app.get("/api/v1/me", &app.admin).await;
    assert_eq!(me.body["username"], ADMIN_USERNAME);
    assert_eq!(me.body["success"], json!(true));
    assert_eq!(me.body["active"], json!(true));
    assert!(
        me.body["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin"))
    );
    assert_eq!(me.body["emails"][0]["address"], "boss@example.com");
    assert!(me.body.get("services").is_none());
    assert!(me.body.get("status").is_some() && me.body.get("statusLivechat").is_some());
}

#[tokio::test]
async fn a_logout_through_one_instance_applies_on_another_within_the_cache_bound() {
    let app = spawn_app().await;
    let other = crate::helpers::spawn_instance(crate::helpers::test_settings(&app.db_name)).await;
    let session = app.login_ok(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    // The other instance has seen (and cached) the session.
    assert_eq!(other.get("/api/v1/me", &session).await.status, 200);
    let a = app.post("/api/v1/logout", &session, json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_unauthenticated(&app.get("/api/v1/me", &session).await);
    // Sessions are cached for at most 1 s; polled for longer only because
    // a busy CI machine can stall a request.
    let started = std::time::Instant::now();
    while other.get("/api/v1/me", &session).await.status != 401 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the logout never reached the other instance"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
