//! `livechat/autoDistributionConfig`: Comm100's Auto Distribution API.
//! `fixtures/comm100_auto_distribution.json` holds Comm100's documented
//! examples verbatim (GET, PUT request and answer, :disable, :enable); the
//! replay tests swap Comm100's ids for real ones and compare key by key.

use std::collections::HashMap;

use mongodb::bson::{Document, doc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Creds, TestApp, assert_bad_request, assert_forbidden, assert_unauthenticated, spawn_app,
    spawn_instance, test_settings,
};

const PATH: &str = "/api/v1/livechat/autoDistributionConfig";
const ENABLE: &str = "/api/v1/livechat/autoDistributionConfig:enable";
const DISABLE: &str = "/api/v1/livechat/autoDistributionConfig:disable";
const CONFIG: &str = "switchboard_auto_distribution";
const NIL: &str = "00000000-0000-0000-0000-000000000000";

fn seed(example: &str) -> Value {
    let all: Value =
        serde_json::from_str(include_str!("fixtures/comm100_auto_distribution.json")).unwrap();
    all[example].clone()
}

/// Values the comparison does not hold equal, and why: Comm100's avatar
/// URLs and ids of things Switchboard does not have (roles are Rocket.Chat
/// role names, triggers and permissions are Comm100's), timestamps, and
/// profile fields Rocket.Chat users do not carry (answered empty).
const NOT_COMPARED: &[&str] = &[
    "avatar",
    "customizeAvatar",
    "ifCustomizeAvatar",
    "systemAvatarId",
    "createdTime",
    "lockedTime",
    "roleIds",
    "permissionIds",
    "triggerIds",
    "superAgentId",
    "phone",
    "title",
    "timeZone",
    "datetimeFormat",
    "isLocked",
];

