//! The widget's live connections (`scripts/bench.sh live`): how many idle
//! widget connections one instance holds within 64 MiB of extra memory,
//! and how long an assignment decided on one instance takes to reach a
//! visitor's socket on another.
//!
//! Idle connections: `BENCH_LIVE_CONNECTIONS` (default 4000) sockets to
//! one instance, each as a widget leaves it once its room is open:
//! connected, set up with its visitor token, subscribed to its room's
//! three streams. The instance's resident memory (VmRSS) is read before
//! and after; the cost of one connection is the difference over the count.
//!
//! Latency: `BENCH_LIVE_SAMPLES` (default 50) times, a visitor waits on
//! instance B for the department's only agent (limit 1); the agent's chat
//! is closed through instance A, which hands the agent to the waiting
//! chat; the time is from the assignment's `servedBy.ts` (stamped by the
//! deciding instance) to the `agentData` event read on B's socket. Both
//! run on this machine's one clock.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{SinkExt, StreamExt};
use mongodb::bson::{Document, doc};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{Creds, available_agent, call, field, memory_kib};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const BUDGET_MIB: f64 = 64.0;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> Option<u64> {
    memory_kib(pid, "VmRSS:")
}

async fn next_frame(socket: &mut Socket, within: Duration) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => bail!("no frame within {within:?}"),
            Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t)?),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => bail!("the socket ended: {other:?}"),
        }
    }
}

async fn send(socket: &mut Socket, frame: Value) -> Result<()> {
    Ok(socket.send(Message::text(frame.to_string())).await?)
}

/// A socket as the widget leaves it: connected, set up, subscribed to
/// its room's streams, every answer read.
async fn widget_socket(ws_url: &str, token: &str, rid: &str) -> Result<Socket> {
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await?;
    let wait = Duration::from_secs(30);
    next_frame(&mut socket, wait).await?; // server_id
    send(
        &mut socket,
        json!({"msg": "connect", "version": "1", "support": ["1"]}),
    )
    .await?;
    next_frame(&mut socket, wait).await?;
    send(
        &mut socket,
        json!({"msg": "method", "id": "1", "method": "livechat:setUpConnection",
                              "params": [{"token": token}]}),
    )
    .await?;
    next_frame(&mut socket, wait).await?; // result
    next_frame(&mut socket, wait).await?; // updated
    let options =
        json!({"useCollection": false, "args": [{"token": token, "visitorToken": token}]});
    for (id, stream, event) in [
        ("2", "stream-room-messages", rid.to_string()),
        ("3", "stream-notify-room", format!("{rid}/typing")),
        ("4", "stream-livechat-room", rid.to_string()),
    ] {
        send(
            &mut socket,
            json!({"msg": "sub", "id": id, "name": stream, "params": [event, options]}),
        )
        .await?;
        let ready = next_frame(&mut socket, wait).await?;
        if ready["msg"] != "ready" {
            bail!("subscription {stream} refused: {ready}");
        }
    }
    next_frame(&mut socket, wait).await?; // the room's state
    Ok(socket)
}

