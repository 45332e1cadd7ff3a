//! What operators rely on: metrics, request ids, limits, CORS, time bounds.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    ADMIN_USERNAME, sample, scrape, spawn_app, spawn_app_with, start_unprepared, test_settings,
    unreachable_database_settings,
};

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_method_and_status() {
    let app = spawn_app().await;
    let labels = [
        "route=\"/api/v1/livechat/users/{type}/{_id}\"",
        "method=\"GET\"",
        "status=\"200\"",
    ];
    let before = sample(
        &scrape(&app.address).await,
        "switchboard_http_requests_total",
        &labels,
    );
    for id in ["a", "b", "c"] {
        let a = app
            .get(&format!("/api/v1/livechat/users/agent/{id}"), &app.admin)
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    let text = scrape(&app.address).await;
    let after = sample(&text, "switchboard_http_requests_total", &labels);
    // Other tests in this process count too, so at least three more.
    assert!(after >= before + 3.0, "before {before}, after {after}");
    // The raw path (with its ids) never becomes a label.
    assert!(!text.contains("/api/v1/livechat/users/agent/a\""), "{text}");
    assert!(
        sample(
            &text,
            "switchboard_http_request_duration_seconds_count",
            &labels
        ) >= 3.0,
        "{text}"
    );
    assert!(text.contains("switchboard_http_request_duration_seconds_bucket{"));
}

/// A real routing request moves the decision counter (labelled by the
/// department's method and the outcome), and the open-assignment gauge is
/// exported.
#[tokio::test]
async fn metrics_show_routing_decisions_and_open_assignments() {
    let app = spawn_app().await;
    let d = app.department_with("metered", &[]).await;
    let put = app
        .put(
            "/api/v1/livechat/autoDistributionConfig",
            &app.admin,
            json!({"departmentAutoDistributionConfigs": [
                {"departmentId": d, "autoDistributionMethod": "roundRobin"}]}),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let labels = ["method=\"roundRobin\"", "outcome=\"queued\""];
    let before = sample(
        &scrape(&app.address).await,
        "switchboard_routing_decisions_total",
        &labels,
    );
    let routed = app.route("metered-visitor", Some(&d)).await;
    assert_eq!(routed["status"], "queued");
    let text = scrape(&app.address).await;
    assert!(
        sample(&text, "switchboard_routing_decisions_total", &labels) >= before + 1.0,
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("switchboard_open_assignments ")),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_are_served_only_to_the_holder_of_the_token() {
    let app = spawn_app().await;
    let url = format!("{}/metrics", app.address);
    let http = reqwest::Client::new();
    for request in [http.get(&url), http.get(&url).bearer_auth("not-the-token")] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["success"], json!(false), "{body}");
    }
    assert!(
        scrape(&app.address)
            .await
            .contains("switchboard_http_requests_total")
    );
    // Without a token set, the default, nobody gets them.
    let closed = spawn_app_with(|s| s.metrics.token = String::new().into()).await;
    let response = http
        .get(format!("{}/metrics", closed.address))
        .bearer_auth("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], json!(false), "{body}");
}

#[tokio::test]
async fn a_method_a_path_does_not_serve_answers_405_with_allow_and_json() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::PATCH, "/api/v1/livechat/department", "GET, POST"),
        (Method::TRACE, "/api/v1/livechat/assignments/some-id", "GET"),
        (Method::HEAD, "/api/v1/me", "GET"),
        (Method::PUT, "/api/v1/livechat/assignments", "GET, POST"),
    ] {
        let a = app.call(method.clone(), path, Some(&app.admin), None).await;
        assert_eq!(a.status, 405, "{method} {path}");
        assert_eq!(
            a.headers["allow"].to_str().unwrap(),
            allow,
            "{method} {path}"
        );
        if method != Method::HEAD {
            assert_eq!(
                a.body["errorType"], "error-method-not-allowed",
                "{method} {path}"
            );
        }
    }
    let unknown = app.get("/api/v1/nothing-here", &app.admin).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn metrics_count_database_commands_and_the_commands_of_each_decision() {
    let app = spawn_app().await;
    let (ann, _) = app.available_agent("ann").await;
    let d = app.department_with("counted", &[(&ann, None, None)]).await;
    let before = scrape(&app.address).await;
    let decisions = |text: &str| sample(text, "switchboard_routing_decision_commands_count", &[]);
    let inserts = |text: &str| {
        sample(
            text,
            "switchboard_mongodb_commands_total",
            &["command=\"insert\""],
        )
    };
    let routed = app.route("counted-visitor", Some(&d)).await;
    assert_eq!(routed["status"], "open");
    let after = scrape(&app.address).await;
    assert!(decisions(&after) > decisions(&before), "{after}");
    assert!(inserts(&after) > inserts(&before), "{after}");
}

