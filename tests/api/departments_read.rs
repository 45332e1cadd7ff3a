//! Reading departments: lists, one department, lookups, the widget config.

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{BASE, DEPARTMENTS, department_body};
use crate::helpers::{assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app};

fn names(body: &Value) -> Vec<String> {
    body["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_list_pages_sorts_and_counts() {
    let app = spawn_app().await;
    for name in ["b", "A test", "a test", "c"] {
        app.create_department(name, json!([])).await;
    }
    let a = app.get(BASE, &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(names(&a.body), ["A test", "a test", "b", "c"]);
    assert_eq!(a.body["total"], json!(4));
    assert_eq!(a.body["count"], json!(4));
    assert_eq!(a.body["offset"], json!(0));
    assert_eq!(a.body["success"], json!(true));
    let a = app
        .get(
            &format!("{BASE}?count=2&offset=1&sort={{\"name\":-1}}"),
            &app.admin,
        )
        .await;
    assert_eq!(names(&a.body), ["b", "a test"]);
    assert_eq!(
        (a.body["count"].clone(), a.body["total"].clone()),
        (json!(2), json!(4))
    );
    assert_bad_request(
        &app.get(&format!("{BASE}?count=invalid"), &app.admin).await,
        "count",
    );
    assert_bad_request(
        &app.get(&format!("{BASE}?sort={{\"password\":1}}"), &app.admin)
            .await,
        "sort",
    );
    assert_bad_request(
        &app.get(&format!("{BASE}?sort={{\"name\":3}}"), &app.admin)
            .await,
        "Invalid sort parameter provided",
    );
    assert_bad_request(
        &app.get(&format!("{BASE}?query={{\"$where\":\"1\"}}"), &app.admin)
            .await,
        "query",
    );
}

#[tokio::test]
async fn the_list_filters_by_text_enabled_exclusion_and_archived() {
    let app = spawn_app().await;
    let sales = app.department_id("Sales (EU)", json!([])).await;
    app.department_id("Support", json!([])).await;
    let mut off = department_body("Offline sales");
    off["enabled"] = json!(false);
    app.post(BASE, &app.admin, json!({"department": off})).await;
    let archived = app.department_id("Old sales", json!([])).await;
    let a = app
        .post(&format!("{BASE}/{archived}/archive"), &app.admin, json!({}))
        .await;
    assert_eq!(a.status, 200);

    let list = |q: &str| format!("{BASE}?{q}");
    // text: case-insensitive contains, regex characters literal.
    let a = app.get(&list("text=SALES"), &app.admin).await;
    assert_eq!(names(&a.body), ["Offline sales", "Sales (EU)"]);
    let a = app.get(&list("text=(EU"), &app.admin).await;
    assert_eq!(names(&a.body), ["Sales (EU)"]);
    let a = app.get(&list("text=.*"), &app.admin).await;
    assert_eq!(a.body["total"], json!(0));
    let a = app.get(&list("enabled=true"), &app.admin).await;
    assert_eq!(names(&a.body), ["Sales (EU)", "Support"]);
    let a = app.get(&list("enabled=false"), &app.admin).await;
    assert_eq!(names(&a.body), ["Offline sales"]);
    let a = app
        .get(&list(&format!("excludeDepartmentId={sales}")), &app.admin)
        .await;
    assert_eq!(names(&a.body), ["Offline sales", "Support"]);
    let a = app.get(&list("showArchived=true"), &app.admin).await;
    assert_eq!(a.body["total"], json!(4));
    let a = app
        .get("/api/v1/livechat/departments/archived", &app.admin)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["departments"].as_array().unwrap().len(), 1);
    assert_eq!(a.body["departments"][0]["_id"], json!(archived));
    assert_bad_request(
        &app.get(&list("enabled=maybe"), &app.admin).await,
        "enabled",
    );
}

#[tokio::test]
async fn the_default_list_query_is_served_by_an_index() {
    let app = spawn_app().await;
    for i in 0..30 {
        app.db
            .collection::<mongodb::bson::Document>(DEPARTMENTS)
            .insert_one(doc! {"_id": format!("d{i}"), "name": format!("n{i}"), "enabled": true})
            .await
            .unwrap();
    }
    let plan = app
        .db
        .run_command(doc! {
            "explain": {
                "find": DEPARTMENTS,
                "filter": {"type": {"$ne": "u"}, "archived": {"$ne": true}},
                "sort": {"name": 1, "_id": 1},
                "limit": 50,
                "hint": {"name": 1, "_id": 1},
            },
            "verbosity": "queryPlanner",
        })
        .await
        .unwrap();
    let text = format!("{plan:?}");
    assert!(text.contains("IXSCAN"), "{text}");
    assert!(!text.contains("COLLSCAN"), "{text}");
}

#[tokio::test]
async fn lists_need_a_view_permission() {
    let app = spawn_app().await;
    assert_unauthenticated(&app.call(Method::GET, BASE, None, None).await);
    let (_, user) = app.user_with_roles("nobody", &["user"]).await;
    for path in [
        BASE.to_string(),
        "/api/v1/livechat/departments/archived".into(),
        format!("{BASE}/x"),
        format!("{BASE}/x/agents"),
        format!("{BASE}.autocomplete?selector={{}}"),
        format!("{BASE}.listByIds?ids[]=a"),
        format!("{BASE}/isDepartmentCreationAvailable"),
    ] {
        assert_forbidden(&app.get(&path, &user).await);
        assert_unauthenticated(&app.call(Method::GET, &path, None, None).await);
    }
    // An agent holds view-l-room by default.
    let (_, agent) = app.user_with_roles("ag", &["user", "livechat-agent"]).await;
    assert_eq!(app.get(BASE, &agent).await.status, 200);
    app.set_permission("view-l-room", &[]).await;
    assert_forbidden(&app.get(BASE, &agent).await);
}

#[tokio::test]
async fn one_department_with_agents_by_default_and_null_when_unknown() {
    let app = spawn_app().await;
    let agent = app.agent("one.agent").await;
    let id = app.department_id("One", json!([{"agentId": agent}])).await;
    let a = app.get(&format!("{BASE}/{id}"), &app.admin).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["department"]["_id"], json!(id));
    assert_eq!(a.body["department"]["email"], json!("bla@bla"));
    assert_eq!(a.body["agents"][0]["agentId"], json!(agent));
    let a = app
        .get(&format!("{BASE}/{id}?includeAgents=false"), &app.admin)
        .await;
    assert!(a.body.get("agents").is_none(), "{:?}", a.body);
    let a = app.get(&format!("{BASE}/testesteteste"), &app.admin).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["department"], Value::Null);
    assert_eq!(a.body["agents"], json!([]));
    assert_eq!(a.body["success"], json!(true));
    // view-l-room alone sees the department but not its agents.
    let (_, viewer) = app
        .user_with_roles("viewer", &["user", "livechat-agent"])
        .await;
    let a = app.get(&format!("{BASE}/{id}"), &viewer).await;
    assert_eq!(a.body["department"]["_id"], json!(id));
    assert!(a.body.get("agents").is_none());
}

