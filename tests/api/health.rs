use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, test_settings};
use switchboard::startup::Application;

#[tokio::test]
async fn livez_answers_while_the_process_runs() {
    let app = spawn_app().await;
    let a = app.call(Method::GET, "/livez", None, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["success"], json!(true));
    assert_eq!(a.content_type(), "application/json");
}

#[tokio::test]
async fn readyz_is_200_when_mongodb_answers() {
    let app = spawn_app().await;
    let a = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "ready");
}

#[tokio::test]
async fn info_reports_the_version() {
    let app = spawn_app().await;
    let a = app.call(Method::GET, "/api/info", None, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(a.body["success"], json!(true));
}

/// An instance whose database does not answer still starts, says it is
/// not ready, and answers 503 (not 500, no driver text) where it needs it.
#[tokio::test]
async fn without_a_database_readyz_and_data_endpoints_answer_503() {
    let mut settings = test_settings("unreachable");
    // Nothing listens on port 1.
    settings.mongo_url = "mongodb://127.0.0.1:1/unreachable".into();
    settings.mongo.server_selection_timeout_ms = 300;
    settings.mongo.connect_timeout_ms = 300;
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();

    let ready = http.get(format!("{address}/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["success"], json!(false));

    let live = http.get(format!("{address}/livez")).send().await.unwrap();
    assert_eq!(live.status().as_u16(), 200);

    let login = http
        .post(format!("{address}/api/v1/login"))
        .json(&json!({"user": "a", "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 503);
    let body: serde_json::Value = login.json().await.unwrap();
    assert_eq!(body["errorType"], "error-service-unavailable");
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("server selection") && !text.contains("127.0.0.1:1"),
        "{body}"
    );
}

/// The service recovers by itself once the database is reachable.
#[tokio::test]
async fn an_instance_started_before_its_database_recovers() {
    // Reserve a port, start the app against it, then start a database
    // there: the app must become ready without a restart.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let mut settings = test_settings("late");
    settings.mongo_url = format!("mongodb://127.0.0.1:{port}/late");
    settings.mongo.server_selection_timeout_ms = 300;
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let before = http.get(format!("{address}/readyz")).send().await.unwrap();
    assert_eq!(before.status().as_u16(), 503);

    // Forward that port to the real test database server.
    let target = crate::helpers::base_mongo_url();
    let target_host = target
        .trim_start_matches("mongodb://")
        .split(['/', '?'])
        .next()
        .unwrap()
        .to_string();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let host = target_host.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(host).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });

    let mut ready = false;
    for _ in 0..100 {
        let a = http.get(format!("{address}/readyz")).send().await.unwrap();
        if a.status().as_u16() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(ready, "the instance never became ready");
    // Ready means prepared: the seed data and the admin are there.
    let listed: serde_json::Value = http
        .get(format!("{address}/api/v1/settings.public?count=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed["settings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["_id"].as_str())
        .collect();
    assert!(ids.contains(&"Livechat_title"), "{listed}");
    let login = http
        .post(format!("{address}/api/v1/login"))
        .json(&json!({"user": crate::helpers::ADMIN_USERNAME, "password": crate::helpers::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
}
