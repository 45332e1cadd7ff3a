//! The OpenAPI document: valid OpenAPI 3.1, listing exactly the routes the
//! server registers, and browsable with Swagger UI in a real browser.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use switchboard::route_table::route_table;

use crate::helpers::spawn_app;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn spec() -> (crate::helpers::TestApp, Value) {
    let app = spawn_app().await;
    let answer = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type(), "application/json");
    (app, answer.body)
}

/// Every (method, path) the document lists.
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths is an object") {
        for method in item.as_object().unwrap().keys() {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_lists_exactly_the_registered_routes() {
    let (_app, spec) = spec().await;
    let registered: BTreeSet<(String, String)> = route_table()
        .iter()
        .map(|r| (r.method.as_str().to_lowercase(), r.path.to_string()))
        .collect();
    assert_eq!(
        registered.len(),
        route_table().len(),
        "a route is registered twice"
    );
    let documented = documented(&spec);
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && not_served.is_empty(),
        "registered but not documented: {undocumented:?}; documented but not registered: {not_served:?}"
    );
}

/// Resolves a local `$ref` such as `#/components/schemas/UserJson`.
fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    spec.pointer(pointer)
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref"
                    && let Some(r) = inner.as_str()
                {
                    out.push(r.to_string());
                }
                collect_refs(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// The structural rules of OpenAPI 3.1 that a generator can get wrong.
#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let (_app, spec) = spec().await;
    let version = spec["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi is {version:?}");
    assert!(spec["info"]["title"].is_string());
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));

    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["userId"]["name"], "X-User-Id");
    assert_eq!(schemes["userId"]["in"], "header");
    assert_eq!(schemes["authToken"]["name"], "X-Auth-Token");

    let mut operation_ids = HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let templated: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                operation_ids.insert(id.to_string()),
                "{method} {path}: operationId {id:?} is missing or repeated"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} has no responses");
            for (status, response) in responses {
                assert!(
                    status == "default" || status.parse::<u16>().is_ok(),
                    "{method} {path}: response key {status}"
                );
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}: a response needs a description"
                );
            }
            // Every `{name}` in the path is a declared, required path parameter.
            let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
            for name in &templated {
                let declared = parameters
                    .iter()
                    .any(|p| p["in"] == "path" && p["name"] == *name && p["required"] == true);
                assert!(
                    declared,
                    "{method} {path}: path parameter {name} is not declared"
                );
            }
            for requirement in op["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(scheme), "{method} {path}: {scheme}");
                }
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&spec, &mut refs);
    for r in refs {
        assert!(resolve(&spec, &r).is_some(), "dangling $ref {r}");
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary_and_reads_our_document() {
    let app = spawn_app().await;
    let page = app.call(Method::GET, "/api/docs/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    let init = app
        .http
        .get(format!("{}/api/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"), "{init}");
}

/// The browser: Debian's chromium, which scripts/test.sh installs. A
/// missing browser fails the test: the reference must be checked.
fn chromium() -> String {
    let candidates = [
        std::env::var("CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
    ];
    candidates
        .into_iter()
        .find(|c| !c.is_empty() && Path::new(c).exists())
        .expect("chromium is not installed: run the tests with scripts/test.sh, which installs it")
}

/// The page as headless Chromium renders it, after its scripts ran.
async fn rendered_dom(url: &str) -> String {
    let profile = std::env::temp_dir().join(format!(
        "switchboard-chromium-{}",
        switchboard::domain::id::new_id()
    ));
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--virtual-time-budget=15000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finished within two minutes")
    .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn swagger_ui_lists_every_endpoint_in_a_real_browser() {
    let (app, spec) = spec().await;
    let dom = rendered_dom(&format!("{}/api/docs", app.address)).await;
    assert!(dom.contains("swagger-ui"), "not Swagger UI: {dom:.2000}");
    // Data-driven, so every route added later is checked too; and one
    // route named outright, so an empty document cannot pass.
    let paths: BTreeSet<String> = documented(&spec).into_iter().map(|(_, p)| p).collect();
    assert!(paths.contains("/api/v1/login"));
    for path in paths {
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "Swagger UI does not show {path}: {dom:.3000}"
        );
    }
}

/// Every property of a component schema, through `allOf`.
fn properties(spec: &Value, schema: &Value, out: &mut Vec<(String, bool)>) {
    if let Some(r) = schema["$ref"].as_str() {
        return properties(spec, resolve(spec, r).expect("resolves"), out);
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, _) in schema["properties"].as_object().into_iter().flatten() {
        out.push((name.clone(), required.contains(&name.as_str())));
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        properties(spec, part, out);
    }
}

#[tokio::test]
async fn the_auto_distribution_body_and_answer_document_every_comm100_setting() {
    let (_app, spec) = spec().await;
    let switches = [
        "isEnabled",
        "autoDistributionMethod",
        "isLastChattedAgentPreferredForAutoDistribution",
        "ifLimitMaxConcurrentChatsForAllAgents",
        "maxConcurrentChatsForAllAgents",
        "ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit",
        "ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat",
    ];
    let lists = [
        "agentAutoDistributionConfigs",
        "departmentAutoDistributionConfigs",
    ];
    for (name, all_required) in [("ConfigJson", true), ("ConfigBody", false)] {
        let mut found = Vec::new();
        properties(&spec, &spec["components"]["schemas"][name], &mut found);
        let names: BTreeSet<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        let expected: BTreeSet<&str> = switches.iter().chain(&lists).copied().collect();
        assert_eq!(names, expected, "{name}");
        for (property, required) in &found {
            assert_eq!(*required, all_required, "{name}.{property}");
        }
    }
    let body = &spec["components"]["schemas"]["ConfigBody"];
    let method = body["allOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|p| p["properties"].get("autoDistributionMethod"))
        .expect("the method is documented");
    assert_eq!(
        method["enum"],
        serde_json::json!([
            "leastServed",
            "loadBalancing",
            "roundRobin",
            "capabilityWeighted",
            null
        ])
    );
}
