use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app};

#[tokio::test]
async fn rocketchat_default_permissions_are_seeded() {
    let app = spawn_app().await;
    let a = app.get("/api/v1/permissions.listAll", &app.admin).await;
    assert_eq!(a.status, 200);
    let update = a.body["update"].as_array().unwrap();
    let roles_of = |id: &str| {
        update
            .iter()
            .find(|p| p["_id"] == id)
            .map(|p| p["roles"].clone())
            .unwrap_or_else(|| panic!("{id} is seeded"))
    };
    assert_eq!(
        roles_of("remove-livechat-department"),
        json!(["livechat-manager", "admin"])
    );
    assert!(
        roles_of("view-l-room")
            .as_array()
            .unwrap()
            .contains(&json!("livechat-agent"))
    );
    for id in [
        "view-livechat-departments",
        "manage-livechat-departments",
        "add-livechat-department-agents",
        "view-livechat-manager",
        "manage-livechat-agents",
        "manage-livechat-managers",
        "create-user",
        "edit-other-user-info",
        "access-permissions",
    ] {
        roles_of(id);
    }
    assert_eq!(a.body["remove"], json!([]));
}

#[tokio::test]
async fn an_existing_permission_is_never_overwritten_at_startup() {
    let app = spawn_app().await;
    app.set_permission("create-user", &["livechat-manager"])
        .await;
    // A second instance starting on the same database seeds again.
    let second = crate::helpers::spawn_instance(crate::helpers::test_settings(&app.db_name)).await;
    let a = second
        .get("/api/v1/permissions.listAll", &second.admin)
        .await;
    let create_user = a.body["update"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["_id"] == "create-user")
        .unwrap()
        .clone();
    assert_eq!(create_user["roles"], json!(["livechat-manager"]));
}

#[tokio::test]
async fn a_permission_change_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    let body = json!({"username": "made", "name": "M", "email": "m@e.com", "password": "p"});
    assert_forbidden(&app.post("/api/v1/users.create", &plain, body.clone()).await);
    app.set_permission("create-user", &["admin", "user"]).await;
    assert_eq!(
        app.post("/api/v1/users.create", &plain, body).await.status,
        200
    );
    app.set_permission("create-user", &["admin"]).await;
    let body = json!({"username": "made2", "name": "M", "email": "m2@e.com", "password": "p"});
    assert_forbidden(&app.post("/api/v1/users.create", &plain, body).await);
}

#[tokio::test]
async fn permissions_update_answers_every_permission() {
    let app = spawn_app().await;
    let a = app
        .post(
            "/api/v1/permissions.update",
            &app.admin,
            json!({"permissions": [{"_id": "view-l-room", "roles": ["admin"]}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let all = a.body["permissions"].as_array().unwrap();
    assert!(all.len() >= 11);
    let changed = all.iter().find(|p| p["_id"] == "view-l-room").unwrap();
    assert_eq!(changed["roles"], json!(["admin"]));
}

#[tokio::test]
async fn permissions_update_refuses_unknown_permissions_and_roles() {
    let app = spawn_app().await;
    let a = app
        .post("/api/v1/permissions.update", &app.admin,
              json!({"permissions": [{"_id": "view-l-room", "roles": ["admin"]}, {"_id": "fly", "roles": []}]}))
        .await;
    assert_bad_request(&a, "error-invalid-permission");
    let a = app
        .post(
            "/api/v1/permissions.update",
            &app.admin,
            json!({"permissions": [{"_id": "view-l-room", "roles": ["wizard"]}]}),
        )
        .await;
    assert_bad_request(&a, "error-invalid-role");
    assert_bad_request(
        &app.post(
            "/api/v1/permissions.update",
            &app.admin,
            json!({"permissions": []}),
        )
        .await,
        "permissions",
    );
    // Nothing changed.
    let list = app.get("/api/v1/permissions.listAll", &app.admin).await;
    let view = list.body["update"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["_id"] == "view-l-room")
        .unwrap()
        .clone();
    assert_eq!(view["roles"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn permissions_endpoints_need_login_and_access_permissions() {
    let app = spawn_app().await;
    assert_unauthenticated(
        &app.call(Method::GET, "/api/v1/permissions.listAll", None, None)
            .await,
    );
    let (_, plain) = app.user_with_roles("plain", &["user"]).await;
    assert_eq!(
        app.get("/api/v1/permissions.listAll", &plain).await.status,
        200
    );
    assert_forbidden(
        &app.post(
            "/api/v1/permissions.update",
            &plain,
            json!({"permissions": [{"_id": "create-user", "roles": ["user"]}]}),
        )
        .await,
    );
}

#[tokio::test]
async fn list_all_filters_by_updated_since() {
    let app = spawn_app().await;
    let since = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.set_permission("view-l-room", &["admin"]).await;
    let a = app
        .get(
            &format!(
                "/api/v1/permissions.listAll?updatedSince={}",
                urlencode(&since)
            ),
            &app.admin,
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let ids: Vec<_> = a.body["update"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["_id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("view-l-room")]);
    assert_bad_request(
        &app.get(
            "/api/v1/permissions.listAll?updatedSince=yesterday",
            &app.admin,
        )
        .await,
        "updatedSince",
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
