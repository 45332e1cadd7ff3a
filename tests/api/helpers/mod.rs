//! `spawn_app` starts a real Switchboard on a free port against a freshly
//! named database on the MongoDB server `MONGO_URL` names (the scripts start
//! a local one), so every test runs alone and in parallel with the others.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard::config::Settings;
use switchboard::startup::Application;

mod ddp;
mod requests;
pub use ddp::*;
pub use requests::*;

pub const ADMIN_USERNAME: &str = "boss";
pub const ADMIN_PASSWORD: &str = "boss-password";
/// The bearer token test instances serve `/metrics` to.
pub const METRICS_TOKEN: &str = "metrics-reader-token";

/// `X-User-Id` and `X-Auth-Token` of a logged-in user.
#[derive(Clone, Debug)]
pub struct Creds {
    pub user_id: String,
    pub token: String,
}

/// An answer: status, headers and the JSON body (`Value::Null` when the
/// body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

pub struct TestApp {
    pub address: String,
    pub db: mongodb::Database,
    pub db_name: String,
    pub http: reqwest::Client,
    pub admin: Creds,
}

/// The base `MONGO_URL` with its database replaced by `db_name`.
pub fn url_for_database(base: &str, db_name: &str) -> String {
    let (address, query) = match base.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (base, None),
    };
    let scheme_end = address.find("://").map(|i| i + 3).unwrap_or(0);
    let hosts_end = address[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(address.len());
    let mut url = format!("{}/{}", &address[..hosts_end], db_name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

pub fn base_mongo_url() -> String {
    std::env::var("MONGO_URL")
        .expect("MONGO_URL must name a MongoDB server: run the tests with scripts/test.sh")
}

pub fn test_settings(db_name: &str) -> Settings {
    let mut settings = Settings::load_from(Default::default()).expect("default settings");
    settings.mongo_url = url_for_database(&base_mongo_url(), db_name);
    settings.port = 0;
    settings.bind_ip = "127.0.0.1".into();
    settings.http.workers = 1;
    // Requests keep the service's default bound (10 s). The driver may
    // wait longer to select the server: on a shared CI machine the local
    // database can be slow to answer a new connection. Tests of those
    // bounds set their own.
    settings.mongo.server_selection_timeout_ms = 60_000;
    settings.mongo.connect_timeout_ms = 30_000;
    settings.admin.username = ADMIN_USERNAME.into();
    settings.admin.password = ADMIN_PASSWORD.into();
    settings.admin.email = "boss@example.com".into();
    settings.metrics.token = METRICS_TOKEN.to_string().into();
    settings
}

pub fn fresh_db_name() -> String {
    format!("sbtest_{}", switchboard::domain::id::new_id())
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts an app on a fresh database with adjusted settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db_name = fresh_db_name();
    let mut settings = test_settings(&db_name);
    adjust(&mut settings);
    spawn_instance(settings).await
}

impl TestApp {
    /// Another instance on this app's database, served at `address`, with
    /// the same admin credentials.
    pub fn same_database_at(&self, address: String) -> TestApp {
        TestApp {
            address,
            db: self.db.clone(),
            db_name: self.db_name.clone(),
            http: self.http.clone(),
            admin: self.admin.clone(),
        }
    }
}

/// Starts one more instance on exactly these settings (several instances
/// may share a database).
pub async fn spawn_instance(settings: Settings) -> TestApp {
    let mongo_url = settings.mongo_url.clone();
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = mongodb::Client::with_uri_str(&mongo_url)
        .await
        .expect("mongo client");
    let db = client.default_database().expect("the URL names a database");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Drop idle connections well before the server's 5 s keep-alive
        // closes them: a request sent on a connection the server is closing
        // at that instant fails with IncompleteMessage.
        .pool_idle_timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap();
    let mut app = TestApp {
        address,
        db_name: db.name().to_string(),
        db,
        http,
        admin: Creds {
            user_id: String::new(),
            token: String::new(),
        },
    };
    // An instance whose database did not answer its start-up preparation
    // within the request bound finishes it in the background (indexes,
    // seed data, the admin), and is ready once it has: wait for that, as
    // an orchestrator would. The bound is generous only because a loaded
    // two-core CI machine can take that long to create the indexes.
    app.wait_ready(std::time::Duration::from_secs(60)).await;
    // One login only, so rate-limit tests count from zero.
    let answer = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    app.admin = Creds::from_login(&answer);
    app
}

impl TestApp {
    /// Waits until `/readyz` answers 200; panics with its last answer
    /// after `bound`.
    pub async fn wait_ready(&self, bound: std::time::Duration) {
        let deadline = std::time::Instant::now() + bound;
        loop {
            let a = self.call(Method::GET, "/readyz", None, None).await;
            if a.status == 200 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the instance was not ready within {bound:?}: {:?}",
                a.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Any request; `creds` adds the auth headers, `body` is sent as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        creds: Option<&Creds>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.address, path));
        if let Some(c) = creds {
            request = request
                .header("X-User-Id", &c.user_id)
                .header("X-Auth-Token", &c.token);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, creds: &Creds) -> Answer {
        self.call(Method::GET, path, Some(creds), None).await
    }

    pub async fn post(&self, path: &str, creds: &Creds, body: Value) -> Answer {
        self.call(Method::POST, path, Some(creds), Some(body)).await
    }

    pub async fn put(&self, path: &str, creds: &Creds, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(creds), Some(body)).await
    }

    pub async fn delete(&self, path: &str, creds: &Creds) -> Answer {
        self.call(Method::DELETE, path, Some(creds), None).await
    }

    pub async fn login(&self, user: &str, password: &str) -> Answer {
        self.call(
            Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"user": user, "password": password})),
        )
        .await
    }

    pub async fn login_ok(&self, user: &str, password: &str) -> Creds {
        Creds::from_login(&self.login(user, password).await)
    }
}