#[tokio::test]
async fn metrics_count_mongodb_errors() {
    let address = start_unprepared(unreachable_database_settings()).await;
    let errors = |text: &str| {
        sample(
            text,
            "switchboard_mongodb_errors_total",
            &["kind=\"unavailable\""],
        )
    };
    let before = errors(&scrape(&address).await);
    let login = reqwest::Client::new()
        .post(format!("{address}/api/v1/login"))
        .json(&json!({"user": "a", "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 503);
    let after = errors(&scrape(&address).await);
    assert!(after > before, "before {before}, after {after}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_valid_incoming_one_is_kept() {
    let app = spawn_app().await;
    let a = app.call(Method::GET, "/livez", None, None).await;
    let generated = a.headers["x-request-id"].to_str().unwrap().to_string();
    assert!(!generated.is_empty());
    let b = app.call(Method::GET, "/nowhere", None, None).await;
    assert_eq!(b.status, 404);
    assert_ne!(b.headers["x-request-id"].to_str().unwrap(), generated);

    let kept = app
        .http
        .get(format!("{}/livez", app.address))
        .header("X-Request-Id", "lb-1234.abc")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "lb-1234.abc");
    // Anything that could smuggle text into a log line is replaced.
    let replaced = app
        .http
        .get(format!("{}/livez", app.address))
        .header("X-Request-Id", "evil id\"}")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "evil id\"}");
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_413_even_where_no_body_is_read() {
    let app = spawn_app_with(|s| s.http.max_body_bytes = 64).await;
    let big = "x".repeat(100);
    for path in ["/livez", "/api/v1/login"] {
        let response = app
            .http
            .post(format!("{}{path}", app.address))
            .header("Content-Type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 413, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["success"], json!(false));
    }
}

#[tokio::test]
async fn login_attempts_are_limited_per_address_and_user_with_retry_after() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_minute = 3).await;
    // spawn_app logged the admin in once already.
    for _ in 0..2 {
        assert_eq!(app.login(ADMIN_USERNAME, "wrong").await.status, 401);
    }
    let limited = app.login(ADMIN_USERNAME, "wrong").await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert_eq!(limited.body["errorType"], "error-too-many-requests");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // The right password does not get past the limit either.
    let right = app
        .login(ADMIN_USERNAME, crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(right.status, 429);
    // Another user from the same address is not locked out.
    assert_eq!(app.login("someone-else", "x").await.status, 401);
}

#[tokio::test]
async fn a_rate_limit_holds_across_instances() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_minute = 4).await;
    let mut settings = test_settings(&app.db_name);
    settings.rate_limit.login_per_minute = 4;
    let other = crate::helpers::spawn_instance(settings).await;
    // Each instance logged the admin in once when it started: two of four.
    let first = app.login(ADMIN_USERNAME, "wrong").await;
    assert_eq!(first.status, 401, "{:?}", first.body);
    let second = other.login(ADMIN_USERNAME, "wrong").await;
    assert_eq!(second.status, 401, "{:?}", second.body);
    // The fifth attempt is over the limit, through either instance.
    for instance in [&app, &other] {
        let limited = instance.login(ADMIN_USERNAME, "wrong").await;
        assert_eq!(limited.status, 429, "{:?}", limited.body);
        assert!(limited.headers.contains_key("retry-after"));
    }
}

#[tokio::test]
async fn cors_allows_the_configured_widget_origin_only() {
    let app =
        spawn_app_with(|s| s.http.cors_origins = vec!["https://widget.example.com".into()]).await;
    let preflight = app
        .http
        .request(Method::OPTIONS, format!("{}/api/v1/login", app.address))
        .header("Origin", "https://widget.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type,x-auth-token",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 200);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://widget.example.com"
    );
    let other = app
        .http
        .get(format!("{}/livez", app.address))
        .header("Origin", "https://elsewhere.example.com")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_stuck_database_answers_503_within_the_request_bound() {
    // A "database" that accepts connections and never answers.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = hole.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hole.accept().await {
            held.push(socket);
        }
    });
    let mut settings = test_settings("stuck");
    settings.mongo_url = format!("mongodb://127.0.0.1:{port}/stuck");
    settings.mongo.server_selection_timeout_ms = 60_000;
    settings.http.request_timeout_ms = 300;
    // Start-up waits on the database too, but only as long as a request.
    let address = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        start_unprepared(settings),
    )
    .await
    .expect("start-up does not hang on a stuck database");
    let answer = reqwest::Client::new()
        .post(format!("{address}/api/v1/login"))
        .json(&json!({"user": "a", "password": "b"}))
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .expect("answered well before the client gives up");
    assert_eq!(answer.status().as_u16(), 503);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["errorType"], "error-request-timeout");
}

