//! Crash-safe decisions and closes. Each write of a decision and of a
//! close is failed in turn with the server's `failCommand` fail point
//! (aimed at one instance by its `appName`), a write is delayed past the
//! request bound, and an instance is killed while it places waiting chats.
//! After the repair bound: every agent's reserved slots equal its open
//! chats, every link's `count` grew by exactly the chats routed to it, and
//! no chat waits while an agent of its department has room.

use std::time::Duration;

use mongodb::bson::doc;
use serde_json::{Value, json};

use crate::helpers::{TestApp, all, fresh_db_name, number, spawn_instance, test_settings};

/// Settings of an instance whose commands a fail point can single out,
/// repairing within a second, at the service's default request bound
/// (the default settings' own).
pub(crate) fn faulty_settings(db_name: &str, app_name: &str) -> switchboard::config::Settings {
    let mut s = test_settings(db_name);
    s.mongo_url = format!("{}?appName={app_name}", s.mongo_url);
    // The repair judges a reservation once it is this old, and fences off
    // a decision still running if it has not recorded by then (the
    // decision answers 503). On a loaded two-core machine a decision takes
    // over a second from its reservation to its record: the default is 15 s.
    s.routing.repair_after_ms = 3_000;
    s.routing.repair_interval_ms = 100;
    s.routing.queue_interval_ms = 100;
    s
}

/// The server has one `failCommand` fail point: arming it replaces what
/// another test armed, and disarming it disarms theirs. The tests that arm
/// it take turns (the rest of the suite still runs beside them).
pub(crate) static FAIL_POINT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How often a case is tried: the instance's own background work (a repair
/// pass finishing the previous case) may meet the fail point before the
/// request does, and then the request goes through whole.
const TRIES: usize = 5;

/// Arms `failCommand` for `app_name`'s next matching commands: skips
/// `skip` of them, then fails one (with `errorCode`) or, with `block_ms`,
/// delays one.
async fn arm(app: &TestApp, app_name: &str, command: &str, skip: u32, block_ms: Option<u64>) {
    arm_for(app, app_name, command, skip, 1, block_ms).await
}

/// As [`arm`], for `times` commands in a row.
pub(crate) async fn arm_for(
    app: &TestApp,
    app_name: &str,
    command: &str,
    skip: u32,
    times: u32,
    block_ms: Option<u64>,
) {
    // A repair pass still finishing what the previous case left (placing a
    // chat it freed room for) must not meet the fail point meant for the
    // next request: the instance repairs every 100 ms.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut data = doc! {"failCommands": [command], "appName": app_name};
    match block_ms {
        Some(ms) => {
            data.insert("blockConnection", true);
            data.insert("blockTimeMS", ms as i64);
        }
        None => {
            data.insert("errorCode", 2);
        }
    }
    app.db
        .client()
        .database("admin")
        .run_command(doc! {
            "configureFailPoint": "failCommand",
            "mode": {"skip": skip, "times": times},
            "data": data,
        })
        .await
        .expect("the server runs with --enable-test-commands");
}

pub(crate) async fn disarm(app: &TestApp) {
    app.db
        .client()
        .database("admin")
        .run_command(doc! {"configureFailPoint": "failCommand", "mode": "off"})
        .await
        .unwrap();
}

/// The invariants, as a description of the first one broken.
async fn invariants(app: &TestApp, department: &str, agents: &[&str]) -> Result<(), String> {
    let assignments = all(app, "switchboard_assignments", doc! {}).await;
    let routed_to = |agent: &str| {
        assignments
            .iter()
            .filter(|a| a.get_str("agentId") == Ok(agent))
            .filter(|a| {
                matches!(
                    a.get_str("status"),
                    Ok("open") | Ok("offered") | Ok("closed")
                )
            })
            .count() as i64
    };
    // An offered chat holds its slot like an open one.
    let open_of = |agent: &str| {
        assignments
            .iter()
            .filter(|a| a.get_str("agentId") == Ok(agent))
            .filter(|a| matches!(a.get_str("status"), Ok("open") | Ok("offered")))
            .count() as i64
    };
    let mut room = false;
    for agent in agents {
        let user = app.stored("users", agent).await.unwrap();
        let reserved = number(&user, "openLivechats");
        if reserved != open_of(agent) {
            return Err(format!(
                "{agent}: {reserved} slots reserved for {} open chats",
                open_of(agent)
            ));
        }
        let link = app.stored_link(department, agent).await;
        if number(&link, "openChats") != open_of(agent) {
            return Err(format!("{agent}: link openChats {link:?}"));
        }
        if number(&link, "count") != routed_to(agent) {
            return Err(format!(
                "{agent}: count {} for {} chats routed",
                number(&link, "count"),
                routed_to(agent)
            ));
        }
        let limit = user
            .get_document("livechat")
            .map(|l| number(l, "maxNumberSimultaneousChat"))
            .unwrap_or(0);
        let available = user.get_str("statusLivechat") == Ok("available");
        room |= available && (limit == 0 || reserved < limit);
    }
    let queued = assignments
        .iter()
        .filter(|a| a.get_str("status") == Ok("queued"))
        .count();
    if room && queued > 0 {
        return Err(format!("{queued} chats wait while an agent has room"));
    }
    Ok(())
}

