//! Offers (Comm100 `ifAutoAcceptChat: false`), declines, time-outs, the
//! audio/video switch, and the history each assignment keeps.

use serde_json::{Value, json};

use crate::helpers::{
    Creds, TestApp, assert_bad_request, assert_forbidden, number, spawn_app_with,
};
use crate::helpers::{app_with_slow_sweep, assignment, configure};
use crate::helpers::{sample, scrape};

/// Ann and Bob in `sales`; Ann first in line (order 0, Bob order 1).
struct Team {
    ann: String,
    ann_creds: Creds,
    bob: String,
    bob_creds: Creds,
    sales: String,
}

async fn team(app: &TestApp) -> Team {
    let (ann, ann_creds) = app.available_agent("ann").await;
    let (bob, bob_creds) = app.available_agent("bob").await;
    let sales = app
        .department_with(
            "sales",
            &[(&ann, Some(0), Some(0)), (&bob, Some(0), Some(1))],
        )
        .await;
    Team {
        ann,
        ann_creds,
        bob,
        bob_creds,
        sales,
    }
}

async fn auto_accept(app: &TestApp, agent: &str, on: bool) {
    auto_accepts(app, &[(agent, on)]).await;
}

/// The agents' settings replace the stored ones as a whole.
async fn auto_accepts(app: &TestApp, agents: &[(&str, bool)]) {
    let entries: Vec<Value> = agents
        .iter()
        .map(|(id, on)| json!({"agentId": id, "ifAutoAcceptChat": on}))
        .collect();
    configure(app, json!({"agentAutoDistributionConfigs": entries})).await;
}

async fn answer(app: &TestApp, creds: &Creds, chat: &Value, verb: &str) -> crate::helpers::Answer {
    let path = format!(
        "/api/v1/livechat/assignments/{}/{verb}",
        chat["_id"].as_str().unwrap()
    );
    app.post(&path, creds, json!({})).await
}

fn history(a: &Value) -> Vec<(String, String)> {
    a["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["status"].as_str().unwrap().to_string(),
                h["username"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn h(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, u)| (s.to_string(), u.to_string()))
        .collect()
}

async fn open_chats(app: &TestApp, agent: &str) -> i64 {
    number(&app.stored("users", agent).await.unwrap(), "openLivechats")
}

#[tokio::test]
async fn an_agent_that_does_not_auto_accept_is_offered_the_chat_and_accepts_it() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    auto_accept(&app, &t.ann, false).await;

    let offered = app.route("v1", Some(&t.sales)).await;

    assert_eq!(offered["status"], "offered", "{offered}");
    assert_eq!(offered["username"], "ann");
    assert_eq!(open_chats(&app, &t.ann).await, 1, "an offer holds a slot");
    assert_eq!(number(&app.stored_link(&t.sales, &t.ann).await, "count"), 1);
    // Only Ann (or a manager) answers it.
    assert_forbidden(&answer(&app, &t.bob_creds, &offered, "accept").await);

    let accepted = answer(&app, &t.ann_creds, &offered, "accept").await;

    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let accepted = &accepted.body["assignment"];
    assert_eq!(accepted["status"], "open");
    assert_eq!(accepted["username"], "ann");
    assert_eq!(history(accepted), h(&[("offered", "ann"), ("open", "")]));
    assert_eq!(open_chats(&app, &t.ann).await, 1);
    assert_bad_request(
        &answer(&app, &t.ann_creds, &offered, "accept").await,
        "not offered",
    );
}

#[tokio::test]
async fn an_agent_that_auto_accepts_gets_the_chat_open() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    auto_accept(&app, &t.ann, true).await;
    let open = app.route("v1", Some(&t.sales)).await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["username"], "ann");
    assert_eq!(history(&open), h(&[("open", "ann")]));
}

#[tokio::test]
async fn a_declined_chat_goes_to_the_next_agent_and_the_counts_follow() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    auto_accept(&app, &t.ann, false).await;
    let offered = app.route("v1", Some(&t.sales)).await;
    assert_eq!(offered["username"], "ann");

    let declined = answer(&app, &t.ann_creds, &offered, "decline").await;

    assert_eq!(declined.status, 200, "{:?}", declined.body);
    let now = assignment(&app, &offered["_id"]).await;
    assert_eq!(now["status"], "open", "{now}");
    assert_eq!(now["username"], "bob");
    assert_eq!(now["declinedBy"], json!([t.ann]));
    assert_eq!(
        history(&now),
        h(&[("offered", "ann"), ("declined", "ann"), ("open", "bob")])
    );
    // Ann's slot and her count increment are given back; Bob's stay.
    assert_eq!(open_chats(&app, &t.ann).await, 0);
    assert_eq!(open_chats(&app, &t.bob).await, 1);
    assert_eq!(number(&app.stored_link(&t.sales, &t.ann).await, "count"), 0);
    assert_eq!(number(&app.stored_link(&t.sales, &t.bob).await, "count"), 1);
    let text = scrape(&app.address).await;
    assert!(sample(&text, "switchboard_offers_total", &["outcome=\"declined\""]) >= 1.0);
}

