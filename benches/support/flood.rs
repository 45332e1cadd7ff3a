//! A flood of subscription frames from one address (`scripts/bench.sh
//! flood`): whether it slows the other visitors of the instance.
//!
//! A visitor with an open room reads `livechat/config` with its token
//! (`BENCH_FLOOD_SAMPLES` times, default 150, one after the other) from
//! its own address (127.0.0.3, or .4 on the second instance): first on a quiet instance, then while 20
//! widget connections from 127.0.0.2 each send 40 `sub` frames a second
//! for random rooms (under the per-connection frame limit of 50, so
//! nothing closes them). The same is measured on an instance whose read
//! budget is lifted (`live.reads_per_second_per_address` = 1,000,000), in
//! the same run: the flood as it cost before the budget.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::{call, field, scrape};

const FLOODER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The visitor's address on each of the two instances: public calls are
/// limited per address over all instances (600 a minute by default).
const VISITORS: [Ipv4Addr; 2] = [Ipv4Addr::new(127, 0, 0, 3), Ipv4Addr::new(127, 0, 0, 4)];
const CONNECTIONS: usize = 20;
const SUBS_PER_SECOND: u64 = 40;

fn samples() -> usize {
    std::env::var("BENCH_FLOOD_SAMPLES")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(150)
}

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

/// The visitor's `livechat/config` latencies, in ms.
async fn config_latencies(http: &reqwest::Client, address: &str, token: &str) -> Result<Vec<f64>> {
    let mut ms = Vec::new();
    for _ in 0..samples() {
        let begun = Instant::now();
        let answer = http
            .get(format!("{address}/api/v1/livechat/config?token={token}"))
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("livechat/config answered {}", answer.status());
        }
        answer.bytes().await?;
        ms.push(begun.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(ms)
}

/// One flooding connection from [`FLOODER`], until `stop`; answers the
/// subscriptions it sent.
async fn flood_one(address: String, n: usize, stop: Arc<AtomicBool>) -> Result<u64> {
    let server: SocketAddr = address.trim_start_matches("http://").parse()?;
    let tcp = tokio::net::TcpSocket::new_v4()?;
    tcp.bind(SocketAddr::new(IpAddr::V4(FLOODER), 0))?;
    let stream = tcp.connect(server).await?;
    let url = format!("ws://{server}/websocket");
    let (socket, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await?;
    let (mut sink, mut frames) = socket.split();
    // Answers are read and dropped, so the server never waits on us.
    let reader = tokio::spawn(async move { while frames.next().await.is_some() {} });
    sink.send(Message::text(
        json!({"msg": "connect", "version": "1", "support": ["1"]}).to_string(),
    ))
    .await?;
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / SUBS_PER_SECOND));
    let mut sent = 0;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let options = json!({"useCollection": false, "args": [{"token": format!("flood-{n}")}]});
        let frame = json!({"msg": "sub", "id": format!("{n}-{sent}"), "name": "stream-livechat-room",
                           "params": [format!("room-{n}-{sent}"), options]});
        sink.send(Message::text(frame.to_string())).await?;
        sent += 1;
    }
    reader.abort();
    Ok(sent)
}

/// One row: the visitor's median on a quiet instance and under the flood,
/// and the database commands per second the instance sent meanwhile.
async fn measure(
    http: &reqwest::Client,
    visitor_http: &reqwest::Client,
    address: &str,
    token: &str,
) -> Result<(f64, f64, f64, f64)> {
    let addresses = [address.to_string()];
    let before = scrape(http, &addresses).await;
    let begun = Instant::now();
    let quiet = median(config_latencies(visitor_http, address, token).await?);
    let quiet_rate = super::delta(before.commands, scrape(http, &addresses).await.commands)
        .unwrap_or(0.0)
        / begun.elapsed().as_secs_f64();
    let stop = Arc::new(AtomicBool::new(false));
    let flooders: Vec<_> = (0..CONNECTIONS)
        .map(|n| tokio::spawn(flood_one(address.to_string(), n, stop.clone())))
        .collect();
    // Let the flood reach its rate before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = scrape(http, &addresses).await;
    let begun = Instant::now();
    let flooded = median(config_latencies(visitor_http, address, token).await?);
    let flood_rate = super::delta(before.commands, scrape(http, &addresses).await.commands)
        .unwrap_or(0.0)
        / begun.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        f.await??;
    }
    Ok((quiet, flooded, quiet_rate, flood_rate))
}

/// Runs the measurement on the `budgeted` instance and on the
/// `unbudgeted` one, and prints the README's table.
pub async fn run(
    http: &reqwest::Client,
    (budgeted, unbudgeted): (&str, &str),
    department: &str,
) -> Result<()> {
    println!();
    println!(
        "| instance | visitor's `livechat/config` p50, quiet | under the flood | × | database commands/s, quiet | under the flood |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for ((label, address), visitor) in [
        ("read budget 20/s per address (default)", budgeted),
        ("budget lifted (as before it)", unbudgeted),
    ]
    .into_iter()
    .zip(VISITORS)
    {
        let visitor_http = reqwest::Client::builder()
            .local_address(IpAddr::V4(visitor))
            .timeout(Duration::from_secs(30))
            .build()?;
        let token = format!("steady-{}", address.rsplit(':').next().unwrap_or("0"));
        call(
            http,
            &format!("{address}/api/v1/livechat/visitor"),
            None,
            json!({"visitor": {"token": &token, "name": &token, "department": department}}),
        )
        .await?;
        let room = visitor_http
            .get(format!("{address}/api/v1/livechat/room?token={token}"))
            .send()
            .await?
            .json::<serde_json::Value>()
            .await?;
        field(&room, "/room/_id")?;
        let (quiet, flooded, quiet_rate, flood_rate) =
            measure(http, &visitor_http, address, &token).await?;
        println!(
            "| {label} | {quiet:.1} ms | {flooded:.1} ms | {:.2}× | {quiet_rate:.0} | {flood_rate:.0} |",
            flooded / quiet
        );
    }
    println!(
        "\nReproduce: `scripts/bench.sh flood` ({CONNECTIONS} connections × {SUBS_PER_SECOND} subscriptions/s from one address, {} samples)",
        samples()
    );
    Ok(())
}
