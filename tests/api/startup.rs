//! Start-up: the configured admin is created once, never over a user.

use mongodb::bson::doc;

use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USERNAME, fresh_db_name, spawn_instance, test_settings,
};

#[tokio::test]
async fn several_instances_starting_at_once_create_the_admin_once() {
    let db_name = fresh_db_name();
    // Each instance's helper logs the admin in, again while it starts; the
    // login limit, shared by the four, is not what this test is about.
    let starts = (0..4).map(|_| {
        let mut settings = test_settings(&db_name);
        settings.rate_limit.login_per_minute = 100;
        spawn_instance(settings)
    });
    let apps = futures::future::join_all(starts).await;
    let admins = apps[0].count("users", doc! {"roles": "admin"}).await;
    assert_eq!(admins, 1);
    // Every instance serves, and the admin logs in on each.
    for app in &apps {
        assert_eq!(
            app.get("/api/v1/me", &app.admin).await.body["username"],
            ADMIN_USERNAME
        );
    }
}

#[tokio::test]
async fn a_restart_never_changes_the_admins_password() {
    let db_name = fresh_db_name();
    let first = spawn_instance(test_settings(&db_name)).await;
    let before = first.stored("users", &first.admin.user_id).await.unwrap();
    // Restart with another password for the same admin username.
    let mut settings = test_settings(&db_name);
    settings.admin.password = "something-else".into();
    let app = switchboard::startup::Application::build(settings)
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let after = first.stored("users", &first.admin.user_id).await.unwrap();
    assert_eq!(
        before
            .get_document("services")
            .unwrap()
            .get_document("password")
            .unwrap(),
        after
            .get_document("services")
            .unwrap()
            .get_document("password")
            .unwrap()
    );
    let login = reqwest::Client::new()
        .post(format!("{address}/api/v1/login"))
        .json(&serde_json::json!({"user": ADMIN_USERNAME, "password": "something-else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 401);
}

#[tokio::test]
async fn an_ordinary_user_holding_the_admin_username_is_never_overwritten() {
    let db_name = fresh_db_name();
    let settings = test_settings(&db_name);
    // Before any instance starts: an ordinary user already holds the
    // configured admin's username.
    let client = mongodb::Client::with_uri_str(&settings.mongo_url)
        .await
        .unwrap();
    let users = client
        .default_database()
        .unwrap()
        .collection::<mongodb::bson::Document>("users");
    let existing = mongodb::bson::doc! {
        "_id": "ordinary-user", "username": ADMIN_USERNAME, "name": "Not the admin",
        "emails": [{"address": "ordinary@example.com", "verified": false}],
        "roles": ["user"], "active": true, "type": "user",
        "services": {"password": {"bcrypt": "not-a-real-hash"}},
    };
    users.insert_one(existing.clone()).await.unwrap();
    let app = switchboard::startup::Application::build(settings)
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let after = users
        .find_one(mongodb::bson::doc! {"username": ADMIN_USERNAME})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, existing, "the user is untouched");
    assert_eq!(
        users
            .count_documents(mongodb::bson::doc! {"roles": "admin"})
            .await
            .unwrap(),
        0,
        "no admin was created beside it"
    );
    let login = reqwest::Client::new()
        .post(format!("{address}/api/v1/login"))
        .json(&serde_json::json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 401);
    client.database(&db_name).drop().await.unwrap();
}

#[tokio::test]
async fn indexes_exist_after_startup() {
    let app = spawn_instance(test_settings(&fresh_db_name())).await;
    let names = app
        .db
        .collection::<mongodb::bson::Document>("users")
        .list_index_names()
        .await
        .unwrap();
    assert!(names.iter().any(|n| n.starts_with("username")), "{names:?}");
    let names = app
        .db
        .collection::<mongodb::bson::Document>("rocketchat_livechat_department_agents")
        .list_index_names()
        .await
        .unwrap();
    assert!(
        names.iter().any(|n| n == "departmentId_1_agentId_1"),
        "{names:?}"
    );
}
