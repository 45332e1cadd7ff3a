//! The read-model beside the configuration: users, departments and their
//! links as Comm100's `agent` and `department` references show them.

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::bson::{self, Document, doc};
use serde::Deserialize;

use super::super::department_agents::LinkDoc;
use super::super::users::{EmailDoc, LivechatDoc};
use super::AutoDistribution;
use super::config_doc::{clamp_u32, yes};
use crate::domain::auto_distribution::{AgentRef, DepartmentRef};
use crate::error::Error;

/// The user fields the `agent` reference shows.
#[derive(Debug, Deserialize)]
struct AgentProfileDoc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    emails: Vec<EmailDoc>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    bio: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(rename = "utcOffset", default)]
    utc_offset: Option<f64>,
    #[serde(rename = "createdAt", default)]
    created_at: Option<bson::DateTime>,
    #[serde(default)]
    livechat: Option<LivechatDoc>,
}

/// The department fields the `department` reference shows.
#[derive(Debug, Deserialize)]
struct DepartmentProfileDoc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    archived: bool,
    #[serde(rename = "showOnOfflineForm", default)]
    show_on_offline_form: bool,
    #[serde(default)]
    email: Option<String>,
}

impl AutoDistribution {
    /// The agents with these ids, with their department ids; unknown ids
    /// are left out.
    pub async fn agent_refs(&self, ids: &[&str]) -> Result<HashMap<String, AgentRef>, Error> {
        let found: Vec<AgentProfileDoc> = self
            .users
            .clone_with_type()
            .find(doc! {"_id": {"$in": ids}})
            .projection(doc! {"services": 0})
            .await?
            .try_collect()
            .await?;
        let mut departments = self.linked(doc! {"agentId": {"$in": ids}}).await?;
        Ok(found
            .into_iter()
            .map(|u| {
                let department_ids = departments
                    .remove(&u.id)
                    .map(|links| links.into_iter().map(|l| l.department_id).collect())
                    .unwrap_or_default();
                (u.id.clone(), agent_ref(u, department_ids))
            })
            .collect())
    }

    /// The departments with these ids, with their agent ids; unknown ids
    /// are left out.
    pub async fn department_refs(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, DepartmentRef>, Error> {
        let found: Vec<DepartmentProfileDoc> = self
            .departments
            .clone_with_type()
            .find(doc! {"_id": {"$in": ids}})
            .await?
            .try_collect()
            .await?;
        let links: Vec<LinkDoc> = self
            .links
            .find(doc! {"departmentId": {"$in": ids}})
            .sort(doc! {"order": 1, "username": 1})
            .await?
            .try_collect()
            .await?;
        let mut agents: HashMap<String, Vec<String>> = HashMap::new();
        for link in links {
            agents
                .entry(link.department_id)
                .or_default()
                .push(link.agent_id);
        }
        Ok(found
            .into_iter()
            .map(|d| {
                let agent_ids = agents.remove(&d.id).unwrap_or_default();
                let department = DepartmentRef {
                    name: d.name.unwrap_or_default(),
                    description: d.description.unwrap_or_default(),
                    enabled: d.enabled,
                    archived: d.archived,
                    show_on_offline_form: d.show_on_offline_form,
                    email: d.email.unwrap_or_default(),
                    agent_ids,
                    id: d.id,
                };
                (department.id.clone(), department)
            })
            .collect())
    }

    /// Links matching `filter`, grouped by agent.
    async fn linked(&self, filter: Document) -> Result<HashMap<String, Vec<LinkDoc>>, Error> {
        let links: Vec<LinkDoc> = self
            .links
            .find(filter)
            .sort(doc! {"departmentId": 1})
            .await?
            .try_collect()
            .await?;
        let mut grouped: HashMap<String, Vec<LinkDoc>> = HashMap::new();
        for link in links {
            grouped.entry(link.agent_id.clone()).or_default().push(link);
        }
        Ok(grouped)
    }
}

fn agent_ref(u: AgentProfileDoc, department_ids: Vec<String>) -> AgentRef {
    AgentRef {
        username: u.username.unwrap_or_default(),
        name: u.name.unwrap_or_default(),
        nickname: u.nickname,
        email: u
            .emails
            .into_iter()
            .next()
            .map(|e| e.address)
            .unwrap_or_default(),
        roles: u.roles,
        active: u.active,
        bio: u.bio.unwrap_or_default(),
        language: u.language.unwrap_or_default(),
        utc_offset: u.utc_offset,
        created_at: u.created_at.map(|t| t.to_chrono()),
        max_chats: u
            .livechat
            .and_then(|l| l.max_number_simultaneous_chat)
            .map(clamp_u32),
        department_ids,
        id: u.id,
    }
}
