//! `PUT`/`DELETE livechat/department/:_id`, archive and unarchive.

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{BASE, DEPARTMENTS, LINKS, department_body};
use crate::helpers::{
    assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn put_merges_fields_and_keeps_unsent_ones() {
    let app = spawn_app().await;
    let mut d = department_body("Before");
    d["description"] = json!("kept");
    let id = app
        .post(BASE, &app.admin, json!({"department": d}))
        .await
        .body["department"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = app
        .put(
            &format!("{BASE}/{id}"),
            &app.admin,
            json!({"department": department_body("After")}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["department"]["name"], json!("After"));
    assert_eq!(a.body["department"]["description"], json!("kept"));
    assert_eq!(a.body["department"]["numAgents"], json!(0));
    assert_eq!(a.body["agents"], json!([]));
}

#[tokio::test]
async fn put_validates_everything_before_writing() {
    let app = spawn_app().await;
    let agent = app.agent("put.agent").await;
    let id = app.department_id("Same", json!([])).await;
    let before = app.stored(DEPARTMENTS, &id).await.unwrap();
    let mut circular = department_body("Renamed");
    circular["fallbackForwardDepartment"] = json!(id);
    let cases = vec![
        (
            json!({"department": circular}),
            "error-fallback-department-circular",
        ),
        (
            json!({"department": department_body("Renamed"), "agents": "not an array"}),
            "agents",
        ),
        (
            json!({"department": department_body("Renamed"), "agents": [{"notAValidKey": "string"}]}),
            "agents[0].agentId",
        ),
        (
            json!({"department": department_body("Renamed"), "agents": [{"upsert": [{"notAValidKey": "string"}]}]}),
            "agents[0].agentId",
        ),
        (
            json!({"department": department_body("Renamed"), "agents": [{"agentId": "ghost"}]}),
            "not livechat agents",
        ),
        (
            json!({"department": department_body("Renamed"), "agents": [{"agentId": agent, "count": -2}]}),
            "agents[0].count",
        ),
        (
            json!({"department": {"numAgents": 9}}),
            "department.numAgents",
        ),
        (
            json!({"department": {"archived": false}}),
            "department.archived",
        ),
    ];
    for (body, needle) in cases {
        assert_bad_request(
            &app.put(&format!("{BASE}/{id}"), &app.admin, body).await,
            needle,
        );
    }
    assert_eq!(app.stored(DEPARTMENTS, &id).await.unwrap(), before);
    assert_eq!(app.count(LINKS, doc! {}).await, 0);
    let a = app
        .put(
            &format!("{BASE}/nope"),
            &app.admin,
            json!({"department": department_body("x")}),
        )
        .await;
    assert_bad_request(&a, "Department not found [error-department-not-found]");
}

#[tokio::test]
async fn put_needs_manage_permission_to_save_and_add_agents_permission_for_agents() {
    let app = spawn_app().await;
    let agent = app.agent("perm.agent").await;
    let id = app.department_id("P", json!([])).await;
    let path = format!("{BASE}/{id}");
    let body = json!({"department": department_body("P2"), "agents": [{"agentId": agent}]});
    assert_unauthenticated(&app.call(Method::PUT, &path, None, Some(body.clone())).await);
    let (_, nobody) = app.user_with_roles("nobody", &["user"]).await;
    assert_forbidden(&app.put(&path, &nobody, body.clone()).await);
    // Only add-agents: passes the gate, then Rocket.Chat's error-not-allowed.
    let (_, adder) = app
        .user_with_roles("adder", &["user", "livechat-agent"])
        .await;
    app.set_permission("add-livechat-department-agents", &["livechat-agent"])
        .await;
    let a = app.put(&path, &adder, body.clone()).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        json!({"success": false, "error": "error-not-allowed"})
    );
    // Manage without add-agents: the department is saved, agents ignored.
    app.set_permission("add-livechat-department-agents", &[])
        .await;
    let a = app.put(&path, &app.admin, body).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["department"]["name"], json!("P2"));
    assert_eq!(a.body["agents"], json!([]));
}

#[tokio::test]
async fn enabling_disabling_and_archiving_keep_links_in_step() {
    let app = spawn_app().await;
    let agent = app.agent("step.agent").await;
    let id = app.department_id("Step", json!([{"agentId": agent}])).await;
    let enabled_link = || async {
        app.link(&id, &agent)
            .await
            .unwrap()
            .get_bool("departmentEnabled")
            .unwrap()
    };
    assert!(enabled_link().await);
    let mut off = department_body("Step");
    off["enabled"] = json!(false);
    app.put(
        &format!("{BASE}/{id}"),
        &app.admin,
        json!({"department": off}),
    )
    .await;
    assert!(!enabled_link().await);
    app.put(
        &format!("{BASE}/{id}"),
        &app.admin,
        json!({"department": department_body("Step")}),
    )
    .await;
    assert!(enabled_link().await);
    let a = app
        .post(&format!("{BASE}/{id}/archive"), &app.admin, json!({}))
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body, json!({"success": true}));
    let stored = app.stored(DEPARTMENTS, &id).await.unwrap();
    assert!(stored.get_bool("archived").unwrap());
    assert!(!stored.get_bool("enabled").unwrap());
    assert!(!enabled_link().await);
    // Archived departments cannot be enabled.
    let a = app
        .put(
            &format!("{BASE}/{id}"),
            &app.admin,
            json!({"department": department_body("Step")}),
        )
        .await;
    assert_bad_request(&a, "error-archived-department-cant-be-enabled");
    // Unarchive: consistent, still disabled, links still off.
    let a = app
        .post(&format!("{BASE}/{id}/unarchive"), &app.admin, json!({}))
        .await;
    assert_eq!(a.status, 200);
    let stored = app.stored(DEPARTMENTS, &id).await.unwrap();
    assert!(!stored.get_bool("archived").unwrap());
    assert!(!stored.get_bool("enabled").unwrap());
    assert!(!enabled_link().await);
    app.put(
        &format!("{BASE}/{id}"),
        &app.admin,
        json!({"department": department_body("Step")}),
    )
    .await;
    assert!(enabled_link().await);
}

