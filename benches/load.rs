//! Load benchmark: `scripts/bench.sh load` (release build, local database).
//!
//! Three instances of the release binary share one fresh database, each on
//! default settings, with one department of five available agents. For each
//! client count (`BENCH_CLIENTS`, default 1,4,16,64) a fixed number of
//! routing decisions (`BENCH_DECISIONS` per count, at least twice the
//! clients) is sent as `POST /api/v1/livechat/assignments`, the clients
//! spread round-robin over the instances. Per client count it measures
//! throughput (2xx answers per second of wall time), p50/p99 latency,
//! failed answers, database commands per decision (from each instance's
//! `/metrics`) and peak memory: whether adding clients adds throughput or
//! only queueing, and at what cost in database work.
//!
//! With `BENCH_LIVE` set (`scripts/bench.sh live`) it measures the
//! widget's live connections instead: see `support/live.rs`; with
//! `BENCH_FLOOD` (`scripts/bench.sh flood`), what a flood of subscription
//! frames from one address costs other visitors: see `support/flood.rs`.
//!
//! The baseline, measured in the same run on the same database server, is
//! the bare driver doing the least-served pick itself: one
//! `findOneAndUpdate` on five link documents, from the same number of
//! clients. The machine's speed varies from run to run, so compare ratios
//! (against the baseline, against one client), not absolute figures.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

#[path = "support/flood.rs"]
mod flood;
#[path = "support/live.rs"]
mod live;
use mongodb::bson::{Document, doc};
use serde_json::{Value, json};

const INSTANCES: usize = 3;
const AGENTS: usize = 5;
const ADMIN_USERNAME: &str = "bench";
const ADMIN_PASSWORD: &str = "bench-password";
/// Well above the server's own 10 s request bound, so a slow answer is
/// measured as the server gives it; still bounds a hung connection.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Distinct failure bodies printed per client count.
const ERRORS_SHOWN: usize = 5;
/// The bearer token `/metrics` may require; passed to the instances too.
const METRICS_TOKEN_VAR: &str = "SWITCHBOARD_METRICS__TOKEN";
const COMMANDS_TOTAL: &str = "switchboard_mongodb_commands_total";
const DECISION_COMMANDS: &str = "switchboard_routing_decision_commands";

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

