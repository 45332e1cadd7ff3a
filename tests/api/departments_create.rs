//! `POST /api/v1/livechat/department`.

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{BASE, DEPARTMENTS, LINKS, department_body};
use crate::helpers::{assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app};

#[tokio::test]
async fn the_seed_example_call_works_once_its_email_placeholder_is_an_address() {
    let app = spawn_app().await;
    let agent = app.agent("seed.agent").await;
    let mut body = json!({
        "department": {"enabled": false, "showOnRegistration": true, "name": "new from api",
                       "email": "[email protected]", "showOnOfflineForm": true},
        "agents": [{"agentId": agent}]
    });
    // Verbatim, the seed's e-mail is a page's placeholder, not an address:
    // refused by name, and nothing is stored.
    let refused = app.post(BASE, &app.admin, body.clone()).await;
    assert_bad_request(&refused, "email");
    assert_eq!(app.footprint().await, (0, 0));
    body["department"]["email"] = json!("dept@example.com");
    let a = app.post(BASE, &app.admin, body).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["success"], json!(true));
    let d = &a.body["department"];
    assert_eq!(d["_id"].as_str().unwrap().len(), 17);
    assert_eq!(d["name"], json!("new from api"));
    assert_eq!(d["enabled"], json!(false));
    assert_eq!(d["showOnRegistration"], json!(true));
    assert_eq!(d["showOnOfflineForm"], json!(true));
    assert_eq!(d["email"], json!("dept@example.com"));
    assert_eq!(d["numAgents"], json!(1));
    assert!(d["_updatedAt"].as_str().unwrap().ends_with('Z'));
    let agents = a.body["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 1);
    let link = &agents[0];
    assert_eq!(link["agentId"], json!(agent));
    assert_eq!(link["departmentId"], d["_id"]);
    assert_eq!(link["departmentEnabled"], json!(false));
    assert_eq!(link["username"], json!("seed.agent"));
    assert_eq!(link["count"], json!(0));
    assert_eq!(link["order"], json!(0));
    assert_eq!(link["_id"].as_str().unwrap().len(), 17);
    assert!(link["_updatedAt"].is_string());
    let stored = app
        .stored(DEPARTMENTS, d["_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.get_i64("numAgents").unwrap(), 1);
}

#[tokio::test]
async fn rocketchat_create_department_case_with_description_and_extra_fields() {
    let app = spawn_app().await;
    let mut dept = department_body("Test");
    dept["description"] = json!("Sales team");
    dept["allowReceiveForwardOffline"] = json!(true);
    dept["customLabel"] = json!("vip");
    dept["priority"] = json!(3);
    let a = app
        .post(BASE, &app.admin, json!({"department": dept}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let d = &a.body["department"];
    assert_eq!(d["description"], json!("Sales team"));
    assert_eq!(d["allowReceiveForwardOffline"], json!(true));
    assert_eq!(d["customLabel"], json!("vip"));
    assert_eq!(d["priority"], json!(3));
    assert_eq!(
        d["numAgents"],
        json!(0),
        "numAgents is present without agents"
    );
    assert_eq!(a.body["agents"], json!([]));
}

#[tokio::test]
async fn there_is_no_one_department_limit() {
    let app = spawn_app().await;
    app.create_department("Test", json!([])).await;
    app.create_department("Test", json!([])).await;
    assert_eq!(app.count(DEPARTMENTS, doc! {}).await, 2);
}

#[tokio::test]
async fn closing_tags_are_kept_when_required() {
    let app = spawn_app().await;
    let mut dept = department_body("Tags");
    dept["requestTagBeforeClosingChat"] = json!(true);
    dept["chatClosingTags"] = json!(["tagA", "tagB"]);
    let a = app
        .post(BASE, &app.admin, json!({"department": dept}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        a.body["department"]["chatClosingTags"],
        json!(["tagA", "tagB"])
    );
    assert_eq!(
        a.body["department"]["requestTagBeforeClosingChat"],
        json!(true)
    );
}

#[tokio::test]
async fn max_simultaneous_chats_is_stored_as_an_integer() {
    let app = spawn_app().await;
    let mut dept = department_body("Limited");
    dept["maxNumberSimultaneousChat"] = json!("4");
    let a = app
        .post(BASE, &app.admin, json!({"department": dept}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["department"]["maxNumberSimultaneousChat"], json!(4));
    let id = a.body["department"]["_id"].as_str().unwrap();
    let stored = app.stored(DEPARTMENTS, id).await.unwrap();
    assert_eq!(stored.get_i64("maxNumberSimultaneousChat").unwrap(), 4);
}

#[tokio::test]
async fn creating_needs_login_and_manage_permission() {
    let app = spawn_app().await;
    let body = json!({"department": department_body("x")});
    assert_unauthenticated(&app.call(Method::POST, BASE, None, Some(body.clone())).await);
    let (_, agent) = app
        .user_with_roles("plain.agent", &["user", "livechat-agent"])
        .await;
    assert_forbidden(&app.post(BASE, &agent, body.clone()).await);
    // The permission is checked before the body: a bad body still gets 403.
    assert_forbidden(&app.post(BASE, &agent, json!({"department": {}})).await);
    app.set_permission("manage-livechat-departments", &[]).await;
    assert_forbidden(&app.post(BASE, &app.admin, body).await);
    assert_eq!(app.footprint().await, (0, 0));
}

#[tokio::test]
async fn every_validation_rule_answers_400_naming_field_and_rule_and_writes_nothing() {
    let app = spawn_app().await;
    let agent = app.agent("val.agent").await;
    let with = |key: &str, value: serde_json::Value| {
        let mut d = department_body("Valid");
        d[key] = value;
        json!({"department": d})
    };
    let without = |key: &str| {
        let mut d = department_body("Valid");
        d.as_object_mut().unwrap().remove(key);
        json!({"department": d})
    };
    let cases = vec![
        (json!({}), "department: is required"),
        (json!({"department": {}}), "department.name: is required"),
        (without("email"), "department.email: is required"),
        (without("enabled"), "department.enabled: is required"),
        (
            without("showOnRegistration"),
            "department.showOnRegistration",
        ),
        (without("showOnOfflineForm"), "department.showOnOfflineForm"),
        (
            with("name", json!("   ")),
            "department.name: must not be blank",
        ),
        (with("name", json!("n".repeat(257))), "department.name"),
        (with("name", json!(12)), "department.name: must be a string"),
        (
            with("email", json!("not-an-address")),
            "department.email: must be a valid e-mail",
        ),
        (
            with("enabled", json!("true")),
            "department.enabled: must be a boolean",
        ),
        (with("description", json!(5)), "department.description"),
        (
            with("chatClosingTags", json!("tag")),
            "department.chatClosingTags",
        ),
        (
            with("departmentsAllowedToForward", json!([1])),
            "department.departmentsAllowedToForward",
        ),
        (
            with("maxNumberSimultaneousChat", json!(-1)),
            "department.maxNumberSimultaneousChat",
        ),
        (
            with("maxNumberSimultaneousChat", json!(1.5)),
            "department.maxNumberSimultaneousChat",
        ),
        (
            with("visitorInactivityTimeoutInSeconds", json!(-5)),
            "department.visitorInactivityTimeoutInSeconds",
        ),
        (with("custom", json!({"nested": 1})), "department.custom"),
        (with("custom", json!(null)), "department.custom"),
        (with("custom", json!(1.25)), "department.custom"),
        (with("a.b", json!("x")), "department.a.b"),
        (with("$set", json!({"x": 1})), "department.$set"),
        (with("numAgents", json!(10)), "department.numAgents"),
        (with("_id", json!("mine")), "department._id"),
        (with("archived", json!(false)), "department.archived"),
        (with("type", json!("u")), "department.type"),
        (
            with("_updatedAt", json!("2020-01-01")),
            "department._updatedAt",
        ),
        (with("parentId", json!("p")), "department.parentId"),
        (with("ancestors", json!("p")), "department.ancestors"),
        (
            json!({"department": department_body("x"), "unexpected": true}),
            "unexpected",
        ),
        (
            json!({"department": department_body("x"), "agents": "x"}),
            "agents",
        ),
        (
            json!({"department": department_body("x"), "agents": [{}]}),
            "agents[0].agentId",
        ),
        (
            json!({"department": department_body("x"), "agents": [{"agentId": agent, "count": -1}]}),
            "agents[0].count",
        ),
        (
            json!({"department": department_body("x"), "agents": [{"agentId": agent, "order": 1.5}]}),
            "agents[0].order",
        ),
        (
            json!({"department": department_body("x"), "agents": [{"agentId": agent}, {"agentId": agent}]}),
            "agents[1].agentId",
        ),
    ];
    for (body, needle) in cases {
        let a = app.post(BASE, &app.admin, body.clone()).await;
        assert_bad_request(&a, needle);
        assert!(
            a.body["details"]["rule"].is_string() || a.body["errorType"].is_string(),
            "{body}: {:?}",
            a.body
        );
    }
    let mut tags = department_body("Tags");
    tags["requestTagBeforeClosingChat"] = json!(true);
    let a = app
        .post(BASE, &app.admin, json!({"department": tags}))
        .await;
    assert_bad_request(&a, "department.chatClosingTags");
    assert_eq!(app.footprint().await, (0, 0));
}

#[tokio::test]
async fn agents_must_be_existing_livechat_agents_and_nothing_is_saved_otherwise() {
    let app = spawn_app().await;
    let agent = app.agent("real.agent").await;
    let not_agent = app.create_user("just.user", &["user"]).await;
    let a = app
        .post(
            BASE,
            &app.admin,
            json!({"department": department_body("D"),
                   "agents": [{"agentId": agent}, {"agentId": not_agent}, {"agentId": "ghost"}]}),
        )
        .await;
    assert_bad_request(&a, "not livechat agents");
    let error = a.body["error"].as_str().unwrap();
    assert!(
        error.contains(&not_agent) && error.contains("ghost"),
        "{error}"
    );
    assert!(!error.contains(&agent), "{error}");
    assert_eq!(app.footprint().await, (0, 0));
}

#[tokio::test]
async fn a_fallback_department_must_exist() {
    let app = spawn_app().await;
    let mut dept = department_body("D");
    dept["fallbackForwardDepartment"] = json!("not a department id");
    let a = app
        .post(BASE, &app.admin, json!({"department": dept}))
        .await;
    assert_bad_request(
        &a,
        "Fallback department not found [error-fallback-department-not-found]",
    );
    assert_eq!(
        a.body["errorType"],
        json!("error-fallback-department-not-found")
    );
    assert_eq!(app.footprint().await, (0, 0));
    let target = app.department_id("Target", json!([])).await;
    let mut dept = department_body("D");
    dept["fallbackForwardDepartment"] = json!(target);
    let a = app
        .post(BASE, &app.admin, json!({"department": dept}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        a.body["department"]["fallbackForwardDepartment"],
        json!(target)
    );
}

#[tokio::test]
async fn bad_content_type_and_bad_json_write_nothing() {
    let app = spawn_app().await;
    let a = app
        .http
        .post(format!("{}{}", app.address, BASE))
        .header("X-User-Id", &app.admin.user_id)
        .header("X-Auth-Token", &app.admin.token)
        .header("Content-Type", "application/json")
        .body("{\"department\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status().as_u16(), 400);
    let a = app
        .http
        .post(format!("{}{}", app.address, BASE))
        .header("X-User-Id", &app.admin.user_id)
        .header("X-Auth-Token", &app.admin.token)
        .header("Content-Type", "text/plain")
        .body(json!({"department": department_body("x")}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status().as_u16(), 415);
    assert_eq!(
        app.count(LINKS, doc! {}).await + app.count(DEPARTMENTS, doc! {}).await,
        0
    );
}

#[tokio::test]
async fn numagents_is_exact_in_the_response_with_several_agents() {
    let app = spawn_app().await;
    let a1 = app.agent("a.one").await;
    let a2 = app.agent("a.two").await;
    let body = app
        .create_department(
            "Two",
            json!([{"agentId": a1, "count": 3, "order": 2}, {"agentId": a2}]),
        )
        .await;
    assert_eq!(body["department"]["numAgents"], json!(2));
    let id = body["department"]["_id"].as_str().unwrap();
    assert_eq!(app.num_agents(id).await, 2);
    let one = app.link(id, &a1).await.unwrap();
    assert_eq!(one.get_i64("count").unwrap(), 3);
    assert_eq!(one.get_i64("order").unwrap(), 2);
    assert_eq!(one.get_i64("openChats").unwrap(), 0);
    assert!(one.get_bool("eligible").is_ok());
}