#[tokio::test]
async fn department_creation_is_always_available() {
    let app = spawn_app().await;
    app.create_department("First", json!([])).await;
    let a = app
        .get(&format!("{BASE}/isDepartmentCreationAvailable"), &app.admin)
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        json!({"isDepartmentCreationAvailable": true, "success": true})
    );
}

#[tokio::test]
async fn autocomplete_matches_name_prefixes_and_skips_exceptions() {
    let app = spawn_app().await;
    let test = app.department_id("test dept", json!([])).await;
    let other = app.department_id("Testing", json!([])).await;
    app.department_id("a test", json!([])).await;
    let path = |s: &str| format!("{BASE}.autocomplete?selector={}", urlencode(s));
    let a = app.get(&path(r#"{"term":"test"}"#), &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let ids: Vec<_> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["_id"].clone())
        .collect();
    assert_eq!(ids, [json!(other), json!(test)]);
    assert!(a.body["items"][0]["name"].is_string());
    let a = app
        .get(
            &path(&format!(r#"{{"exceptions":["{test}"]}}"#)),
            &app.admin,
        )
        .await;
    let items = a.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["_id"] != json!(test)));
    assert_bad_request(
        &app.get(&format!("{BASE}.autocomplete"), &app.admin).await,
        "The 'selector' param is required",
    );
    assert_bad_request(&app.get(&path(""), &app.admin).await, "selector");
    assert_bad_request(
        &app.get(&path(r#"{name: "test""#), &app.admin).await,
        "selector",
    );
    assert_bad_request(
        &app.get(
            &format!("{BASE}.autocomplete?selector[name]=test"),
            &app.admin,
        )
        .await,
        "selector",
    );
    assert_bad_request(
        &app.get(&path(r#"{"conditions":{"archived":true}}"#), &app.admin)
            .await,
        "selector",
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn list_by_ids_needs_an_array() {
    let app = spawn_app().await;
    let a1 = app.department_id("one", json!([])).await;
    let a2 = app.department_id("two", json!([])).await;
    let a = app
        .get(
            &format!("{BASE}.listByIds?ids[]={a1}&ids[]={a2}&ids[]=ghost"),
            &app.admin,
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(names(&a.body), ["one", "two"]);
    assert_bad_request(
        &app.get(&format!("{BASE}.listByIds"), &app.admin).await,
        "The 'ids' param is required",
    );
    assert_bad_request(
        &app.get(&format!("{BASE}.listByIds?ids=test"), &app.admin)
            .await,
        "The 'ids' param must be an array",
    );
}

#[tokio::test]
async fn the_widget_config_is_public_and_lists_enabled_unarchived_departments() {
    let app = spawn_app().await;
    let on = app.department_id("Open", json!([])).await;
    let mut off = department_body("Closed");
    off["enabled"] = json!(false);
    app.post(BASE, &app.admin, json!({"department": off})).await;
    let gone = app.department_id("Gone", json!([])).await;
    app.post(&format!("{BASE}/{gone}/archive"), &app.admin, json!({}))
        .await;
    let a = app
        .call(Method::GET, "/api/v1/livechat/config", None, None)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        a.body,
        json!({"config": {"enabled": true, "online": false, "departments": [
            {"_id": on, "name": "Open", "showOnRegistration": true, "showOnOfflineForm": true}
        ]}, "success": true})
    );
    app.available_agent("online.agent").await;
    let a = app
        .call(Method::GET, "/api/v1/livechat/config", None, None)
        .await;
    assert_eq!(a.body["config"]["online"], json!(true));
}
