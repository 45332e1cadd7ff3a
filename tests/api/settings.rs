//! Rocket.Chat's settings: seeded in `rocketchat_settings` with
//! Rocket.Chat's ids, types and defaults, read and changed through
//! `settings/:_id`, listed by `settings.public`, and applied by every
//! instance within a second.

use std::time::Duration;

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_unauthenticated, spawn_app, spawn_instance, test_settings};

const REMOVAL: &str = "/api/v1/settings/Omnichannel_enable_department_removal";

#[tokio::test]
async fn settings_are_seeded_in_rocketchats_shape() {
    let app = spawn_app().await;
    let stored = app
        .stored("rocketchat_settings", "Livechat_registration_form")
        .await
        .expect("seeded");
    assert!(stored.get_bool("value").unwrap());
    assert!(stored.get_bool("packageValue").unwrap());
    assert_eq!(stored.get_str("type").unwrap(), "boolean");
    assert!(stored.get_bool("public").unwrap());
    assert_eq!(stored.get_str("group").unwrap(), "Omnichannel");
    assert!(stored.get_datetime("_updatedAt").is_ok());
}

#[tokio::test]
async fn an_existing_value_survives_a_restart() {
    let app = spawn_app().await;
    app.db
        .collection::<mongodb::bson::Document>("rocketchat_settings")
        .update_one(
            doc! {"_id": "Livechat_title"},
            doc! {"$set": {"value": "Help desk"}},
        )
        .await
        .unwrap();
    // A second instance on the same database seeds again.
    let again = spawn_instance(test_settings(&app.db_name)).await;
    let a = again
        .get("/api/v1/settings/Livechat_title", &again.admin)
        .await;
    assert_eq!(
        a.body,
        json!({"_id": "Livechat_title", "value": "Help desk", "success": true})
    );
}

#[tokio::test]
async fn reading_and_changing_a_setting_needs_its_privileges() {
    let app = spawn_app().await;
    let a = app
        .call(Method::GET, "/api/v1/settings/Livechat_title", None, None)
        .await;
    assert_unauthenticated(&a);
    let (_, agent) = app.user_with_roles("plain", &["user"]).await;
    let a = app.get("/api/v1/settings/Livechat_title", &agent).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.body, json!({"success": false, "error": "unauthorized"}));
    let a = app
        .post(
            "/api/v1/settings/Livechat_title",
            &agent,
            json!({"value": "x"}),
        )
        .await;
    assert_eq!(a.status, 403);
    let a = app
        .post(
            "/api/v1/settings/Livechat_title",
            &app.admin,
            json!({"value": "Help"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body, json!({"success": true}));
    let stored = app
        .stored("rocketchat_settings", "Livechat_title")
        .await
        .unwrap();
    assert_eq!(stored.get_str("value").unwrap(), "Help");
}

#[tokio::test]
async fn a_value_of_the_wrong_type_or_an_unknown_setting_is_refused() {
    let app = spawn_app().await;
    let a = app
        .post(
            "/api/v1/settings/Livechat_registration_form",
            &app.admin,
            json!({"value": "yes"}),
        )
        .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.body["details"]["field"], "value");
    let a = app
        .post(
            "/api/v1/settings/No_such_setting",
            &app.admin,
            json!({"value": 1}),
        )
        .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    let a = app
        .get("/api/v1/settings/No_such_setting", &app.admin)
        .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    let a = app
        .post("/api/v1/settings/Livechat_title", &app.admin, json!({}))
        .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    // Switchboard reads these from its configuration.
    let a = app
        .post(
            "/api/v1/settings/Livechat_maximum_chats_per_agent",
            &app.admin,
            json!({"value": 3}),
        )
        .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert!(
        a.body["error"]
            .as_str()
            .unwrap()
            .contains("routing.global_max_chats")
    );
}

#[tokio::test]
async fn public_settings_are_listed_without_login() {
    let app = spawn_app().await;
    let a = app
        .call(Method::GET, "/api/v1/settings.public?count=100", None, None)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let ids: Vec<&str> = a.body["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"Livechat_title"));
    assert!(!ids.contains(&"Omnichannel_enable_department_removal"));
    assert!(!ids.contains(&"Livechat_guest_count"));
    assert_eq!(a.body["total"].as_u64().unwrap() as usize, ids.len());
}

#[tokio::test]
async fn a_change_through_one_instance_applies_on_another_within_a_second() {
    let one = spawn_app().await;
    let two = spawn_instance(test_settings(&one.db_name)).await;
    // Both instances have read the setting (removal allowed).
    let d1 = create(&one, "D").await;
    let a = two
        .delete(&format!("/api/v1/livechat/department/{d1}"), &two.admin)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let a = one.post(REMOVAL, &one.admin, json!({"value": false})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let d2 = create(&one, "E").await;
    let a = two
        .delete(&format!("/api/v1/livechat/department/{d2}"), &two.admin)
        .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.body["error"], "error-department-removal-disabled");
}

async fn create(app: &crate::helpers::TestApp, name: &str) -> String {
    let a = app
        .post(
            "/api/v1/livechat/department",
            &app.admin,
            json!({"department": {"enabled": true, "showOnRegistration": true,
                "showOnOfflineForm": true, "name": name, "email": "d@example.com"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["department"]["_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn instances_starting_together_seed_each_setting_once() {
    let db = crate::helpers::fresh_db_name();
    let (one, two) = tokio::join!(
        spawn_instance(test_settings(&db)),
        spawn_instance(test_settings(&db))
    );
    let seeded = one.count("rocketchat_settings", doc! {}).await;
    assert!(seeded >= 30, "{seeded}");
    let a = two.get("/api/v1/settings/Livechat_title", &two.admin).await;
    assert_eq!(a.body["value"], "Rocket.Chat");
}