fn client_counts() -> Vec<usize> {
    std::env::var("BENCH_CLIENTS")
        .unwrap_or_else(|_| "1,4,16,64".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect()
}

fn configured_decisions() -> usize {
    std::env::var("BENCH_DECISIONS")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(256)
}

/// Decisions per client count: the same for every count, so the levels are
/// comparable, but at least two per client so every client is measured
/// beyond its first (connection-opening) request.
fn decisions_for(clients: usize) -> usize {
    configured_decisions().max(2 * clients)
}

fn metrics_token() -> Option<String> {
    std::env::var(METRICS_TOKEN_VAR)
        .ok()
        .filter(|t| !t.is_empty())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A memory figure (`VmHWM:`, `VmRSS:`) of a process, in KiB.
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    memory_kib(pid, "VmHWM:")
}

/// The running instances. Dropping it stops them, on every exit path
/// (errors and panics included), so no server outlives the benchmark.
struct Instances {
    children: Vec<Child>,
    addresses: Vec<String>,
    logs: Vec<PathBuf>,
}

impl Instances {
    /// The highest peak RSS of any instance so far, in MiB.
    fn peak_rss_mib(&self) -> Option<f64> {
        self.children
            .iter()
            .filter_map(|c| peak_rss_kib(c.id()))
            .max()
            .map(|k| k as f64 / 1024.0)
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        // SIGTERM first, so each instance closes its MongoDB client as in
        // production; SIGKILL whatever has not exited a few seconds later.
        for child in &self.children {
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                // SAFETY: kill(2) on our own child's pid has no memory effects.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for child in &mut self.children {
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An empty folder for `SWITCHBOARD_CONFIG_DIR`, so a developer's
/// `config/local.toml` cannot change the settings under test.
fn empty_config_dir() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("load-bench-no-config");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn spawn_instance(
    url: &str,
    port: u16,
    config_dir: &Path,
    log: &Path,
    extra_env: &[(&str, &str)],
) -> Result<Child> {
    let log_file = std::fs::File::create(log)?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    // A clean environment: default settings, whatever the caller exported.
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("MONGO_URL", url)
        .env("PORT", port.to_string())
        .env("BIND_IP", "127.0.0.1")
        .env("ADMIN_USERNAME", ADMIN_USERNAME)
        .env("ADMIN_PASS", ADMIN_PASSWORD)
        .env("ADMIN_EMAIL", "bench@example.com")
        .env("SWITCHBOARD_CONFIG_DIR", config_dir)
        .env("SWITCHBOARD_LOG__FORMAT", "json")
        // Every client of the benchmark shares one address.
        .env("SWITCHBOARD_LIVE__MAX_CONNECTIONS_PER_ADDRESS", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(log_file.try_clone()?))
        .stderr(Stdio::from(log_file));
    if let Some(token) = metrics_token() {
        command.env(METRICS_TOKEN_VAR, token);
    }
    command.envs(extra_env.iter().copied());
    command.spawn().context("starting the release binary")
}

async fn wait_ready(http: &reqwest::Client, address: &str, child: &mut Child) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("the instance at {address} exited at start-up ({status})");
        }
        let ready = http.get(format!("{address}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{address}/readyz did not answer 200 within 60 s")
}

/// Starts the instances one after the other: the first creates the admin
/// on the empty database, and starting together would race on it.
async fn start_instances(url: &str, http: &reqwest::Client) -> Result<Instances> {
    let config_dir = empty_config_dir()?;
    let mut instances = Instances {
        children: Vec::new(),
        addresses: Vec::new(),
        logs: Vec::new(),
    };
    for n in 0..INSTANCES {
        let port = free_port()?;
        let address = format!("http://127.0.0.1:{port}");
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("load-instance-{n}.log"));
        // The flood benchmark compares the last instance, its read budget
        // lifted, with the others.
        let extra: &[(&str, &str)] = match std::env::var_os("BENCH_FLOOD") {
            Some(_) if n == INSTANCES - 1 => {
                &[("SWITCHBOARD_LIVE__READS_PER_SECOND_PER_ADDRESS", "1000000")]
            }
            _ => &[],
        };
        instances
            .children
            .push(spawn_instance(url, port, &config_dir, &log, extra)?);
        instances.logs.push(log.clone());
        let child = instances.children.last_mut().expect("just pushed");
        wait_ready(http, &address, child)
            .await
            .with_context(|| format!("see {}", log.display()))?;
        instances.addresses.push(address);
    }
    Ok(instances)
}

/// `X-User-Id` and `X-Auth-Token` of a logged-in user.
#[derive(Clone)]
struct Creds {
    user_id: String,
    token: String,
}

/// A JSON call that must answer 2xx; returns the body.
async fn call(
    http: &reqwest::Client,
    url: &str,
    creds: Option<&Creds>,
    body: Value,
) -> Result<Value> {
    let mut request = http.post(url).json(&body);
    if let Some(c) = creds {
        request = request
            .header("X-User-Id", &c.user_id)
            .header("X-Auth-Token", &c.token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("POST {url}: {status} {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("POST {url}: not JSON: {text}"))
}

fn field(body: &Value, pointer: &str) -> Result<String> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .with_context(|| format!("no {pointer} in {body}"))
}

async fn login(http: &reqwest::Client, address: &str, user: &str, password: &str) -> Result<Creds> {
    let body = call(
        http,
        &format!("{address}/api/v1/login"),
        None,
        json!({"user": user, "password": password}),
    )
    .await?;
    Ok(Creds {
        user_id: field(&body, "/data/userId")?,
        token: field(&body, "/data/authToken")?,
    })
}

/// An agent that is online and available, with no chat limit of its own.
async fn available_agent(
    http: &reqwest::Client,
    address: &str,
    admin: &Creds,
    username: &str,
) -> Result<String> {
    let password = format!("{username}-password");
    let created = call(
        http,
        &format!("{address}/api/v1/users.create"),
        Some(admin),
        json!({"username": username, "name": username, "password": password,
               "email": format!("{username}@example.com"),
               "roles": ["user", "livechat-agent"]}),
    )
    .await?;
    let id = field(&created, "/user/_id")?;
    // Only the agent itself sets its presence and livechat status.
    let agent = login(http, address, username, &password).await?;
    call(
        http,
        &format!("{address}/api/v1/users.setStatus"),
        Some(&agent),
        json!({"status": "online"}),
    )
    .await?;
    call(
        http,
        &format!("{address}/api/v1/livechat/agent.status"),
        Some(&agent),
        json!({"status": "available"}),
    )
    .await?;
    Ok(id)
}

/// Seeds the agents and their department; returns the department's id.
async fn seed(http: &reqwest::Client, address: &str, admin: &Creds) -> Result<String> {
    let mut agents = Vec::new();
    for n in 0..AGENTS {
        let id = available_agent(http, address, admin, &format!("agent{n}")).await?;
        agents.push(json!({"agentId": id}));
    }
    let created = call(
        http,
        &format!("{address}/api/v1/livechat/department"),
        Some(admin),
        json!({"department": {"enabled": true, "showOnRegistration": true,
                              "showOnOfflineForm": true, "name": "load",
                              "email": "load@example.com"},
               "agents": agents}),
    )
    .await?;
    field(&created, "/department/_id")
}

/// What one client count measured: each operation's latency, and why
/// each failed one failed.
struct Outcome {
    wall: Duration,
    latencies: Vec<Duration>,
    failures: Vec<String>,
}

impl Outcome {
    /// Successful operations per second: a request abandoned with a 503
    /// was not served, so it must not count as throughput.
    fn throughput(&self) -> f64 {
        (self.latencies.len() - self.failures.len()) as f64 / self.wall.as_secs_f64()
    }

    /// Nearest-rank percentile over every answer, failed ones included (a
    /// 503 after the 10 s bound is what that client waited), in milliseconds.
    fn percentile_ms(&self, q: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1e3
    }

    /// The first few distinct failure bodies, with how often each came.
    fn print_failures(&self, label: &str) {
        if self.failures.is_empty() {
            return;
        }
        let mut seen: Vec<(&str, usize)> = Vec::new();
        let mut others = 0;
        for failure in &self.failures {
            if let Some(entry) = seen.iter_mut().find(|(f, _)| *f == failure.as_str()) {
                entry.1 += 1;
            } else if seen.len() < ERRORS_SHOWN {
                seen.push((failure, 1));
            } else {
                others += 1;
            }
        }
        eprintln!("{label}: {} failed", self.failures.len());
        for (failure, count) in seen {
            eprintln!("  {count}× {failure}");
        }
        if others > 0 {
            eprintln!("  {others}× other answers");
        }
    }
}

/// Runs `total` operations from `clients` concurrent tasks, each taking
/// the next operation as soon as its previous one is answered. `op(client,
/// index)` answers `Err(why)` for a failure.
async fn drive<F, Fut>(clients: usize, total: usize, op: F) -> Outcome
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (next, op) = (next.clone(), op.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= total {
                        return done;
                    }
                    let begun = Instant::now();
                    let result = op(client, index).await;
                    done.push((begun.elapsed(), result.err()));
                }
            })
        })
        .collect();
    let mut outcome = Outcome {
        wall: Duration::ZERO,
        latencies: Vec::with_capacity(total),
        failures: Vec::new(),
    };
    for task in futures::future::join_all(tasks).await {
        for (latency, failure) in task.expect("a client task panicked") {
            outcome.latencies.push(latency);
            outcome.failures.extend(failure);
        }
    }
    outcome.wall = start.elapsed();
    outcome
}

fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        // Drop idle connections well before the server's 5 s keep-alive
        // closes them: a request sent on a connection the server is closing
        // at that instant fails with IncompleteMessage.
        .pool_idle_timeout(Duration::from_secs(1))
        .build()?)
}

/// One routing decision per operation, client `c` on instance `c % 3`,
/// each client with its own keep-alive connection.
async fn switchboard_level(
    addresses: &[String],
    admin: &Creds,
    department: &str,
    clients: usize,
    decisions: usize,
) -> Result<Outcome> {
    let https = (0..clients)
        .map(|_| http_client())
        .collect::<Result<Vec<_>>>()?;
    let targets: Vec<String> = (0..clients)
        .map(|c| {
            format!(
                "{}/api/v1/livechat/assignments",
                addresses[c % addresses.len()]
            )
        })
        .collect();
    let (admin, department) = (admin.clone(), department.to_string());
    Ok(drive(clients, decisions, move |client, index| {
        let request = https[client]
            .post(&targets[client])
            .header("X-User-Id", &admin.user_id)
            .header("X-Auth-Token", &admin.token)
            .json(&json!({"visitorToken": format!("load-{clients}-{index}"),
                          "departmentId": department}));
        async move {
            let response = request
                .send()
                .await
                .map_err(|e| format!("no answer: {e}"))?;
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            if status.is_success() {
                Ok(())
            } else {
                Err(format!(
                    "{status} {}",
                    body.chars().take(300).collect::<String>()
                ))
            }
        }
    })
    .await)
}