/// Replaces every string equal to a key of `ids` by its value.
fn with_ids(value: &Value, ids: &HashMap<&str, String>) -> Value {
    match value {
        Value::String(s) => ids
            .get(s.as_str())
            .map(|id| json!(id))
            .unwrap_or_else(|| value.clone()),
        Value::Array(items) => Value::Array(items.iter().map(|v| with_ids(v, ids)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_ids(v, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Compares `actual` with `expected` at every level: the same keys (or, with
/// `subset`, at least the expected ones), equal values except for the keys
/// in `skip`.
fn compare(expected: &Value, actual: &Value, path: &str, subset: bool, skip: &[&str]) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut e_keys: Vec<_> = e.keys().collect();
            let mut a_keys: Vec<_> = a.keys().collect();
            e_keys.sort();
            a_keys.sort();
            if subset {
                for k in &e_keys {
                    assert!(a.contains_key(*k), "{path}.{k} is missing");
                }
            } else {
                assert_eq!(e_keys, a_keys, "the keys of {path} differ");
            }
            for (k, v) in e {
                if !skip.contains(&k.as_str()) {
                    compare(v, &a[k], &format!("{path}.{k}"), subset, skip);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "the length of {path} differs: {actual}");
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, &format!("{path}[{i}]"), subset, skip);
            }
        }
        _ => assert_eq!(expected, actual, "{path} differs"),
    }
}

fn names_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// Comm100's GET and PUT examples show the deprecated `backupDepartmentId`
/// as the nil id beside two backups; Switchboard keeps it in step with the
/// first backup, as the deprecation note asks.
fn first_backup_in_step(expected: &mut Value) {
    for entry in expected["departmentAutoDistributionConfigs"]
        .as_array_mut()
        .unwrap()
    {
        let first = entry["backupDepartments"][0]["backupDepartmentId"].clone();
        entry["backupDepartmentId"] = first;
    }
}

/// Inserts a department the way Rocket.Chat stores one.
async fn insert_department(app: &TestApp, name: &str, description: &str) -> String {
    let id = switchboard::domain::id::new_id();
    app.db
        .collection::<Document>("rocketchat_livechat_department")
        .insert_one(doc! {
            "_id": &id, "name": name, "description": description, "enabled": true,
            "showOnRegistration": true, "showOnOfflineForm": true, "email": "", "numAgents": 0,
        })
        .await
        .unwrap();
    id
}

async fn insert_link(app: &TestApp, department_id: &str, agent_id: &str, username: &str) {
    app.db
        .collection::<Document>("rocketchat_livechat_department_agents")
        .insert_one(doc! {
            "_id": switchboard::domain::id::new_id(), "departmentId": department_id,
            "agentId": agent_id, "username": username, "departmentEnabled": true,
            "count": 0, "order": 0,
        })
        .await
        .unwrap();
    app.db
        .collection::<Document>("rocketchat_livechat_department")
        .update_one(doc! {"_id": department_id}, doc! {"$inc": {"numAgents": 1}})
        .await
        .unwrap();
}

/// An admin livechat agent with this name and e-mail, and extra profile
/// fields set on its user document.
async fn insert_agent(
    app: &TestApp,
    username: &str,
    name: &str,
    email: &str,
    extra: Document,
) -> String {
    let a = app
        .post(
            "/api/v1/users.create",
            &app.admin,
            json!({"username": username, "name": name, "email": email,
                   "password": "secret-pw", "roles": ["user", "livechat-agent", "admin"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let id = a.body["user"]["_id"].as_str().unwrap().to_string();
    if !extra.is_empty() {
        app.db
            .collection::<Document>("users")
            .update_one(doc! {"_id": &id}, doc! {"$set": extra})
            .await
            .unwrap();
    }
    id
}

async fn put(app: &TestApp, creds: &Creds, body: Value) -> Value {
    let a = app.put(PATH, creds, body).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body
}

async fn max_chats_of(app: &TestApp, user_id: &str) -> Option<i64> {
    let user = app.stored("users", user_id).await.unwrap();
    user.get_document("livechat")
        .ok()
        .and_then(|l| l.get("maxNumberSimultaneousChat").cloned())
        .and_then(|n| n.as_i64().or(n.as_i32().map(i64::from)))
}

/// Comm100's GET and PUT examples' world: Oden (in department "0d1b…")
/// and department "40dc…" (with agent "6a07…") backed by "007a…" and
/// "f1ff…".
async fn oden_world(app: &TestApp) -> HashMap<&'static str, String> {
    let oden = insert_agent(
        app,
        "oden",
        "Oden Beta",
        "oden@beta.com",
        doc! {"nickname": "Oden", "bio": "", "language": "en"},
    )
    .await;
    let pat = insert_agent(app, "pat", "Pat Doe", "pat@example.com", doc! {}).await;
    let depart = insert_department(app, "depart", "ment").await;
    let odens = insert_department(app, "odens", "").await;
    let first = insert_department(app, "first backup", "").await;
    let second = insert_department(app, "second backup", "").await;
    insert_link(app, &odens, &oden, "oden").await;
    insert_link(app, &depart, &pat, "pat").await;
    HashMap::from([
        ("2d950b8f-d8f7-4fd8-986f-befe4abb9cd4", oden),
        ("6a076e05-50f9-424b-b356-cacbc7f99065", pat),
        ("40dcf4ea-10fe-4c71-917b-50a71393085a", depart),
        ("0d1b1d6e-5784-4f2d-9b9c-21bd8358f04c", odens),
        ("007ac439-b73c-461b-9bde-da2dbb4437af", first),
        ("f1ff3fff-33ab-46dd-a9f3-7ca415df9b25", second),
    ])
}

#[tokio::test]
async fn the_seed_put_is_answered_as_comm100_answers_it() {
    let app = spawn_app().await;
    let ids = oden_world(&app).await;
    let answer = put(&app, &app.admin, with_ids(&seed("putRequest"), &ids)).await;

    let mut expected = with_ids(&seed("putResponse"), &ids);
    first_backup_in_step(&mut expected);
    let mut skip = NOT_COMPARED.to_vec();
    // Comm100 generated the backup entries' ids; Switchboard generates its own.
    skip.push("id");
    compare(&expected, &answer, "$", false, &skip);
    let entry = &answer["departmentAutoDistributionConfigs"][0];
    let backups = entry["backupDepartments"].as_array().unwrap();
    assert_eq!(backups[0]["order"], json!(1));
    assert_eq!(
        backups[1]["backupDepartmentId"],
        json!(ids["f1ff3fff-33ab-46dd-a9f3-7ca415df9b25"])
    );
    assert!(
        backups
            .iter()
            .all(|b| !b["id"].as_str().unwrap().is_empty())
    );
    assert_ne!(backups[0]["id"], backups[1]["id"]);
    // The ids (agents, departments, links) were compared above too:
    assert_eq!(
        answer["agentAutoDistributionConfigs"][0]["agent"]["departmentIds"],
        json!([ids["0d1b1d6e-5784-4f2d-9b9c-21bd8358f04c"]])
    );

    // The agent's limit is Rocket.Chat's own field on the user.
    let oden = &ids["2d950b8f-d8f7-4fd8-986f-befe4abb9cd4"];
    assert_eq!(max_chats_of(&app, oden).await, Some(999));
    let stored = app.stored(CONFIG, "global").await.unwrap();
    assert_eq!(
        stored.get_str("autoDistributionMethod").unwrap(),
        "loadBalancing"
    );
    assert!(stored.get_bool("isEnabled").unwrap());
}

#[tokio::test]
async fn the_seed_get_is_answered_as_comm100_answers_it() {
    let app = spawn_app().await;
    let ids = oden_world(&app).await;
    // A Comm100 client sends back what it read: references included.
    let mut expected = with_ids(&seed("get"), &ids);
    put(&app, &app.admin, expected.clone()).await;
    first_backup_in_step(&mut expected);

    let answer = app.get(PATH, &app.admin).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert!(answer.body.get("success").is_none());
    compare(&expected, &answer.body, "$", false, NOT_COMPARED);
    // Backup entry ids a client sends are kept.
    assert_eq!(
        answer.body["departmentAutoDistributionConfigs"][0]["backupDepartments"][1]["id"],
        json!("04dbb0a6-ffc1-4e28-bbf9-c57dca28bbd2")
    );
}

#[tokio::test]
async fn the_seed_disable_and_enable_are_answered_as_comm100_answers_them() {
    let app = spawn_app().await;
    let andy = insert_agent(
        &app,
        "andy",
        "Andy Liao",
        "andy@comm100.com",
        doc! {"bio": "Hello, I am Andy"},
    )
    .await;
    let own = insert_department(&app, "andys", "").await;
    let main = insert_department(&app, "main", "").await;
    let backup = insert_department(&app, "backup", "").await;
    insert_link(&app, &own, &andy, "andy").await;
    let ids = HashMap::from([
        // Comm100's example shows two ids for the same agent.
        ("35DC397E-509F-4D34-A1DE-843CE5B26D93", andy.clone()),
        ("c2c165b7-d5ce-40e5-a492-f586f514a062", andy.clone()),
        ("b6ff11d8-0be7-4e99-b8c7-5a7ab501c69b", own),
        ("C36A27EC-EC1E-4A86-8B15-3367FE680AD3", main),
        ("DE314FF0-E864-4929-81E7-7E575F752037", backup),
    ]);
    let mut state = with_ids(&seed("enable"), &ids);
    // Comm100's example shows "0" as a department's method, which is not
    // one of the values its own documentation allows.
    state["departmentAutoDistributionConfigs"][0]["autoDistributionMethod"] =
        json!("loadBalancing");
    put(&app, &app.admin, state).await;

    // The examples leave out some keys Comm100's GET shows; every key they
    // show is compared, and the answer has the GET example's shape.
    let mut skip = NOT_COMPARED.to_vec();
    skip.push("autoDistributionMethod");
    let disabled = app.post(DISABLE, &app.admin, json!({})).await;
    assert_eq!(disabled.status, 200, "{:?}", disabled.body);
    compare(
        &with_ids(&seed("disable"), &ids),
        &disabled.body,
        "$",
        true,
        &skip,
    );
    assert_eq!(
        disabled.body["autoDistributionMethod"],
        json!("loadBalancing")
    );
    assert_eq!(names_of(&disabled.body), names_of(&seed("get")));
    assert_eq!(
        names_of(&disabled.body["agentAutoDistributionConfigs"][0]["agent"]),
        names_of(&seed("get")["agentAutoDistributionConfigs"][0]["agent"])
    );
    let stored = app.stored(CONFIG, "global").await.unwrap();
    assert!(!stored.get_bool("isEnabled").unwrap());

    let enabled = app.call(Method::POST, ENABLE, Some(&app.admin), None).await;
    assert_eq!(enabled.status, 200, "{:?}", enabled.body);
    compare(
        &with_ids(&seed("enable"), &ids),
        &enabled.body,
        "$",
        true,
        &skip,
    );
    assert_eq!(enabled.body["isEnabled"], json!(true));
    assert_eq!(max_chats_of(&app, &andy).await, Some(3));
}

#[tokio::test]
async fn nothing_stored_answers_the_defaults() {
    let app = spawn_app().await;
    let a = app.get(PATH, &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        a.body,
        json!({
            "isEnabled": true,
            "autoDistributionMethod": "leastServed",
            "isLastChattedAgentPreferredForAutoDistribution": false,
            "ifLimitMaxConcurrentChatsForAllAgents": false,
            "maxConcurrentChatsForAllAgents": 0,
            "ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit": false,
            "ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat": false,
            "agentAutoDistributionConfigs": [],
            "departmentAutoDistributionConfigs": [],
        })
    );
    assert_eq!(app.count(CONFIG, doc! {}).await, 0);
}

#[tokio::test]
async fn stored_switches_are_read_in_any_number_form_and_an_unknown_method_is_ignored() {
    let app = spawn_app().await;
    app.db
        .collection::<Document>(CONFIG)
        .insert_one(doc! {
            "_id": "global", "isEnabled": null, "autoDistributionMethod": "fastest",
            "ifLimitMaxConcurrentChatsForAllAgents": true, "maxConcurrentChatsForAllAgents": 3.0,
            "isLastChattedAgentPreferredForAutoDistribution": true,
        })
        .await
        .unwrap();
    let a = app.get(PATH, &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let expected = json!({
        "isEnabled": true,
        "autoDistributionMethod": "leastServed",
        "isLastChattedAgentPreferredForAutoDistribution": true,
        "ifLimitMaxConcurrentChatsForAllAgents": true,
        "maxConcurrentChatsForAllAgents": 3,
        "ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit": false,
        "ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat": false,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&a.body[key], value, "{key}");
    }
    app.db
        .collection::<Document>(CONFIG)
        .update_one(
            doc! {"_id": "global"},
            doc! {"$set": {"maxConcurrentChatsForAllAgents": "5"}},
        )
        .await
        .unwrap();
    let a = app.get(PATH, &app.admin).await;
    assert_eq!(a.body["maxConcurrentChatsForAllAgents"], json!(5));
}

#[tokio::test]
async fn a_switch_s_broken_rule_is_named_with_its_field_rule_and_message() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"maxConcurrentChatsForAllAgents": -1}),
            "maxConcurrentChatsForAllAgents",
            "range",
            "maxConcurrentChatsForAllAgents: must be a whole number from 0",
        ),
        (
            json!({"maxConcurrentChatsForAllAgents": 2147483648_i64}),
            "maxConcurrentChatsForAllAgents",
            "range",
            "maxConcurrentChatsForAllAgents: must be a whole number from 0",
        ),
        (
            json!({"autoDistributionMethod": "fastest"}),
            "autoDistributionMethod",
            "method",
            "autoDistributionMethod: `fastest` is not a method; allowed values are leastServed",
        ),
        (
            json!({"isEnabled": "yes"}),
            "isEnabled",
            "type",
            "isEnabled: invalid type: string \"yes\", expected a boolean",
        ),
        (
            json!({"maxConcurrentChatsForAllAgents": 2.5}),
            "maxConcurrentChatsForAllAgents",
            "type",
            "maxConcurrentChatsForAllAgents: invalid type: floating point `2.5`, expected i64",
        ),
        (
            json!({"autoDistributionMehtod": "roundRobin"}),
            "autoDistributionMehtod",
            "unknown",
            "autoDistributionMehtod: is not an allowed field",
        ),
    ];
    for (body, field, rule, message) in cases {
        let a = app.put(PATH, &app.admin, body.clone()).await;
        assert_bad_request(&a, message);
        assert_eq!(
            a.body["details"],
            json!({"field": field, "rule": rule}),
            "{body}"
        );
    }
    assert_eq!(app.count(CONFIG, doc! {}).await, 0);
}

#[tokio::test]
async fn a_partial_put_keeps_every_field_it_leaves_out() {
    let app = spawn_app().await;
    let ann = insert_agent(&app, "ann", "Ann", "ann@example.com", doc! {}).await;
    let d = insert_department(&app, "sales", "").await;
    put(
        &app,
        &app.admin,
        json!({
            "autoDistributionMethod": "roundRobin",
            "ifLimitMaxConcurrentChatsForAllAgents": true,
            "maxConcurrentChatsForAllAgents": 4,
            "agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": 2, "ifAutoAcceptChat": false}],
            "departmentAutoDistributionConfigs": [{"departmentId": d}],
        }),
    )
    .await;
    let answer = put(
        &app,
        &app.admin,
        json!({"isLastChattedAgentPreferredForAutoDistribution": true}),
    )
    .await;
    assert_eq!(answer["autoDistributionMethod"], json!("roundRobin"));
    assert_eq!(answer["maxConcurrentChatsForAllAgents"], json!(4));
    assert_eq!(answer["ifLimitMaxConcurrentChatsForAllAgents"], json!(true));
    assert_eq!(
        answer["isLastChattedAgentPreferredForAutoDistribution"],
        json!(true)
    );
    let agents = &answer["agentAutoDistributionConfigs"];
    assert_eq!(agents[0]["agentId"], json!(ann));
    assert_eq!(agents[0]["maxConcurrentChats"], json!(2));
    assert_eq!(agents[0]["ifAutoAcceptChat"], json!(false));
    assert_eq!(
        answer["departmentAutoDistributionConfigs"][0]["departmentId"],
        json!(d)
    );
    assert_eq!(app.get(PATH, &app.admin).await.body, answer);
}