impl Creds {
    /// The credentials a successful login answered.
    pub fn from_login(answer: &Answer) -> Creds {
        assert_eq!(answer.status, 200, "login failed: {:?}", answer.body);
        Creds {
            user_id: answer.body["data"]["userId"].as_str().unwrap().to_string(),
            token: answer.body["data"]["authToken"]
                .as_str()
                .unwrap()
                .to_string(),
        }
    }
}

impl TestApp {
    /// Creates a user with the given roles through `users.create`; its
    /// password is its username followed by `-pw`.
    pub async fn create_user(&self, username: &str, roles: &[&str]) -> String {
        let answer = self
            .post(
                "/api/v1/users.create",
                &self.admin,
                json!({
                    "username": username,
                    "name": format!("{username} name"),
                    "email": format!("{username}@example.com"),
                    "password": format!("{username}-pw"),
                    "roles": roles,
                }),
            )
            .await;
        assert_eq!(
            answer.status, 200,
            "users.create {username}: {:?}",
            answer.body
        );
        answer.body["user"]["_id"].as_str().unwrap().to_string()
    }

    /// A user that is logged in, with its credentials.
    pub async fn user_with_roles(&self, username: &str, roles: &[&str]) -> (String, Creds) {
        let id = self.create_user(username, roles).await;
        let creds = self.login_ok(username, &format!("{username}-pw")).await;
        (id, creds)
    }

