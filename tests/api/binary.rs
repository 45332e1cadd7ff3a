//! The `switchboard` binary as an operator runs it: `--help`, bad
//! settings, `healthcheck`, and a graceful stop on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USERNAME, base_mongo_url, fresh_db_name, spawn_app, start_unprepared,
    unreachable_database_settings, url_for_database,
};

fn switchboard(args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    // Only what the test sets: the developer's own settings must not leak in.
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .envs(vars.iter().copied());
    command
}

fn run(args: &[&str], vars: &[(&str, &str)]) -> Output {
    switchboard(args, vars).output().expect("the binary runs")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn help_documents_the_commands_and_every_setting_with_its_variable() {
    let out = run(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "healthcheck"] {
        assert!(help.contains(word), "{word} missing:\n{help}");
    }
    for setting in switchboard::config::documented_settings() {
        assert!(
            help.contains(&setting.variable) && help.contains(&setting.key),
            "{setting:?} missing:\n{help}"
        );
    }
    assert!(help.contains("RUST_LOG"), "{help}");
}

#[test]
fn a_bad_port_is_one_clear_line_naming_port() {
    let out = run(&[], &[("PORT", "eighty")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("PORT"), "{stderr}");
}

fn healthcheck(port: u16) -> Output {
    let port = port.to_string();
    run(
        &["healthcheck"],
        &[("PORT", port.as_str()), ("BIND_IP", "127.0.0.1")],
    )
}

#[tokio::test]
async fn healthcheck_exits_0_only_when_the_instance_is_ready() {
    let app = spawn_app().await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let ready = tokio::task::spawn_blocking(move || healthcheck(port))
        .await
        .unwrap();
    assert!(ready.status.success(), "{ready:?}");

    // Running, but its database does not answer: not ready.
    let address = start_unprepared(unreachable_database_settings()).await;
    let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
    let unready = tokio::task::spawn_blocking(move || healthcheck(port))
        .await
        .unwrap();
    assert_eq!(unready.status.code(), Some(1), "{unready:?}");

    // Nothing listening at all.
    let port = free_port();
    let down = tokio::task::spawn_blocking(move || healthcheck(port))
        .await
        .unwrap();
    assert_eq!(down.status.code(), Some(1), "{down:?}");
}

/// Kills the child if the test fails before it exits.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `switchboard serve` on `port` and a fresh database, with one worker and
/// a patient server selection (as in every test: a busy CI database must
/// not trip a bound), plus `extra`; answers once it is ready.
fn serve_on(port: u16, extra: &[(&str, &str)]) -> Running {
    let port_text = port.to_string();
    let mongo_url = url_for_database(&base_mongo_url(), &fresh_db_name());
    let mut vars = vec![
        ("MONGO_URL", mongo_url.as_str()),
        ("PORT", port_text.as_str()),
        ("BIND_IP", "127.0.0.1"),
        ("SWITCHBOARD_HTTP__WORKERS", "1"),
        ("SWITCHBOARD_HTTP__REQUEST_TIMEOUT_MS", "120000"),
        ("SWITCHBOARD_MONGO__SERVER_SELECTION_TIMEOUT_MS", "60000"),
    ];
    vars.extend_from_slice(extra);
    let child = switchboard(&["serve"], &vars)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let running = Running(child);
    wait_until_ready(port);
    running
}

/// The process's exit status, if it exits within `within`.
fn exit_within(running: &mut Running, within: Duration) -> Option<std::process::ExitStatus> {
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if let Some(status) = running.0.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn wait_until_ready(port: u16) {
    for _ in 0..600 {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the binary never became ready");
}

/// SIGTERM while a request is half sent: the server stops accepting new
/// connections, still answers the request in flight, closes MongoDB and
/// exits 0 — and its JSON logs carry request ids but no credentials.
#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let port = free_port();
    let mut running = serve_on(
        port,
        &[
            ("ADMIN_USERNAME", ADMIN_USERNAME),
            ("ADMIN_PASS", ADMIN_PASSWORD),
            ("SWITCHBOARD_LOG__FORMAT", "json"),
            ("RUST_LOG", "info"),
        ],
    );

    let body = format!(r#"{{"user":"{ADMIN_USERNAME}","password":"{ADMIN_PASSWORD}"}}"#);
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // `Expect: 100-continue`: the server's "100 Continue" proves the
    // request was accepted and parsed, so it is in flight when the signal
    // arrives.
    write!(
        slow,
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = slow.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    let (first, rest) = body.split_at(10);
    slow.write_all(first.as_bytes()).unwrap();
    slow.flush().unwrap();

    // SAFETY: plain kill(2) on our own child's pid.
    let pid = running.0.id() as libc::pid_t;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    // Wait until the server refuses new connections: it has begun stopping.
    let mut refused = false;
    for _ in 0..300 {
        if TcpStream::connect(("127.0.0.1", port)).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(refused, "still accepting connections after SIGTERM");

    let mut answer = String::new();
    if let Err(e) = slow
        .write_all(rest.as_bytes())
        .and_then(|()| slow.read_to_string(&mut answer).map(drop))
    {
        let _ = running.0.kill();
        let mut logs = String::new();
        let _ = running.0.stdout.take().unwrap().read_to_string(&mut logs);
        let _ = running.0.stderr.take().unwrap().read_to_string(&mut logs);
        panic!("{e}: {answer}\n{logs}");
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let token = answer
        .split("\"authToken\":\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("a token in the answer")
        .to_string();

    let status = exit_within(&mut running, Duration::from_secs(30))
        .expect("the process exits after its in-flight request");
    assert!(status.success(), "{status:?}");

    let mut logs = String::new();
    running
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    running
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(logs.contains("\"request_id\""), "{logs}");
    assert!(
        logs.lines()
            .all(|l| l.trim().is_empty() || l.starts_with('{')),
        "not JSON lines: {logs}"
    );
    assert!(
        !logs.contains(ADMIN_PASSWORD),
        "the password was logged: {logs}"
    );
    assert!(!logs.contains(&token), "the token was logged: {logs}");
}

/// SIGTERM with a widget connected on `/websocket`: the connection is
/// closed cleanly (1001, going away) at once, and the process exits long
/// before the shutdown grace a still-open connection would hold it for.
#[test]
fn sigterm_closes_live_connections_cleanly_and_exits_without_waiting_out_the_grace() {
    use tokio_tungstenite::tungstenite::{self, Message, protocol::frame::coding::CloseCode};
    let port = free_port();
    let mut running = serve_on(port, &[("SWITCHBOARD_HTTP__SHUTDOWN_GRACE_SECONDS", "30")]);
    let (mut socket, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}/websocket"))
        .expect("the upgrade is accepted");
    socket
        .send(Message::text(
            r#"{"msg":"connect","version":"1","support":["1"]}"#,
        ))
        .unwrap();
    let mut connected = false;
    while !connected {
        match socket.read().expect("a frame") {
            Message::Text(t) => connected = t.contains("\"connected\""),
            other => panic!("{other:?}"),
        }
    }
    let signalled = std::time::Instant::now();
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(
        unsafe { libc::kill(running.0.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let close = loop {
        match socket.read() {
            Ok(Message::Close(frame)) => break frame,
            Ok(_) => continue,
            Err(e) => panic!("no close frame: {e}"),
        }
    };
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Away));
    let status = exit_within(
        &mut running,
        Duration::from_secs(10).saturating_sub(signalled.elapsed()),
    )
    .expect("exits well within the 30 s grace");
    assert!(status.success(), "{status:?}");
}