#[tokio::test]
async fn a_given_list_replaces_the_stored_one() {
    let app = spawn_app().await;
    let ann = insert_agent(&app, "ann", "Ann", "ann@example.com", doc! {}).await;
    let bob = insert_agent(&app, "bob", "Bob", "bob@example.com", doc! {}).await;
    let (d1, d2, d3) = (
        insert_department(&app, "one", "").await,
        insert_department(&app, "two", "").await,
        insert_department(&app, "three", "").await,
    );
    put(
        &app,
        &app.admin,
        json!({
            "agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": 5}, {"agentId": bob}],
            "departmentAutoDistributionConfigs": [
                {"departmentId": d1, "backupDepartments": [{"backupDepartmentId": d2, "order": 1}, {"backupDepartmentId": d3, "order": 2}]},
                {"departmentId": d2},
            ],
        }),
    )
    .await;
    let answer = put(
        &app,
        &app.admin,
        json!({
            "agentAutoDistributionConfigs": [{"agentId": bob, "maxConcurrentChats": 1}],
            "departmentAutoDistributionConfigs": [
                {"departmentId": d1, "backupDepartments": [{"backupDepartmentId": d3, "order": 1}]},
            ],
        }),
    )
    .await;
    let agents = answer["agentAutoDistributionConfigs"].as_array().unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0]["agentId"], json!(bob));
    assert_eq!(agents[0]["maxConcurrentChats"], json!(1));
    // Ann's limit is her user's and stays.
    assert_eq!(max_chats_of(&app, &ann).await, Some(5));
    let departments = answer["departmentAutoDistributionConfigs"]
        .as_array()
        .unwrap();
    assert_eq!(departments.len(), 1);
    let backups = departments[0]["backupDepartments"].as_array().unwrap();
    assert_eq!(backups.len(), 1);
    assert_eq!(backups[0]["backupDepartmentId"], json!(d3));
    assert_eq!(departments[0]["backupDepartmentId"], json!(d3));
    let stored = app.stored(CONFIG, "global").await.unwrap();
    assert_eq!(
        stored
            .get_array("departmentAutoDistributionConfigs")
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn backups_are_answered_in_order_and_a_department_may_inherit_the_globals() {
    let app = spawn_app().await;
    let (d1, d2, d3, d4) = (
        insert_department(&app, "one", "").await,
        insert_department(&app, "two", "").await,
        insert_department(&app, "three", "").await,
        insert_department(&app, "four", "").await,
    );
    let answer = put(
        &app,
        &app.admin,
        json!({
            "autoDistributionMethod": "capabilityWeighted",
            "departmentAutoDistributionConfigs": [
                {"departmentId": d1, "autoDistributionMethod": null, "isLastChattedAgentPreferred": null,
                 "backupDepartments": [{"backupDepartmentId": d3, "order": 9}, {"backupDepartmentId": d2, "order": 2}]},
                {"departmentId": d2, "autoDistributionMethod": "roundRobin", "isLastChattedAgentPreferred": true},
                // A client of the older API names one backup.
                {"departmentId": d3, "backupDepartmentId": d4},
            ],
        }),
    )
    .await;
    let entries = answer["departmentAutoDistributionConfigs"]
        .as_array()
        .unwrap();
    assert_eq!(entries[0]["autoDistributionMethod"], Value::Null);
    assert_eq!(entries[0]["isLastChattedAgentPreferred"], Value::Null);
    assert_eq!(entries[0]["backupDepartmentId"], json!(d2));
    assert_eq!(
        entries[0]["backupDepartments"][0]["backupDepartmentId"],
        json!(d2)
    );
    assert_eq!(entries[0]["backupDepartments"][1]["order"], json!(9));
    assert_eq!(
        entries[0]["backupDepartments"][1]["departmentId"],
        json!(d1)
    );
    assert_eq!(entries[1]["autoDistributionMethod"], json!("roundRobin"));
    assert_eq!(entries[1]["backupDepartmentId"], json!(NIL));
    assert_eq!(entries[2]["backupDepartmentId"], json!(d4));
    assert_eq!(entries[2]["department"]["name"], json!("three"));
    assert_eq!(
        entries[2]["department"]["isAvailableInLiveChat"],
        json!(true)
    );
}

#[tokio::test]
async fn entries_whose_user_or_department_was_deleted_are_shown_as_deleted() {
    let app = spawn_app().await;
    let ann = insert_agent(&app, "ann", "Ann Lee", "ann@example.com", doc! {}).await;
    let d = insert_department(&app, "gone soon", "").await;
    let answer = put(
        &app,
        &app.admin,
        json!({"agentAutoDistributionConfigs": [{"agentId": ann}],
               "departmentAutoDistributionConfigs": [{"departmentId": d}]}),
    )
    .await;
    assert_eq!(
        answer["agentAutoDistributionConfigs"][0]["agent"]["isDeleted"],
        json!(false)
    );
    assert_eq!(
        answer["agentAutoDistributionConfigs"][0]["agent"]["lastName"],
        json!("Lee")
    );
    app.db
        .collection::<Document>("users")
        .delete_one(doc! {"_id": &ann})
        .await
        .unwrap();
    app.db
        .collection::<Document>("rocketchat_livechat_department")
        .delete_one(doc! {"_id": &d})
        .await
        .unwrap();
    let a = app.get(PATH, &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let agent = &a.body["agentAutoDistributionConfigs"][0]["agent"];
    assert_eq!(agent["id"], json!(ann));
    assert_eq!(agent["isDeleted"], json!(true));
    assert_eq!(
        names_of(agent),
        names_of(&seed("get")["agentAutoDistributionConfigs"][0]["agent"])
    );
    let department = &a.body["departmentAutoDistributionConfigs"][0]["department"];
    assert_eq!(department["isDeleted"], json!(true));
    assert_eq!(department["isAvailableInLiveChat"], json!(false));
}

#[tokio::test]
async fn reading_needs_view_and_changing_needs_manage_departments() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, PATH),
        (Method::PUT, PATH),
        (Method::POST, ENABLE),
        (Method::POST, DISABLE),
    ] {
        let a = app.call(method, path, None, Some(json!({}))).await;
        assert_unauthenticated(&a);
    }
    let (_, agent) = app
        .user_with_roles("plain", &["user", "livechat-agent"])
        .await;
    assert_forbidden(&app.get(PATH, &agent).await);
    app.set_permission("view-livechat-departments", &["livechat-agent"])
        .await;
    assert_eq!(app.get(PATH, &agent).await.status, 200);
    assert_forbidden(&app.put(PATH, &agent, json!({"isEnabled": false})).await);
    assert_forbidden(&app.post(DISABLE, &agent, json!({})).await);
    assert_forbidden(&app.post(ENABLE, &agent, json!({})).await);
    assert_eq!(app.count(CONFIG, doc! {}).await, 0);
    let (_, monitor) = app
        .user_with_roles("watcher", &["user", "livechat-monitor"])
        .await;
    assert_eq!(app.post(DISABLE, &monitor, json!({})).await.status, 200);
}

