//! Shared arrangements of the department tests.

use mongodb::bson::doc;
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub const DEPARTMENTS: &str = "rocketchat_livechat_department";
pub const LINKS: &str = "rocketchat_livechat_department_agents";
pub const BASE: &str = "/api/v1/livechat/department";

/// A valid department object with this name.
pub fn department(name: &str) -> Value {
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
                json!({"department": department(name), "agents": agents}),
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