/// Waits for the repair: the invariants hold within a bound far inside
/// the 60 s the service promises (the test instance repairs every 100 ms).
pub(crate) async fn repaired(app: &TestApp, department: &str, agents: &[&str]) {
    let mut last = String::new();
    for _ in 0..300 {
        match invariants(app, department, agents).await {
            Ok(()) => return,
            Err(seen) => last = seen,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the repair never restored the invariants: {last}");
}

async fn post_route(app: &TestApp, visitor: &str, department: &str) -> (u16, Value) {
    let a = app
        .post(
            "/api/v1/livechat/assignments",
            &app.admin,
            json!({"visitorToken": visitor, "departmentId": department}),
        )
        .await;
    (a.status, a.body)
}

async fn post_close(app: &TestApp, id: &str) -> u16 {
    app.post(
        &format!("/api/v1/livechat/assignments/{id}/close"),
        &app.admin,
        json!({}),
    )
    .await
    .status
}

/// Closes every open chat, through the API, so each case starts with Ann free.
async fn close_all(app: &TestApp) {
    for a in all(
        app,
        "switchboard_assignments",
        doc! {"status": {"$in": ["open", "offered", "queued"]}},
    )
    .await
    {
        assert_eq!(post_close(app, a.get_str("_id").unwrap()).await, 200);
    }
}

#[tokio::test]
async fn a_decision_or_close_failing_at_any_write_leaks_no_slot_and_no_count() {
    let _turn = FAIL_POINT.lock().await;
    let db_name = fresh_db_name();
    let app_name = format!("fault-{db_name}");
    let app = spawn_instance(faulty_settings(&db_name, &app_name)).await;
    let (ann, _) = app.available_agent("ann").await;
    app.set_limit(&ann, 1).await;
    let sales = app.department_with("sales", &[(&ann, Some(0), None)]).await;

    // A decision's writes, in order: the take of the link and the
    // reservation on the agent (findAndModify), the load published on the
    // links (update), the record (insert).
    let decision_steps = [
        ("findAndModify", 0, "take"),
        ("findAndModify", 1, "reservation"),
        ("update", 0, "published load"),
        ("insert", 0, "record"),
    ];
    for (i, (command, skip, step)) in decision_steps.into_iter().enumerate() {
        let mut answered = Vec::new();
        for attempt in 0..TRIES {
            arm(&app, &app_name, command, skip, None).await;
            let (status, body) = post_route(&app, &format!("d{i}-{attempt}"), &sales).await;
            disarm(&app).await;
            if status >= 500 {
                answered.clear();
                break;
            }
            // The instance's own background work met the fail point first:
            // the chat was routed whole. Free Ann and try again.
            assert_eq!(status, 200, "{step}: {body:?}");
            answered.push(body);
            close_all(&app).await;
            repaired(&app, &sales, &[&ann]).await;
        }
        assert!(
            answered.len() < TRIES,
            "{step}: the failed write never met the decision: {answered:?}"
        );
        repaired(&app, &sales, &[&ann]).await;
        // Ann takes the next chat: nothing of the failed one holds her slot.
        let (status, body) = post_route(&app, &format!("after-d{i}"), &sales).await;
        assert_eq!(status, 200, "{step}: {body:?}");
        let placed = body["assignment"]["status"] == "open"
            || wait_open(&app, body["assignment"]["_id"].as_str().unwrap()).await;
        assert!(placed, "{step}: the next chat never reached Ann");
        close_all(&app).await;
        repaired(&app, &sales, &[&ann]).await;
    }

    // A close's writes, in order: the record (findAndModify), the link's
    // slot (update), the agent's slot (findAndModify), the published load
    // (update).
    let close_steps = [
        ("findAndModify", 0, "record"),
        ("update", 0, "link release"),
        ("findAndModify", 1, "agent release"),
        ("update", 1, "published load"),
    ];
    for (i, (command, skip, step)) in close_steps.into_iter().enumerate() {
        let mut failed_close = None;
        for attempt in 0..TRIES {
            let (status, body) = post_route(&app, &format!("c{i}-{attempt}"), &sales).await;
            assert_eq!(status, 200, "{body:?}");
            assert_eq!(body["assignment"]["status"], "open", "{step}: {body:?}");
            let id = body["assignment"]["_id"].as_str().unwrap().to_string();
            arm(&app, &app_name, command, skip, None).await;
            let status = post_close(&app, &id).await;
            disarm(&app).await;
            if status >= 500 {
                failed_close = Some(id);
                break;
            }
            // The instance's own background work met the fail point first.
            assert_eq!(status, 200, "{step}");
            repaired(&app, &sales, &[&ann]).await;
        }
        let id =
            failed_close.unwrap_or_else(|| panic!("{step}: the failed write never met the close"));
        // Closing again finishes it, or finds it closed.
        assert_eq!(post_close(&app, &id).await, 200, "{step}");
        repaired(&app, &sales, &[&ann]).await;
        let (status, body) = post_route(&app, &format!("after-c{i}"), &sales).await;
        assert_eq!(status, 200, "{step}: {body:?}");
        let placed = body["assignment"]["status"] == "open"
            || wait_open(&app, body["assignment"]["_id"].as_str().unwrap()).await;
        assert!(placed, "{step}: the next chat never reached Ann");
        close_all(&app).await;
        repaired(&app, &sales, &[&ann]).await;
    }

    // A record delayed past the request bound: the decision gives up in
    // time, answers 503, and the late write cannot land.
    arm(&app, &app_name, "insert", 0, Some(12_000)).await;
    let (status, body) = post_route(&app, "late", &sales).await;
    assert_eq!(status, 503, "{body:?}");
    assert_eq!(body["errorType"], "error-service-unavailable", "{body:?}");
    // Past the moment the delayed write reaches the server.
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    repaired(&app, &sales, &[&ann]).await;
    let live = all(
        &app,
        "switchboard_assignments",
        doc! {"visitorToken": "late", "status": {"$in": ["open", "queued"]}},
    )
    .await;
    assert!(
        live.is_empty(),
        "a chat answered 503 was recorded: {live:?}"
    );
    let (status, body) = post_route(&app, "after-late", &sales).await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body["assignment"]["username"], "ann", "{body:?}");
    repaired(&app, &sales, &[&ann]).await;
}

#[tokio::test]
async fn a_burst_failing_at_any_write_of_its_batches_leaks_no_slot_and_no_count() {
    let _turn = FAIL_POINT.lock().await;
    let db_name = fresh_db_name();
    let app_name = format!("fault-{db_name}");
    let app = spawn_instance(faulty_settings(&db_name, &app_name)).await;
    let mut agents = Vec::new();
    for name in ["ann", "bob", "cid"] {
        agents.push(app.available_agent(name).await.0);
    }
    let links: Vec<(&str, Option<i64>, Option<i64>)> =
        agents.iter().map(|a| (a.as_str(), Some(0), None)).collect();
    let sales = app.department_with("sales", &links).await;
    let agents: Vec<&str> = agents.iter().map(String::as_str).collect();

    let mut failed = 0;
    // Decisions that wait for their department's turn are taken together:
    // the takes in one `update`, the reservations in the next, the records
    // in one `insert`. A burst meets each failure in turn.
    for (case, (command, skip)) in [("update", 0), ("update", 1), ("insert", 0), ("insert", 1)]
        .into_iter()
        .enumerate()
    {
        arm(&app, &app_name, command, skip, None).await;
        let calls = (0..12).map(|i| {
            let (app, sales) = (&app, &sales);
            async move { post_route(app, &format!("burst{case}-{i}"), sales).await }
        });
        let answers = futures::future::join_all(calls).await;
        disarm(&app).await;
        failed += answers.iter().filter(|(status, _)| *status >= 500).count();
        for (status, body) in &answers {
            assert!(
                *status == 200 || *status >= 500,
                "{command} #{skip}: {status} {body:?}"
            );
            if *status == 200 {
                // A chat answered as routed exists as answered.
                let id = body["assignment"]["_id"].as_str().unwrap();
                let stored = app.stored("switchboard_assignments", id).await;
                assert_eq!(
                    stored.and_then(|a| a.get_str("status").ok().map(str::to_string)),
                    body["assignment"]["status"].as_str().map(str::to_string),
                    "{command} #{skip}: {body:?}"
                );
            }
        }
        repaired(&app, &sales, &agents).await;
        close_all(&app).await;
        repaired(&app, &sales, &agents).await;
    }
    assert!(failed > 0, "the fail points never met a decision");
}

#[tokio::test]
async fn a_decline_failing_at_any_write_leaks_no_slot_and_no_count() {
    let db_name = fresh_db_name();
    let app_name = format!("fault-{db_name}");
    let mut settings = faulty_settings(&db_name, &app_name);
    // No sweep competing for the fail point: the repair alone places
    // what a failed decline left waiting.
    settings.routing.queue_interval_ms = 0;
    let app = spawn_instance(settings).await;
    let (ann, _) = app.available_agent("ann").await;
    let (bob, _) = app.available_agent("bob").await;
    app.set_limit(&ann, 1).await;
    app.set_limit(&bob, 1).await;
    // Ann is first in line and accepts by hand.
    let sales = app
        .department_with(
            "sales",
            &[(&ann, Some(0), Some(0)), (&bob, Some(0), Some(1))],
        )
        .await;
    let a = app
        .put(
            "/api/v1/livechat/autoDistributionConfig",
            &app.admin,
            json!({"agentAutoDistributionConfigs": [{"agentId": ann, "ifAutoAcceptChat": false}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);

    // A decline's writes, in order: the offer taken back (findAndModify),
    // the link's slot (update), the agent's slot (findAndModify).
    let steps = [
        ("findAndModify", 0, "offer taken back"),
        ("update", 0, "link release"),
        ("findAndModify", 1, "agent release"),
    ];
    for (i, (command, skip, step)) in steps.into_iter().enumerate() {
        let mut declined = None;
        for attempt in 0..TRIES {
            let (status, body) = post_route(&app, &format!("o{i}-{attempt}"), &sales).await;
            assert_eq!(status, 200, "{body:?}");
            assert_eq!(body["assignment"]["status"], "offered", "{step}: {body:?}");
            let id = body["assignment"]["_id"].as_str().unwrap().to_string();
            let decline = format!("/api/v1/livechat/assignments/{id}/decline");
            arm(&app, &app_name, command, skip, None).await;
            let failed = app.post(&decline, &app.admin, json!({})).await;
            disarm(&app).await;
            if failed.status >= 500 {
                declined = Some((id, decline));
                break;
            }
            // The instance's own background work met the fail point first:
            // the decline went through whole. Free both agents and retry.
            assert_eq!(failed.status, 200, "{step}: {failed:?}");
            close_all(&app).await;
            repaired(&app, &sales, &[&ann, &bob]).await;
        }
        let (id, decline) =
            declined.unwrap_or_else(|| panic!("{step}: the failed write never met the decline"));
        // Declining again finishes it, or finds it declined.
        let again = app.post(&decline, &app.admin, json!({})).await;
        assert!(
            again.status == 200 || again.status == 400,
            "{step}: {again:?}"
        );
        repaired(&app, &sales, &[&ann, &bob]).await;
        // The chat reached Bob, once; Ann holds nothing for it.
        assert!(
            wait_open(&app, &id).await,
            "{step}: the chat never reached Bob"
        );
        let chat = app.stored("switchboard_assignments", &id).await.unwrap();
        assert_eq!(chat.get_str("agentId"), Ok(bob.as_str()), "{step}");
        close_all(&app).await;
        repaired(&app, &sales, &[&ann, &bob]).await;
    }
}

/// Whether the assignment becomes open within a few seconds (it waited in
/// the queue until the repair freed a slot).
async fn wait_open(app: &TestApp, id: &str) -> bool {
    for _ in 0..100 {
        let a = app.stored("switchboard_assignments", id).await.unwrap();
        if a.get_str("status") == Ok("open") {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The release binary's sibling: a real process that can be killed.
struct Killable(std::process::Child);

impl Drop for Killable {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_instance_killed_while_placing_waiting_chats_leaves_each_placed_once_and_no_slot_held() {
    let db_name = fresh_db_name();
    let mut settings = faulty_settings(&db_name, &format!("survivor-{db_name}"));
    settings.routing.queue_interval_ms = 1_000;
    // Agents come back during the test; fair rejoin would lift their
    // `count` and blur what the invariants add up.
    settings.routing.strict_counts = true;
    let survivor = spawn_instance(settings.clone()).await;
    let (ann, ann_creds) = survivor.available_agent("ann").await;
    let (bob, bob_creds) = survivor.available_agent("bob").await;
    for (agent, creds) in [(&ann, &ann_creds), (&bob, &bob_creds)] {
        survivor.set_limit(agent, 10).await;
        survivor.set_livechat_status(creds, "not-available").await;
    }
    let sales = survivor
        .department_with("sales", &[(&ann, None, None), (&bob, None, None)])
        .await;
    for i in 0..20 {
        let (status, body) = post_route(&survivor, &format!("w{i}"), &sales).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["assignment"]["status"], "queued");
    }

    // A second instance, a real process, is the one that places them.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MONGO_URL", &settings.mongo_url)
        .env("PORT", port.to_string())
        .env("BIND_IP", "127.0.0.1")
        .env("SWITCHBOARD_ROUTING__QUEUE_INTERVAL_MS", "10")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut doomed = Killable(child);
    let doomed_app = survivor.same_database_at(format!("http://127.0.0.1:{port}"));
    let ready = format!("{}/readyz", doomed_app.address);
    for _ in 0..600 {
        match survivor.http.get(&ready).send().await {
            Ok(r) if r.status() == 200 => break,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    // Ann and Bob become available through it: it places waiting chats in
    // that request and on its sweep, and dies part-way.
    let request = {
        let (doomed_app, ann_creds, bob_creds) = (&doomed_app, &ann_creds, &bob_creds);
        async move {
            let url = format!("{}/api/v1/livechat/agent.status", doomed_app.address);
            for creds in [ann_creds, bob_creds] {
                // Killed mid-request, it may never answer.
                let _ = doomed_app
                    .http
                    .post(&url)
                    .header("X-User-Id", &creds.user_id)
                    .header("X-Auth-Token", &creds.token)
                    .json(&json!({"status": "available"}))
                    .send()
                    .await;
            }
        }
    };
    // Killed as soon as it has placed its first chat.
    let kill = async {
        for _ in 0..2_000 {
            let open = survivor
                .count("switchboard_assignments", doc! {"status": "open"})
                .await;
            if open > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        doomed.0.kill().unwrap();
    };
    tokio::join!(request, kill);
    let placed_before = all(
        &survivor,
        "switchboard_assignments",
        doc! {"status": "open"},
    )
    .await
    .len();
    eprintln!("placed before the kill: {placed_before} of 20");
    // Whatever the dead instance did not get to, the survivor does.
    for creds in [&ann_creds, &bob_creds] {
        survivor.set_livechat_status(creds, "available").await;
    }

    repaired(&survivor, &sales, &[&ann, &bob]).await;
    // Every waiting chat is placed, and placed once: one record per
    // visitor, each open with one agent.
    let mut placed = 0;
    for _ in 0..300 {
        placed = all(
            &survivor,
            "switchboard_assignments",
            doc! {"status": "open"},
        )
        .await
        .len();
        if placed == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(placed, 20);
    let records = all(
        &survivor,
        "switchboard_assignments",
        doc! {"status": {"$ne": "abandoned"}},
    )
    .await;
    assert_eq!(records.len(), 20, "{records:?}");
    repaired(&survivor, &sales, &[&ann, &bob]).await;
}

#[tokio::test]
async fn one_transient_database_error_does_not_keep_the_instance_unavailable() {
    let _turn = FAIL_POINT.lock().await;
    let db_name = fresh_db_name();
    let app_name = format!("transient-{db_name}");
    let mut settings = faulty_settings(&db_name, &app_name);
    // A request that waits for the server longer than this answers 503:
    // so a monitor that stays blind for seconds shows as 503s here.
    settings.mongo.server_selection_timeout_ms = 2_000;
    let app = spawn_instance(settings).await;
    let list = "/api/v1/livechat/department";
    assert_eq!(app.get(list, &app.admin).await.status, 200);
    // "Interrupted at shutdown", once: the driver marks the server unknown.
    app.db
        .client()
        .database("admin")
        .run_command(doc! {
            "configureFailPoint": "failCommand",
            "mode": {"times": 1},
            "data": {"failCommands": ["find", "count", "aggregate"], "errorCode": 11600, "appName": &app_name},
        })
        .await
        .expect("the server runs with --enable-test-commands");
    let first = app.get(list, &app.admin).await;
    // The driver retries a read once, so even this one may succeed.
    assert!(
        first.status == 200 || first.status == 503,
        "{:?}",
        first.body
    );
    // The very next requests are served: no stretch of 503s follows.
    for _ in 0..5 {
        let a = app.get(list, &app.admin).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    disarm(&app).await;
}

#[tokio::test]
async fn a_decision_that_cannot_start_within_the_bound_answers_503_having_done_nothing() {
    let _turn = FAIL_POINT.lock().await;
    let db_name = fresh_db_name();
    let app_name = format!("admission-{db_name}");
    let mut settings = faulty_settings(&db_name, &app_name);
    settings.routing.max_decisions = 1;
    settings.http.request_timeout_ms = 3_000;
    let app = spawn_instance(settings).await;
    let (ann, _) = app.available_agent("ann").await;
    let sales = app.department_with("sales", &[(&ann, Some(0), None)]).await;
    // The first decision's take stalls for longer than the bound, holding
    // the instance's only turn.
    arm(&app, &app_name, "findAndModify", 0, Some(4_000)).await;
    let (first, second) = tokio::join!(post_route(&app, "slow", &sales), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        post_route(&app, "waiting", &sales).await
    });
    disarm(&app).await;
    assert_eq!(second.0, 503, "{:?}", second.1);
    assert_eq!(second.1["errorType"], "error-service-unavailable");
    assert!(first.0 == 503 || first.0 == 200, "{first:?}");
    // Nothing of the second decision exists, and after the repair Ann's
    // slots and count match what was routed.
    let waiting = all(
        &app,
        "switchboard_assignments",
        doc! {"visitorToken": "waiting"},
    )
    .await;
    assert!(waiting.is_empty(), "{waiting:?}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    repaired(&app, &sales, &[&ann]).await;
}

/// The change stream feeding the live connections fails (a `getMore`
/// error the driver does not resume by itself): the instance opens it
/// again, resuming where it stopped, and its visitors still get their
/// messages.
#[tokio::test]
async fn the_live_change_stream_is_opened_again_after_it_fails() {
    let _turn = FAIL_POINT.lock().await;
    let db_name = fresh_db_name();
    let app_name = format!("live-{db_name}");
    let mut settings = faulty_settings(&db_name, &app_name);
    settings.live.watch_retry_ms = 200;
    let app = spawn_instance(settings).await;
    let (ann, _) = app.available_agent("ann").await;
    let sales = app.department_with("Sales", &[(&ann, None, None)]).await;
    let room = app.visitor_room("vera", Some(&sales)).await;
    let rid = room["_id"].as_str().unwrap().to_string();
    let mut ddp = app.ddp_connected().await;
    ddp.subscribe("m", "stream-room-messages", &rid, Some("vera"))
        .await;
    assert_eq!(ddp.next().await["msg"], "ready");
    arm(&app, &app_name, "getMore", 0, None).await;
    // The stream waits on the server at most 500 ms at a time: its next
    // `getMore` fails within this.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    disarm(&app).await;
    for (i, text) in ["after the failure", "and again"].iter().enumerate() {
        let a = app
            .call(
                reqwest::Method::POST,
                "/api/v1/livechat/message",
                None,
                Some(json!({"token": "vera", "rid": rid, "msg": text, "_id": format!("m{i}")})),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        let event = ddp
            .next_where(crate::helpers::FRAME_WAIT, |f| {
                f["collection"] == "stream-room-messages"
            })
            .await
            .expect("the message is streamed");
        assert_eq!(event["fields"]["args"][0]["msg"], *text);
    }
}