    /// A livechat agent that is online and available, logged in.
    pub async fn available_agent(&self, username: &str) -> (String, Creds) {
        let (id, creds) = self
            .user_with_roles(username, &["user", "livechat-agent"])
            .await;
        let a = self
            .post(
                "/api/v1/users.setStatus",
                &creds,
                json!({"status": "online"}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        self.set_livechat_status(&creds, "available").await;
        (id, creds)
    }

    /// The agent sets its own livechat status (`available`, `not-available`).
    pub async fn set_livechat_status(&self, creds: &Creds, status: &str) {
        let a = self
            .post(
                "/api/v1/livechat/agent.status",
                creds,
                json!({"status": status}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }

    /// Replaces the roles granted a permission.
    pub async fn set_permission(&self, permission: &str, roles: &[&str]) {
        let a = self
            .post(
                "/api/v1/permissions.update",
                &self.admin,
                json!({"permissions": [{"_id": permission, "roles": roles}]}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }

    /// The stored document with this id, straight from MongoDB.
    pub async fn stored(&self, collection: &str, id: &str) -> Option<mongodb::bson::Document> {
        self.db
            .collection::<mongodb::bson::Document>(collection)
            .find_one(mongodb::bson::doc! {"_id": id})
            .await
            .unwrap()
    }

    pub async fn count(&self, collection: &str, filter: mongodb::bson::Document) -> u64 {
        self.db
            .collection::<mongodb::bson::Document>(collection)
            .count_documents(filter)
            .await
            .unwrap()
    }
}

/// Asserts the Rocket.Chat 401 body.
pub fn assert_unauthenticated(answer: &Answer) {
    assert_eq!(answer.status, 401, "{:?}", answer.body);
    assert_eq!(
        answer.body,
        json!({"success": false, "error": "You must be logged in to do this.",
               "status": "error", "message": "You must be logged in to do this."})
    );
}

/// Asserts the Rocket.Chat 403 body.
pub fn assert_forbidden(answer: &Answer) {
    assert_eq!(answer.status, 403, "{:?}", answer.body);
    assert_eq!(
        answer.body,
        json!({"success": false,
               "error": "User does not have the permissions required for this action [error-unauthorized]"})
    );
}

/// Asserts a 400 in the usual envelope whose `error` contains `needle`.
pub fn assert_bad_request(answer: &Answer, needle: &str) {
    assert_eq!(answer.status, 400, "{:?}", answer.body);
    assert_eq!(answer.body["success"], json!(false), "{:?}", answer.body);
    let error = answer.body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(needle),
        "expected an error containing {needle:?}, got {:?}",
        answer.body
    );
}

/// Starts an instance without logging in, for instances whose database
/// does not answer; returns its base address.
pub async fn start_unprepared(settings: Settings) -> String {
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// Settings whose database address has nothing listening.
pub fn unreachable_database_settings() -> Settings {
    let mut settings = test_settings("unreachable");
    // Nothing listens on port 1.
    settings.mongo_url = "mongodb://127.0.0.1:1/unreachable".into();
    settings.mongo.server_selection_timeout_ms = 300;
    settings.mongo.connect_timeout_ms = 300;
    settings
}

/// A numeric field as Rocket.Chat data may store it (int32, int64 or
/// double); 0 when absent.
pub fn number(d: &mongodb::bson::Document, key: &str) -> i64 {
    match d.get(key) {
        Some(mongodb::bson::Bson::Int32(n)) => i64::from(*n),
        Some(mongodb::bson::Bson::Int64(n)) => *n,
        Some(mongodb::bson::Bson::Double(f)) => *f as i64,
        _ => 0,
    }
}

impl TestApp {
    /// Open assignments per agent, straight from the database.
    pub async fn open_per_agent(&self) -> std::collections::HashMap<String, i64> {
        use futures::TryStreamExt;
        let open: Vec<mongodb::bson::Document> = self
            .db
            .collection::<mongodb::bson::Document>("switchboard_assignments")
            .find(mongodb::bson::doc! {"status": "open"})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut out = std::collections::HashMap::new();
        for a in open {
            *out.entry(a.get_str("agentId").unwrap().to_string())
                .or_insert(0) += 1;
        }
        out
    }
}

/// Every stored document of `collection` that `filter` matches.
pub async fn all(
    app: &TestApp,
    collection: &str,
    filter: mongodb::bson::Document,
) -> Vec<mongodb::bson::Document> {
    use futures::TryStreamExt;
    app.db
        .collection::<mongodb::bson::Document>(collection)
        .find(filter)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}
