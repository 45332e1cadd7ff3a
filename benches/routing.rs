//! Routing benchmark: `scripts/bench.sh` (release build, local database).
//!
//! Measures, in one run and on the same database server:
//! 1. one routing decision by Switchboard's engine against a baseline that
//!    does what Rocket.Chat's Auto_Selection does (read every link of the
//!    department, read their users, then one `findOneAndUpdate`), for
//!    departments of 10 and 1,000 agents by default (`BENCH_SIZES`);
//! 2. the HTTP round trip of `POST /api/v1/livechat/assignments` + close on
//!    the release binary, and that process's peak memory.
//!
//! Figures are ratios against the baseline of the same run, so the
//! machine's speed cancels out.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;
use serde_json::json;
use switchboard::config::Settings;
use switchboard::distribution::{Distribution, RouteRequest, Routed};
use switchboard::domain::assignment::Hold;
use switchboard::domain::routing::Method;
use switchboard::store::Store;
use switchboard::store::routing::TakeFilter;

/// Decisions timed per scenario: fewer for the large department, whose
/// decisions are slow on the local test server (see the README).
fn decisions(agents: usize) -> usize {
    if agents >= 1000 { 40 } else { 200 }
}

fn url_for(base: &str, db: &str) -> String {
    let (address, query) = base.split_once('?').unwrap_or((base, ""));
    let scheme_end = address.find("://").map(|i| i + 3).unwrap_or(0);
    let hosts_end = address[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(address.len());
    let mut url = format!("{}/{}", &address[..hosts_end], db);
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    url
}

async fn seed(db: &mongodb::Database, agents: usize) {
    let now = mongodb::bson::DateTime::now();
    db.collection::<Document>("rocketchat_livechat_department")
        .insert_one(
            doc! {"_id": "dept", "name": "bench", "enabled": true, "numAgents": agents as i64,
            "email": "b@example.com", "showOnRegistration": true, "showOnOfflineForm": true},
        )
        .await
        .unwrap();
    let users: Vec<Document> = (0..agents)
        .map(|i| {
            doc! {"_id": format!("a{i:06}"), "username": format!("a{i:06}"),
            "roles": ["user", "livechat-agent"], "active": true, "status": "online",
            "statusLivechat": "available", "createdAt": now}
        })
        .collect();
    for chunk in users.chunks(5000) {
        db.collection::<Document>("users")
            .insert_many(chunk.to_vec())
            .await
            .unwrap();
    }
    let links: Vec<Document> = (0..agents)
        .map(|i| {
            doc! {"_id": format!("l{i:06}"), "departmentId": "dept", "agentId": format!("a{i:06}"),
            "username": format!("a{i:06}"), "departmentEnabled": true, "eligible": true,
            "eligibleNotAway": true, "count": (i % 97) as i64, "order": 0_i64}
        })
        .collect();
    for chunk in links.chunks(5000) {
        db.collection::<Document>("rocketchat_livechat_department_agents")
            .insert_many(chunk.to_vec())
            .await
            .unwrap();
    }
}

/// What Rocket.Chat's `getNextAgentForDepartment` does per decision.
async fn rocketchat_style_decision(db: &mongodb::Database) -> String {
    let links = db.collection::<Document>("rocketchat_livechat_department_agents");
    let all: Vec<Document> = links
        .find(doc! {"departmentId": "dept"})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let usernames: Vec<String> = all
        .iter()
        .filter_map(|l| l.get_str("username").ok().map(str::to_string))
        .collect();
    let online: Vec<Document> = db
        .collection::<Document>("users")
        .find(
            doc! {"username": {"$in": &usernames}, "statusLivechat": "available",
            "roles": "livechat-agent", "active": true, "status": {"$ne": "offline"}},
        )
        .projection(doc! {"username": 1})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let online: Vec<&str> = online
        .iter()
        .filter_map(|u| u.get_str("username").ok())
        .collect();
    let picked = links
        .find_one_and_update(
            doc! {"departmentId": "dept", "username": {"$in": online}},
            doc! {"$inc": {"count": 1}},
        )
        .sort(doc! {"count": 1, "order": 1, "username": 1})
        .return_document(ReturnDocument::After)
        .await
        .unwrap()
        .unwrap();
    picked.get_str("agentId").unwrap().to_string()
}

async fn time<F, Fut>(n: usize, mut f: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    for i in 0..n {
        f(i).await;
    }
    start.elapsed() / n as u32
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

async fn http_round_trips(base: &str, agents: usize) -> (Duration, Option<u64>) {
    let db_name = format!("bench_http_{agents}_{}", std::process::id());
    let url = url_for(base, &db_name);
    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let db = client.database(&db_name);
    seed(&db, agents).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .env("MONGO_URL", &url)
        .env("PORT", port.to_string())
        .env("BIND_IP", "127.0.0.1")
        .env("ADMIN_USERNAME", "bench")
        .env("ADMIN_PASS", "bench-pw")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("the release binary starts");
    let http = reqwest::Client::new();
    let address = format!("http://127.0.0.1:{port}");
    let mut login = None;
    for _ in 0..100 {
        if let Ok(r) = http
            .post(format!("{address}/api/v1/login"))
            .json(&json!({"user": "bench", "password": "bench-pw"}))
            .send()
            .await
            && r.status().is_success()
        {
            login = Some(r.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login = login.expect("logged in");
    let user = login["data"]["userId"].as_str().unwrap().to_string();
    let token = login["data"]["authToken"].as_str().unwrap().to_string();
    let per_call = time(decisions(agents), |i| {
        let (http, address, user, token) = (&http, &address, &user, &token);
        async move {
            let a: serde_json::Value = http
                .post(format!("{address}/api/v1/livechat/assignments"))
                .header("X-User-Id", user)
                .header("X-Auth-Token", token)
                .json(&json!({"visitorToken": format!("v{i}"), "departmentId": "dept"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = a["assignment"]["_id"].as_str().unwrap();
            http.post(format!("{address}/api/v1/livechat/assignments/{id}/close"))
                .header("X-User-Id", user)
                .header("X-Auth-Token", token)
                .send()
                .await
                .unwrap();
        }
    })
    .await;
    let rss = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    db.drop().await.unwrap();
    (per_call, rss)
}

/// The winning stage of the take's plan as the server chooses it, per
/// method (`IXSCAN` or `COLLSCAN`; a real MongoDB's planner walks the index,
/// SecantusDB's scans unless told).
async fn take_plan(store: &Store) -> String {
    let mut out = Vec::new();
    for &method in Method::ALL {
        let plan = store
            .routing()
            .explain_take("dept", method, false)
            .await
            .unwrap();
        let text = plan.get_document("queryPlanner").unwrap().to_string();
        let stage = if text.contains("IXSCAN") {
            "IXSCAN"
        } else {
            "COLLSCAN"
        };
        out.push(format!("{method} {stage}"));
    }
    out.join(", ")
}

#[tokio::main]
async fn main() {
    let base = std::env::var("MONGO_URL").expect("MONGO_URL (run scripts/bench.sh)");
    println!(
        "| agents in department | selection: Switchboard | selection: Rocket.Chat-style baseline | baseline ÷ Switchboard | whole decision (route, record, close) | HTTP route + close | server peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut plans = Vec::new();
    let mut engine_times = Vec::new();
    let mut selection_times = Vec::new();
    // BENCH_SIZES=10,10000 on a real MongoDB; the default keeps the local
    // test server's run short (it sorts in memory, see the README).
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10,1000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    for &agents in &sizes {
        let db_name = format!("bench_engine_{agents}_{}", std::process::id());
        let url = url_for(&base, &db_name);
        let client = mongodb::Client::with_uri_str(&url).await.unwrap();
        let db = client.database(&db_name);
        seed(&db, agents).await;
        let mut settings = Settings::load_from(Default::default()).unwrap();
        settings.mongo_url = url.clone();
        let store = Store::connect(&switchboard::startup::database_target(&settings))
            .await
            .unwrap();
        store.ensure_indexes().await.unwrap();
        plans.push((agents, take_plan(&store).await));
        let distribution = Distribution::new(store.clone(), settings.clone());
        let engine = time(decisions(agents), |i| {
            let router = &distribution;
            async move {
                let routed = router
                    .route(RouteRequest {
                        visitor_token: format!("v{i}"),
                        department_id: Some("dept".into()),
                        room_id: None,
                        record_queued: true,
                        channel: Default::default(),
                    })
                    .await
                    .unwrap();
                if let Routed::New(a) = routed {
                    router.close(&a.id).await.unwrap();
                }
            }
        })
        .await;
        let selection = time(decisions(agents), |i| {
            let store = &store;
            async move {
                let routing = store.routing();
                let hold = Hold {
                    assignment_id: format!("bench{i}"),
                    attempt: format!("attempt{i}"),
                    visitor_token: "bench".into(),
                };
                let pick = routing
                    .take_link("dept", Method::LeastServed, TakeFilter::default(), &hold)
                    .await
                    .unwrap()
                    .expect("an agent");
                routing
                    .reserve_agent(&pick.agent_id, 0, false, &hold)
                    .await
                    .unwrap()
                    .expect("room");
            }
        })
        .await;
        let baseline = time(decisions(agents), |_| {
            let db = &db;
            async move {
                rocketchat_style_decision(db).await;
            }
        })
        .await;
        db.drop().await.unwrap();
        let (http, rss) = http_round_trips(&base, agents).await;
        engine_times.push(engine);
        selection_times.push(selection);
        println!(
            "| {agents} | {:.2} ms | {:.2} ms | {:.1}× | {:.2} ms | {:.2} ms | {} MiB |",
            selection.as_secs_f64() * 1e3,
            baseline.as_secs_f64() * 1e3,
            baseline.as_secs_f64() / selection.as_secs_f64(),
            engine.as_secs_f64() * 1e3,
            http.as_secs_f64() * 1e3,
            rss.map(|k| format!("{:.1}", k as f64 / 1024.0))
                .unwrap_or_else(|| "?".into()),
        );
    }
    // The take names its index (a hint); whether the server would choose
    // it unprompted says whether the index fits the query's shape.
    for (agents, plan) in plans {
        println!("\ntake plan with {agents} agents: {plan}");
    }
    if let (Some(first), Some(last)) = (sizes.first(), sizes.last()) {
        let n = selection_times.len() - 1;
        println!(
            "\n{last} agents ÷ {first} agents: selection {:.2}×, whole decision {:.2}×",
            selection_times[n].as_secs_f64() / selection_times[0].as_secs_f64(),
            engine_times[n].as_secs_f64() / engine_times[0].as_secs_f64()
        );
    }
}
