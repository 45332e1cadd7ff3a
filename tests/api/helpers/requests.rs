//! One request helper per endpoint, and readers of what is stored, so each
//! test reads as arrange, act, assert.

use mongodb::bson::{Document, doc};
use serde_json::{Value, json};

use super::{METRICS_TOKEN, TestApp, spawn_app_with};

pub const DEPARTMENTS: &str = "rocketchat_livechat_department";
pub const LINKS: &str = "rocketchat_livechat_department_agents";
pub const BASE: &str = "/api/v1/livechat/department";

/// A valid department object with this name.
pub fn department_body(name: &str) -> Value {
    json!({"name": name, "email": "bla@bla", "enabled": true,
           "showOnRegistration": true, "showOnOfflineForm": true})
}

impl TestApp {
    /// Creates a department (as admin) and answers the whole 200 body.
    pub async fn create_department(&self, name: &str, agents: Value) -> Value {
        let a = self
            .post(
                BASE,
                &self.admin,
                json!({"department": department_body(name), "agents": agents}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body
    }

    /// Creates a department and answers its id.
    pub async fn department_id(&self, name: &str, agents: Value) -> String {
        let body = self.create_department(name, agents).await;
        body["department"]["_id"].as_str().unwrap().to_string()
    }

    /// A user with the livechat-agent role (not available).
    pub async fn agent(&self, username: &str) -> String {
        self.create_user(username, &["user", "livechat-agent"])
            .await
    }

    /// Departments and links stored right now.
    pub async fn footprint(&self) -> (u64, u64) {
        (
            self.count(DEPARTMENTS, doc! {}).await,
            self.count(LINKS, doc! {}).await,
        )
    }

    /// The stored link of an agent in a department.
    pub async fn link(
        &self,
        department_id: &str,
        agent_id: &str,
    ) -> Option<mongodb::bson::Document> {
        self.db
            .collection::<mongodb::bson::Document>(LINKS)
            .find_one(doc! {"departmentId": department_id, "agentId": agent_id})
            .await
            .unwrap()
    }

    /// `numAgents` as stored.
    pub async fn num_agents(&self, department_id: &str) -> i64 {
        let d = self.stored(DEPARTMENTS, department_id).await.unwrap();
        match d.get("numAgents") {
            Some(mongodb::bson::Bson::Int32(n)) => i64::from(*n),
            Some(mongodb::bson::Bson::Int64(n)) => *n,
            other => panic!("numAgents is {other:?}"),
        }
    }
}

impl TestApp {
    /// A department with these agents linked: (agent id, count, order).
    pub async fn department_with(
        &self,
        name: &str,
        agents: &[(&str, Option<i64>, Option<i64>)],
    ) -> String {
        let body = json!({
            "department": {"enabled": true, "showOnRegistration": true, "showOnOfflineForm": true,
                           "name": name, "email": format!("{name}@example.com")},
            "agents": agents.iter().map(|(id, count, order)| {
                let mut a = json!({"agentId": id});
                if let Some(c) = count { a["count"] = json!(c); }
                if let Some(o) = order { a["order"] = json!(o); }
                a
            }).collect::<Vec<_>>(),
        });
        let a = self
            .post("/api/v1/livechat/department", &self.admin, body)
            .await;
        assert_eq!(a.status, 200, "create department {name}: {:?}", a.body);
        a.body["department"]["_id"].as_str().unwrap().to_string()
    }

    pub async fn route(&self, visitor: &str, department: Option<&str>) -> Value {
        let mut body = json!({"visitorToken": visitor});
        if let Some(d) = department {
            body["departmentId"] = json!(d);
        }
        let a = self
            .post("/api/v1/livechat/assignments", &self.admin, body)
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body["assignment"].clone()
    }

    pub async fn close(&self, id: &str) -> Value {
        let a = self
            .post(
                &format!("/api/v1/livechat/assignments/{id}/close"),
                &self.admin,
                json!({}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body["assignment"].clone()
    }

    pub async fn set_limit(&self, agent: &str, limit: u32) {
        let a = self
            .put(
                &format!("/api/v1/livechat/users/agent/{agent}"),
                &self.admin,
                json!({"maxNumberSimultaneousChat": limit}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }

    /// The stored link of an agent to a department.
    pub async fn stored_link(&self, department: &str, agent: &str) -> Document {
        self.db
            .collection::<Document>("rocketchat_livechat_department_agents")
            .find_one(doc! {"departmentId": department, "agentId": agent})
            .await
            .unwrap()
            .expect("the link exists")
    }
}

/// The sum of the samples named `name` that carry every label in
/// `labels`; 0 when there is none yet.
pub fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub async fn scrape(address: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{address}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

/// Comm100's Auto Distribution configuration.
const CONFIG: &str = "/api/v1/livechat/autoDistributionConfig";

/// An app whose sweep is too slow to matter within a test.
pub async fn app_with_slow_sweep() -> TestApp {
    spawn_app_with(|s| s.routing.queue_interval_ms = 600_000).await
}

pub async fn assignment(app: &TestApp, id: &Value) -> Value {
    let path = format!("/api/v1/livechat/assignments/{}", id.as_str().unwrap());
    let a = app.get(&path, &app.admin).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["assignment"].clone()
}

pub async fn configure(app: &TestApp, body: Value) {
    let a = app.put(CONFIG, &app.admin, body).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

pub async fn switch(app: &TestApp, on: bool) {
    let path = format!("{CONFIG}:{}", if on { "enable" } else { "disable" });
    let a = app.post(&path, &app.admin, json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}
