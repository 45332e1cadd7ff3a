//! Bad requests of every kind get a JSON error, never HTML or a panic.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let app = spawn_app().await;
    let a = app
        .call(Method::GET, "/api/v1/nothing.here", None, None)
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.content_type(), "application/json");
    assert_eq!(a.body["success"], json!(false));
    assert!(
        a.body["error"]
            .as_str()
            .unwrap()
            .contains("/api/v1/nothing.here")
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/api/v1/login", app.address))
        .header("content-type", "application/json")
        .body("{\"user\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errorType"], "error-invalid-json");
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/api/v1/login", app.address))
        .header("content-type", "text/plain")
        .body("user=boss")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], json!(false));
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"user\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let response = app
        .http
        .post(format!("{}/api/v1/login", app.address))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], json!(false));
}

#[tokio::test]
async fn operator_keys_in_a_body_are_refused() {
    let app = spawn_app().await;
    let a = app
        .call(
            Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"user": {"$ne": null}, "password": "x"})),
        )
        .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert!(a.body["error"].as_str().unwrap().contains("user.$ne"));
}