#[tokio::test]
async fn a_chat_declined_by_everyone_waits_and_never_returns_to_a_decliner() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    auto_accepts(&app, &[(&t.ann, false), (&t.bob, false)]).await;
    let offered = app.route("v1", Some(&t.sales)).await;
    assert_eq!(offered["username"], "ann");
    answer(&app, &t.ann_creds, &offered, "decline").await;
    let to_bob = assignment(&app, &offered["_id"]).await;
    assert_eq!(to_bob["status"], "offered");
    assert_eq!(to_bob["username"], "bob");

    let declined = answer(&app, &t.bob_creds, &offered, "decline").await;

    assert_eq!(declined.status, 200, "{:?}", declined.body);
    let waiting = assignment(&app, &offered["_id"]).await;
    assert_eq!(waiting["status"], "queued", "{waiting}");
    assert_eq!(waiting["agentId"], Value::Null);
    assert_eq!(open_chats(&app, &t.ann).await, 0);
    assert_eq!(open_chats(&app, &t.bob).await, 0);
    // A new chat still goes to Ann; the declined one is not offered again.
    let next = app.route("v2", Some(&t.sales)).await;
    assert_eq!(next["username"], "ann");
    app.close(next["_id"].as_str().unwrap()).await;
    assert_eq!(assignment(&app, &offered["_id"]).await["status"], "queued");
    // A third agent takes it at once when linked.
    let (cid, _) = app.available_agent("cid").await;
    let a = app
        .post(
            &format!("/api/v1/livechat/department/{}/agents", t.sales),
            &app.admin,
            json!({"upsert": [{"agentId": cid}], "remove": []}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(assignment(&app, &offered["_id"]).await["username"], "cid");
}

#[tokio::test]
async fn an_unanswered_offer_times_out_and_goes_to_the_next_agent() {
    let app = spawn_app_with(|s| {
        s.routing.queue_interval_ms = 600_000;
        s.routing.offer_timeout_ms = 300;
    })
    .await;
    let t = team(&app).await;
    auto_accept(&app, &t.ann, false).await;
    let offered = app.route("v1", Some(&t.sales)).await;
    assert_eq!(offered["status"], "offered");

    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = assignment(&app, &offered["_id"]).await;
        if seen["username"] == "bob" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    assert_eq!(seen["status"], "open", "{seen}");
    assert_eq!(seen["username"], "bob");
    assert_eq!(
        history(&seen),
        h(&[("offered", "ann"), ("timedOut", "ann"), ("open", "bob")])
    );
    assert_eq!(open_chats(&app, &t.ann).await, 0);
    // Bob's chat now: Ann may neither see nor accept it.
    assert_forbidden(&answer(&app, &t.ann_creds, &offered, "accept").await);
}

#[tokio::test]
async fn with_offer_timeouts_off_an_offer_waits_for_its_agent() {
    let app = spawn_app_with(|s| {
        s.routing.queue_interval_ms = 600_000;
        s.routing.offer_timeout_ms = 0;
    })
    .await;
    let t = team(&app).await;
    auto_accept(&app, &t.ann, false).await;
    let offered = app.route("v1", Some(&t.sales)).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(assignment(&app, &offered["_id"]).await["status"], "offered");
}

#[tokio::test]
async fn closing_an_offered_chat_frees_its_slot_for_the_queue() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    auto_accept(&app, &t.ann, false).await;
    let a = app
        .put(
            &format!("/api/v1/livechat/users/agent/{}", t.bob),
            &app.admin,
            json!({"maxNumberSimultaneousChat": 1}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    app.set_limit(&t.ann, 1).await;
    let offered = app.route("v1", Some(&t.sales)).await;
    let to_bob = app.route("v2", Some(&t.sales)).await;
    assert_eq!(to_bob["username"], "bob");
    let waiting = app.route("v3", Some(&t.sales)).await;
    assert_eq!(waiting["status"], "queued");

    let closed = app.close(offered["_id"].as_str().unwrap()).await;

    assert_eq!(closed["status"], "closed");
    let placed = assignment(&app, &waiting["_id"]).await;
    assert_eq!(placed["status"], "offered", "{placed}");
    assert_eq!(placed["username"], "ann");
    assert_eq!(open_chats(&app, &t.ann).await, 1);
}

/// Ann holds an audio/video chat; Bob is busier by count.
async fn ann_on_a_call(app: &TestApp, t: &Team) {
    let a = app
        .post(
            "/api/v1/livechat/assignments",
            &app.admin,
            json!({"visitorToken": "caller", "departmentId": t.sales, "channel": "audioVideo"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["assignment"]["username"], "ann");
    assert_eq!(a.body["assignment"]["channel"], "audioVideo");
}

#[tokio::test]
async fn with_the_audio_video_switch_on_an_agent_on_a_call_gets_no_new_chats() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    configure(
        &app,
        json!({"ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat": true}),
    )
    .await;
    ann_on_a_call(&app, &t).await;
    let first = app.route("v1", Some(&t.sales)).await;
    let second = app.route("v2", Some(&t.sales)).await;
    assert_eq!(first["username"], "bob");
    assert_eq!(second["username"], "bob", "Ann is on a call");
}

#[tokio::test]
async fn with_the_audio_video_switch_off_an_agent_on_a_call_still_gets_chats() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    ann_on_a_call(&app, &t).await;
    let first = app.route("v1", Some(&t.sales)).await;
    let second = app.route("v2", Some(&t.sales)).await;
    let names = [first["username"].clone(), second["username"].clone()];
    assert!(names.contains(&json!("ann")), "{names:?}");
}

#[tokio::test]
async fn an_agent_on_a_call_may_still_take_a_chat_by_hand_and_gets_chats_again_after_it() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    configure(
        &app,
        json!({"ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat": true}),
    )
    .await;
    // Bob is away from the queue: only Ann could serve it.
    app.set_livechat_status(&t.bob_creds, "not-available").await;
    ann_on_a_call(&app, &t).await;
    let waiting = app.route("v1", Some(&t.sales)).await;
    assert_eq!(waiting["status"], "queued", "Ann is on a call");

    let taken = app
        .post(
            "/api/v1/livechat/inquiries.take",
            &t.ann_creds,
            json!({"inquiryId": waiting["_id"]}),
        )
        .await;
    assert_eq!(taken.status, 200, "{:?}", taken.body);

    let call = app
        .get(
            "/api/v1/livechat/assignments?visitorToken=caller",
            &app.admin,
        )
        .await;
    app.close(call.body["assignments"][0]["_id"].as_str().unwrap())
        .await;
    let after = app.route("v2", Some(&t.sales)).await;
    assert_eq!(after["username"], "ann", "the call ended");
    let took = assignment(&app, &waiting["_id"]).await;
    assert_eq!(
        history(&took),
        h(&[("queued", ""), ("takenManually", "ann")])
    );
}

#[tokio::test]
async fn room_freed_by_a_decline_goes_to_the_next_chat_the_agent_did_not_decline() {
    let app = app_with_slow_sweep().await;
    let t = team(&app).await;
    auto_accept(&app, &t.ann, false).await;
    app.set_limit(&t.ann, 1).await;
    app.set_limit(&t.bob, 1).await;
    let offered = app.route("v1", Some(&t.sales)).await;
    assert_eq!(offered["username"], "ann");
    let to_bob = app.route("v2", Some(&t.sales)).await;
    assert_eq!(to_bob["username"], "bob");
    let younger = app.route("v3", Some(&t.sales)).await;
    assert_eq!(younger["status"], "queued");

    let declined = answer(&app, &t.ann_creds, &offered, "decline").await;

    assert_eq!(declined.status, 200, "{:?}", declined.body);
    // Bob is full: the declined chat waits at the head of the queue, and
    // Ann's room goes to the chat behind it.
    assert_eq!(assignment(&app, &offered["_id"]).await["status"], "queued");
    let younger = assignment(&app, &younger["_id"]).await;
    assert_eq!(younger["status"], "offered", "{younger}");
    assert_eq!(younger["username"], "ann");
    // Bob's room, when it comes, goes to the declined chat.
    app.close(to_bob["_id"].as_str().unwrap()).await;
    assert_eq!(assignment(&app, &offered["_id"]).await["username"], "bob");
}

/// Two instances time offers out at once: each offer times out once and
/// reaches the next agent once.
#[tokio::test]
async fn offers_time_out_once_with_two_instances_watching() {
    let db_name = crate::helpers::fresh_db_name();
    let mut settings = crate::helpers::test_settings(&db_name);
    settings.routing.queue_interval_ms = 600_000;
    settings.routing.offer_timeout_ms = 200;
    settings.routing.strict_counts = true;
    let first = crate::helpers::spawn_instance(settings.clone()).await;
    let second = crate::helpers::spawn_instance(settings).await;
    let t = team(&first).await;
    auto_accept(&first, &t.ann, false).await;
    second
        .set_livechat_status(&t.bob_creds, "not-available")
        .await;
    let mut offered = Vec::new();
    for i in 0..3 {
        let a = first.route(&format!("v{i}"), Some(&t.sales)).await;
        assert_eq!(a["username"], "ann", "{a}");
        offered.push(a);
    }
    second.set_livechat_status(&t.bob_creds, "available").await;

    for chat in &offered {
        let mut seen = Value::Null;
        for _ in 0..100 {
            seen = assignment(&second, &chat["_id"]).await;
            if seen["username"] == "bob" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            history(&seen),
            h(&[("offered", "ann"), ("timedOut", "ann"), ("open", "bob")])
        );
    }
    assert_eq!(open_chats(&first, &t.ann).await, 0);
    assert_eq!(open_chats(&first, &t.bob).await, 3);
    assert_eq!(
        number(&first.stored_link(&t.sales, &t.ann).await, "count"),
        0
    );
    assert_eq!(
        number(&first.stored_link(&t.sales, &t.bob).await, "count"),
        3
    );
}