#[tokio::test]
async fn an_offset_past_what_the_database_counts_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let d = app.department_with("paged", &[]).await;
    for path in [
        "/api/v1/livechat/department".to_string(),
        "/api/v1/livechat/departments/archived".to_string(),
        format!("/api/v1/livechat/department/{d}/agents"),
        "/api/v1/livechat/assignments".to_string(),
        "/api/v1/livechat/users/agent".to_string(),
    ] {
        let too_far = app
            .get(&format!("{path}?offset=9223372036854775808"), &app.admin)
            .await;
        assert_eq!(too_far.status, 400, "{path}: {:?}", too_far.body);
        assert_eq!(too_far.body["details"]["field"], "offset", "{path}");
        let last = app
            .get(&format!("{path}?offset=9223372036854775807"), &app.admin)
            .await;
        assert_eq!(last.status, 200, "{path}: {:?}", last.body);
    }
}

#[tokio::test]
async fn a_search_text_may_hold_any_character_even_nul() {
    let app = spawn_app().await;
    app.create_user("nul-agent", &["user", "livechat-agent"])
        .await;
    for kind in ["agent", "manager"] {
        for text in ["x%00y", "%00"] {
            let a = app
                .get(
                    &format!("/api/v1/livechat/users/{kind}?text={text}"),
                    &app.admin,
                )
                .await;
            assert_eq!(a.status, 200, "{kind} {text}: {:?}", a.body);
            assert_eq!(a.body["total"], 0, "{kind} {text}");
        }
    }
    let found = app
        .get("/api/v1/livechat/users/agent?text=nul-ag", &app.admin)
        .await;
    assert_eq!(found.body["total"], 1, "{:?}", found.body);
}

#[tokio::test]
async fn a_configuration_put_that_names_nothing_is_refused() {
    let app = spawn_app().await;
    let path = "/api/v1/livechat/autoDistributionConfig";
    for body in [None, Some(json!({}))] {
        let a = app.call(Method::PUT, path, Some(&app.admin), body).await;
        assert_eq!(a.status, 400, "{:?}", a.body);
        assert_eq!(a.body["details"]["field"], "body", "{:?}", a.body);
    }
}