#[tokio::test]
async fn archive_errors_and_permissions_match_rocketchat() {
    let app = spawn_app().await;
    assert_unauthenticated(
        &app.call(Method::POST, &format!("{BASE}/123/archive"), None, None)
            .await,
    );
    let a = app
        .post(&format!("{BASE}/123/archive"), &app.admin, json!({}))
        .await;
    assert_eq!(
        a.body,
        json!({"success": false, "error": "department-not-found"})
    );
    let a = app
        .post(&format!("{BASE}/123/unarchive"), &app.admin, json!({}))
        .await;
    assert_eq!(
        a.body,
        json!({"success": false, "error": "[department-not-found]", "errorType": "department-not-found"})
    );
    app.set_permission("manage-livechat-departments", &[]).await;
    assert_forbidden(
        &app.post(&format!("{BASE}/123/archive"), &app.admin, json!({}))
            .await,
    );
    assert_forbidden(
        &app.post(&format!("{BASE}/123/unarchive"), &app.admin, json!({}))
            .await,
    );
}

#[tokio::test]
async fn delete_removes_links_and_references_from_other_departments() {
    let app = spawn_app().await;
    let agent = app.agent("del.agent").await;
    let doomed = app
        .department_id("Doomed", json!([{"agentId": agent}]))
        .await;
    let mut pointing = department_body("Pointing");
    pointing["fallbackForwardDepartment"] = json!(doomed);
    pointing["departmentsAllowedToForward"] = json!([doomed, "other"]);
    let a = app
        .post(BASE, &app.admin, json!({"department": pointing}))
        .await;
    let other = a.body["department"]["_id"].as_str().unwrap().to_string();
    let a = app.delete(&format!("{BASE}/{doomed}"), &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body, json!({"success": true}));
    assert!(app.stored(DEPARTMENTS, &doomed).await.is_none());
    assert_eq!(app.count(LINKS, doc! {"departmentId": &doomed}).await, 0);
    let stored = app.stored(DEPARTMENTS, &other).await.unwrap();
    assert!(
        stored.get("fallbackForwardDepartment").is_none(),
        "{stored:?}"
    );
    assert_eq!(
        stored
            .get_array("departmentsAllowedToForward")
            .unwrap()
            .len(),
        1
    );
    let a = app
        .delete(&format!("{BASE}/testesteteste"), &app.admin)
        .await;
    assert_eq!(
        a.body,
        json!({"success": false, "error": "error-department-not-found"})
    );
}

#[tokio::test]
async fn delete_permissions_and_the_removal_switch() {
    let app = spawn_app().await;
    let id = app.department_id("Keep", json!([])).await;
    assert_unauthenticated(
        &app.call(Method::DELETE, &format!("{BASE}/{id}"), None, None)
            .await,
    );
    let (_, user) = app.user_with_roles("nobody", &["user"]).await;
    assert_forbidden(&app.delete(&format!("{BASE}/{id}"), &user).await);
    app.set_permission("manage-livechat-departments", &[]).await;
    app.set_permission("remove-livechat-department", &[]).await;
    assert_forbidden(
        &app.delete(&format!("{BASE}/testetetetstetete"), &app.admin)
            .await,
    );
    assert!(app.stored(DEPARTMENTS, &id).await.is_some());

    let locked = spawn_app_with(|s| s.departments.removal_enabled = false).await;
    let id = locked.department_id("Locked", json!([])).await;
    let a = locked.delete(&format!("{BASE}/{id}"), &locked.admin).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        json!({"success": false, "error": "error-department-removal-disabled"})
    );
    assert!(locked.stored(DEPARTMENTS, &id).await.is_some());
}