/// Registers a visitor in `department` and opens its room; answers the
/// room's id.
async fn visitor_room(
    http: &reqwest::Client,
    address: &str,
    token: &str,
    department: &str,
) -> Result<String> {
    call(
        http,
        &format!("{address}/api/v1/livechat/visitor"),
        None,
        json!({"visitor": {"token": token, "name": token, "department": department}}),
    )
    .await?;
    let room = http
        .get(format!("{address}/api/v1/livechat/room?token={token}"))
        .send()
        .await?
        .json::<Value>()
        .await?;
    field(&room, "/room/_id")
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

/// Runs both measurements on instances `a` and `b` (pid `b_pid`) and
/// prints the README's table.
pub async fn run(
    http: &reqwest::Client,
    db: &mongodb::Database,
    (a, b, b_pid): (&str, &str, u32),
    admin: &Creds,
) -> Result<()> {
    let ws_url = format!("{}/websocket", b.replacen("http://", "ws://", 1));
    // The department: one agent who takes one chat at a time.
    let agent = available_agent(http, a, admin, "live-agent").await?;
    let limited = http
        .put(format!("{a}/api/v1/livechat/users/agent/{agent}"))
        .header("X-User-Id", &admin.user_id)
        .header("X-Auth-Token", &admin.token)
        .json(&json!({"maxNumberSimultaneousChat": 1}))
        .send()
        .await?;
    if !limited.status().is_success() {
        bail!("setting the agent's limit: {}", limited.status());
    }
    let created = call(
        http,
        &format!("{a}/api/v1/livechat/department"),
        Some(admin),
        json!({"department": {"enabled": true, "showOnRegistration": true,
                              "showOnOfflineForm": true, "name": "live",
                              "email": "live@example.com"},
               "agents": [{"agentId": agent}]}),
    )
    .await?;
    let department = field(&created, "/department/_id")?;

    // Idle connections: all as one visitor, on its (served) room.
    let idle_rid = visitor_room(http, a, "idle-visitor", &department).await?;
    let count = env_number("BENCH_LIVE_CONNECTIONS", 4000);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(b_pid).context("the instance's RSS")?;
    let started = Instant::now();
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        sockets.push(widget_socket(&ws_url, "idle-visitor", &idle_rid).await?);
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(b_pid).context("the instance's RSS")?;
    let per_connection_kib = after.saturating_sub(before) as f64 / count as f64;
    let within_budget = (BUDGET_MIB * 1024.0 / per_connection_kib.max(0.001)) as u64;

    // Latency: the idle-visitor room holds the agent; each sample queues a
    // visitor on B, then closes the agent's chat through A.
    let samples = env_number("BENCH_LIVE_SAMPLES", 50);
    let mut holding = db
        .collection::<Document>("switchboard_assignments")
        .find_one(doc! {"roomId": &idle_rid, "status": "open"})
        .await?
        .context("the idle visitor's chat is served")?
        .get_str("_id")?
        .to_string();
    let mut from_assignment = Vec::new();
    let mut from_close_request = Vec::new();
    for n in 0..samples {
        let token = format!("waiting-{n}");
        let rid = visitor_room(http, b, &token, &department).await?;
        let mut socket = widget_socket(&ws_url, &token, &rid).await?;
        let closing = Instant::now();
        call(
            http,
            &format!("{a}/api/v1/livechat/assignments/{holding}/close"),
            Some(admin),
            json!({}),
        )
        .await?;
        loop {
            let frame = next_frame(&mut socket, Duration::from_secs(10)).await?;
            if frame["fields"]["args"][0]["type"] == "agentData" {
                break;
            }
        }
        let received = chrono::Utc::now();
        from_close_request.push(closing.elapsed().as_secs_f64() * 1000.0);
        let assignment = db
            .collection::<Document>("switchboard_assignments")
            .find_one(doc! {"roomId": &rid, "status": "open"})
            .await?
            .context("the waiting chat was served")?;
        let room = db
            .collection::<Document>("rocketchat_room")
            .find_one(doc! {"_id": &rid})
            .await?
            .context("the room")?;
        let served_at = room
            .get_document("servedBy")?
            .get_datetime("ts")?
            .to_chrono();
        from_assignment
            .push((received - served_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        holding = assignment.get_str("_id")?.to_string();
    }
    from_assignment.sort_by(f64::total_cmp);
    from_close_request.sort_by(f64::total_cmp);
    drop(sockets);

    println!();
    println!(
        "| idle widget connections | opened in | extra RSS | per connection | within 64 MiB |"
    );
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {count} | {:.1} s | {:.1} MiB | {:.1} KiB | ≈ {within_budget} |",
        opened_in.as_secs_f64(),
        after.saturating_sub(before) as f64 / 1024.0,
        per_connection_kib,
    );
    println!();
    println!(
        "| samples | assignment on A → agentData on B's socket: p50 | p99 | close request on A → event: p50 | p99 |"
    );
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {samples} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        percentile(&from_assignment, 0.5),
        percentile(&from_assignment, 0.99),
        percentile(&from_close_request, 0.5),
        percentile(&from_close_request, 0.99),
    );
    Ok(())
}