async fn seed_baseline(db: &mongodb::Database) -> Result<mongodb::Collection<Document>> {
    let links = db.collection::<Document>("load_baseline_links");
    let docs: Vec<Document> = (0..AGENTS)
        .map(|n| doc! {"departmentId": "dept", "agentId": format!("a{n}"), "count": 0_i64, "order": 0_i64})
        .collect();
    links.insert_many(docs).await?;
    // Indexed as a real links collection would be for this pick.
    links
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! {"departmentId": 1, "count": 1, "order": 1})
                .build(),
        )
        .await?;
    Ok(links)
}

/// The least-served pick by the bare driver: one `findOneAndUpdate` per
/// operation, every client a task sharing one `mongodb::Client` (and its
/// default connection pool), as an application instance would.
async fn baseline_level(
    links: &mongodb::Collection<Document>,
    clients: usize,
    operations: usize,
) -> Outcome {
    let links = links.clone();
    drive(clients, operations, move |_, _| {
        let links = links.clone();
        async move {
            links
                .find_one_and_update(doc! {"departmentId": "dept"}, doc! {"$inc": {"count": 1}})
                .sort(doc! {"count": 1, "order": 1})
                .await
                .map_err(|e| e.to_string())?
                .map(drop)
                .ok_or_else(|| "no link".to_string())
        }
    })
    .await
}

/// The counters `/metrics` exposes that this benchmark reads, summed over
/// the label sets; `None` when the family is not exposed.
#[derive(Clone, Copy, Default)]
struct Counters {
    commands: Option<f64>,
    decision_sum: Option<f64>,
    decision_count: Option<f64>,
}

fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Counters {
    fn parse(text: &str) -> Counters {
        let mut out = Counters::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            let Some(value) = line
                .split_whitespace()
                .last()
                .and_then(|v| v.parse::<f64>().ok())
            else {
                continue;
            };
            let slot = match name.strip_prefix(DECISION_COMMANDS) {
                Some("_sum") => &mut out.decision_sum,
                Some("_count") => &mut out.decision_count,
                _ if name == COMMANDS_TOTAL => &mut out.commands,
                _ => continue,
            };
            *slot = add(*slot, Some(value));
        }
        out
    }

    fn plus(self, other: Counters) -> Counters {
        Counters {
            commands: add(self.commands, other.commands),
            decision_sum: add(self.decision_sum, other.decision_sum),
            decision_count: add(self.decision_count, other.decision_count),
        }
    }
}

/// Every instance's counters, summed. A failed scrape counts as absent
/// (the column then reads n/a) rather than ending the run.
async fn scrape(http: &reqwest::Client, addresses: &[String]) -> Counters {
    let mut total = Counters::default();
    for address in addresses {
        let mut request = http.get(format!("{address}/metrics"));
        if let Some(token) = metrics_token() {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => {
                total = total.plus(Counters::parse(&r.text().await.unwrap_or_default()));
            }
            Ok(r) => eprintln!("{address}/metrics answered {}", r.status()),
            Err(e) => eprintln!("{address}/metrics: {e}"),
        }
    }
    total
}

/// `after - before`, a counter absent before counting from 0 (a labelled
/// counter appears at its first increment).
fn delta(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    after.map(|a| a - before.unwrap_or(0.0))
}

/// Database commands per decision: (within the decision, all commands).
fn commands_per_decision(before: Counters, after: Counters, decisions: usize) -> String {
    let within = match (
        delta(before.decision_sum, after.decision_sum),
        delta(before.decision_count, after.decision_count),
    ) {
        (Some(sum), Some(count)) if count > 0.0 => format!("{:.1}", sum / count),
        _ => "n/a".into(),
    };
    let all = delta(before.commands, after.commands)
        .map(|c| format!("{:.1}", c / decisions as f64))
        .unwrap_or_else(|| "n/a".into());
    format!("{within} / {all}")
}

/// One table row's figures.
struct Row {
    clients: usize,
    baseline: Outcome,
    switchboard: Outcome,
    commands: String,
    rss_mib: Option<f64>,
}