#[tokio::test]
async fn every_invalid_input_is_a_400_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let ann = insert_agent(&app, "ann", "Ann", "ann@example.com", doc! {}).await;
    let not_agent = app.create_user("nora", &["user"]).await;
    let d1 = insert_department(&app, "one", "").await;
    let d2 = insert_department(&app, "two", "").await;
    // A valid agent entry rides along in every body: its limit must not land.
    let with_ann = |mut body: Value| {
        if body.get("agentAutoDistributionConfigs").is_none() {
            body["agentAutoDistributionConfigs"] =
                json!([{"agentId": ann, "maxConcurrentChats": 7}]);
        }
        body
    };
    let backups = |list: Value| json!({"departmentAutoDistributionConfigs": [{"departmentId": d1, "backupDepartments": list}]});
    let cases = [
        (
            json!({"autoDistributionMethod": "fastest"}),
            "autoDistributionMethod",
        ),
        (
            json!({"autoDistributionMethod": "0"}),
            "autoDistributionMethod",
        ),
        (
            json!({"maxConcurrentChatsForAllAgents": -1}),
            "maxConcurrentChatsForAllAgents",
        ),
        (
            json!({"maxConcurrentChatsForAllAgents": 2.5}),
            "maxConcurrentChatsForAllAgents",
        ),
        (
            json!({"maxConcurrentChatsForAllAgents": "3"}),
            "maxConcurrentChatsForAllAgents",
        ),
        (json!({"isEnabled": "yes"}), "isEnabled"),
        (
            json!({"agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": -2}]}),
            "agentAutoDistributionConfigs[0].maxConcurrentChats",
        ),
        (
            json!({"agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": 1.5}]}),
            "agentAutoDistributionConfigs[0].maxConcurrentChats",
        ),
        (
            json!({"agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": 7}, {"agentId": "nobody"}]}),
            "agentAutoDistributionConfigs[1].agentId",
        ),
        (
            json!({"agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": 7}, {"agentId": not_agent}]}),
            "agentAutoDistributionConfigs[1].agentId",
        ),
        (
            json!({"agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": 7}, {"agentId": ann}]}),
            "agentAutoDistributionConfigs[1].agentId",
        ),
        (
            json!({"departmentAutoDistributionConfigs": [{"departmentId": "nowhere"}]}),
            "departmentAutoDistributionConfigs[0].departmentId",
        ),
        (
            json!({"departmentAutoDistributionConfigs": [{"departmentId": d1}, {"departmentId": d1}]}),
            "departmentAutoDistributionConfigs[1].departmentId",
        ),
        (
            json!({"departmentAutoDistributionConfigs": [{"departmentId": d1, "autoDistributionMethod": "random"}]}),
            "departmentAutoDistributionConfigs[0].autoDistributionMethod",
        ),
        (
            backups(json!([{"backupDepartmentId": "nowhere", "order": 1}])),
            "departmentAutoDistributionConfigs[0].backupDepartments[0].backupDepartmentId",
        ),
        (
            backups(
                json!([{"backupDepartmentId": d2, "order": 1}, {"backupDepartmentId": d1, "order": 2}]),
            ),
            "departmentAutoDistributionConfigs[0].backupDepartments[1].backupDepartmentId",
        ),
        (
            backups(
                json!([{"backupDepartmentId": d2, "order": 1}, {"backupDepartmentId": d2, "order": 2}]),
            ),
            "departmentAutoDistributionConfigs[0].backupDepartments[1].backupDepartmentId",
        ),
        (
            backups(
                json!([{"backupDepartmentId": d2, "order": 1}, {"backupDepartmentId": "x", "order": 1}]),
            ),
            "departmentAutoDistributionConfigs[0].backupDepartments[1].order",
        ),
        (
            backups(json!([{"backupDepartmentId": d2, "order": -1}])),
            "departmentAutoDistributionConfigs[0].backupDepartments[0].order",
        ),
        (
            backups(json!([{"backupDepartmentId": d2, "order": 1.5}])),
            "departmentAutoDistributionConfigs[0].backupDepartments[0].order",
        ),
        (
            backups(json!([{"departmentId": d2, "backupDepartmentId": d2, "order": 1}])),
            "departmentAutoDistributionConfigs[0].backupDepartments[0].departmentId",
        ),
        (
            json!({"autoDistributionMehtod": "roundRobin"}),
            "autoDistributionMehtod",
        ),
    ];
    for (body, field) in cases {
        let body = with_ann(body);
        let a = app.put(PATH, &app.admin, body.clone()).await;
        assert_bad_request(&a, &format!("{field}:"));
        assert_eq!(a.body["details"]["field"], json!(field), "{body}");
        assert_eq!(
            app.count(CONFIG, doc! {}).await,
            0,
            "{body} stored something"
        );
        assert_eq!(
            max_chats_of(&app, &ann).await,
            None,
            "{body} stored a limit"
        );
    }
}