fn print_table(rows: &[Row], decisions: &[usize]) {
    println!(
        "| clients | decisions | baseline findOneAndUpdate/s (p50 / p99) | Switchboard decisions/s (2xx) | ÷ baseline | ÷ Switchboard at 1 client | p50 | p99 | non-2xx | DB commands per decision (in the decision / all) | peak RSS (max of 3) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let first = rows.first().map(|r| r.switchboard.throughput());
    for (row, n) in rows.iter().zip(decisions) {
        let sb = &row.switchboard;
        let against_one = match (first, rows.first()) {
            (Some(t), Some(r)) if r.clients == 1 => format!("{:.2}×", sb.throughput() / t),
            _ => "n/a".into(),
        };
        println!(
            "| {} | {n} | {:.0} ({:.1} / {:.1} ms) | {:.1} | {:.2}× | {against_one} | {:.1} ms | {:.1} ms | {} | {} | {} |",
            row.clients,
            row.baseline.throughput(),
            row.baseline.percentile_ms(0.5),
            row.baseline.percentile_ms(0.99),
            sb.throughput(),
            sb.throughput() / row.baseline.throughput(),
            sb.percentile_ms(0.5),
            sb.percentile_ms(0.99),
            sb.failures.len(),
            row.commands,
            row.rss_mib
                .map(|m| format!("{m:.1} MiB"))
                .unwrap_or_else(|| "?".into()),
        );
    }
}

async fn run(url: &str, db: &mongodb::Database) -> Result<()> {
    let http = http_client()?;
    let instances = start_instances(url, &http).await?;
    let first = &instances.addresses[0];
    let admin = login(&http, first, ADMIN_USERNAME, ADMIN_PASSWORD).await?;
    if std::env::var_os("BENCH_LIVE").is_some() {
        let b = (&instances.addresses[1], instances.children[1].id());
        return live::run(&http, db, (first, b.0, b.1), &admin).await;
    }
    let department = seed(&http, first, &admin).await?;
    if std::env::var_os("BENCH_FLOOD").is_some() {
        let last = &instances.addresses[INSTANCES - 1];
        return flood::run(&http, (first, last), &department).await;
    }
    // One decision per instance first, so connection pools and caches are
    // warm and every metric family exists before the first measurement.
    for (n, address) in instances.addresses.iter().enumerate() {
        call(
            &http,
            &format!("{address}/api/v1/livechat/assignments"),
            Some(&admin),
            json!({"visitorToken": format!("warm-up-{n}"), "departmentId": department}),
        )
        .await?;
    }
    let links = seed_baseline(db).await?;
    let counts = client_counts();
    let decisions: Vec<usize> = counts.iter().map(|&c| decisions_for(c)).collect();
    let mut rows = Vec::new();
    for (&clients, &n) in counts.iter().zip(&decisions) {
        eprintln!("{clients} clients, {n} operations each: baseline, then Switchboard");
        let baseline = baseline_level(&links, clients, n).await;
        baseline.print_failures(&format!("baseline at {clients} clients"));
        let before = scrape(&http, &instances.addresses).await;
        let switchboard =
            switchboard_level(&instances.addresses, &admin, &department, clients, n).await?;
        let after = scrape(&http, &instances.addresses).await;
        switchboard.print_failures(&format!("Switchboard at {clients} clients"));
        rows.push(Row {
            clients,
            baseline,
            switchboard,
            commands: commands_per_decision(before, after, n),
            rss_mib: instances.peak_rss_mib(),
        });
    }
    println!();
    print_table(&rows, &decisions);
    println!(
        "\nReproduce: `scripts/bench.sh load` (BENCH_CLIENTS={}, BENCH_DECISIONS={}; {INSTANCES} instances, {AGENTS} agents, default settings)",
        counts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
        configured_decisions(),
    );
    eprintln!(
        "instance logs: {}",
        instances
            .logs
            .iter()
            .map(|l| l.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let base = std::env::var("MONGO_URL").context("MONGO_URL (run scripts/bench.sh load)")?;
    let db_name = format!("bench_load_{}", std::process::id());
    let url = url_for(&base, &db_name);
    let mongo = mongodb::Client::with_uri_str(&url).await?;
    let db = mongo.database(&db_name);
    // The instances stop when `run` returns (its guard drops), whatever
    // the outcome; the database goes after them.
    let result = run(&url, &db).await;
    if let Err(e) = db.drop().await {
        eprintln!("dropping database {db_name}: {e}");
    }
    result
}