#[tokio::test]
async fn concurrent_puts_of_different_fields_on_two_instances_all_land() {
    let app = spawn_app().await;
    let other = spawn_instance(test_settings(&app.db_name)).await;
    let ann = insert_agent(&app, "ann", "Ann", "ann@example.com", doc! {}).await;
    let d = insert_department(&app, "sales", "").await;
    let bodies = [
        json!({"autoDistributionMethod": "roundRobin"}),
        json!({"maxConcurrentChatsForAllAgents": 6}),
        json!({"ifLimitMaxConcurrentChatsForAllAgents": true}),
        json!({"isLastChattedAgentPreferredForAutoDistribution": true}),
        json!({"agentAutoDistributionConfigs": [{"agentId": ann, "maxConcurrentChats": 3}]}),
        json!({"departmentAutoDistributionConfigs": [{"departmentId": d, "autoDistributionMethod": "loadBalancing"}]}),
        json!({"ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit": true}),
        json!({"ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat": true}),
    ];
    let requests = bodies.iter().enumerate().map(|(i, body)| {
        let target = if i % 2 == 0 { &app } else { &other };
        target.put(PATH, &app.admin, body.clone())
    });
    for a in futures::future::join_all(requests).await {
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    let a = other.get(PATH, &app.admin).await;
    assert_eq!(a.body["autoDistributionMethod"], json!("roundRobin"));
    assert_eq!(a.body["maxConcurrentChatsForAllAgents"], json!(6));
    assert_eq!(a.body["ifLimitMaxConcurrentChatsForAllAgents"], json!(true));
    assert_eq!(
        a.body["isLastChattedAgentPreferredForAutoDistribution"],
        json!(true)
    );
    assert_eq!(
        a.body["ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit"],
        json!(true)
    );
    assert_eq!(
        a.body["ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat"],
        json!(true)
    );
    assert_eq!(
        a.body["agentAutoDistributionConfigs"][0]["maxConcurrentChats"],
        json!(3)
    );
    assert_eq!(
        a.body["departmentAutoDistributionConfigs"][0]["autoDistributionMethod"],
        json!("loadBalancing")
    );
    assert_eq!(app.count(CONFIG, doc! {}).await, 1);
}
