//! `switchboard_auto_distribution`: the one Auto Distribution document
//! (`_id: "global"`), read fresh on every call so a change applies on the
//! next routing decision of every instance. Agent limits are not kept here:
//! they are each user's `livechat.maxNumberSimultaneousChat`, the value
//! Rocket.Chat itself enforces. Also reads the users, departments and links
//! that the API shows as Comm100's `agent` and `department` references.

use std::collections::{HashMap, HashSet};

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{self, Bson, Document, doc};
use serde::{Deserialize, Serialize};

use super::department_agents::{self, LinkDoc};
use super::users::{EmailDoc, LivechatDoc};
use super::{Store, departments, is_duplicate_key, now, num, users};
use crate::domain::auto_distribution::{
    AgentConfig, AgentRef, AutoDistributionConfig, AutoDistributionPatch, BackupDepartment,
    DepartmentConfig, DepartmentRef, Method,
};
use crate::domain::user::ROLE_AGENT;
use crate::error::Error;

pub const COLLECTION: &str = "switchboard_auto_distribution";
const GLOBAL: &str = "global";

#[derive(Debug, Default, Deserialize)]
struct ConfigDoc {
    #[serde(rename = "isEnabled", default)]
    is_enabled: Option<bool>,
    #[serde(rename = "autoDistributionMethod", default)]
    method: Option<String>,
    #[serde(rename = "isLastChattedAgentPreferredForAutoDistribution", default)]
    last_chatted_preferred: Option<bool>,
    #[serde(rename = "ifLimitMaxConcurrentChatsForAllAgents", default)]
    limit_all_agents: Option<bool>,
    #[serde(
        rename = "maxConcurrentChatsForAllAgents",
        default,
        deserialize_with = "num::opt_i64"
    )]
    max_chats_all_agents: Option<i64>,
    #[serde(
        rename = "ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit",
        default
    )]
    manual_accept_over_limit: Option<bool>,
    #[serde(
        rename = "ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat",
        default
    )]
    skip_agents_in_audio_video: Option<bool>,
    #[serde(rename = "agentAutoDistributionConfigs", default)]
    agents: Vec<AgentDoc>,
    #[serde(rename = "departmentAutoDistributionConfigs", default)]
    departments: Vec<DepartmentDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AgentDoc {
    #[serde(rename = "agentId")]
    agent_id: String,
    #[serde(rename = "ifAutoAcceptChat", default = "yes")]
    auto_accept: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct DepartmentDoc {
    #[serde(rename = "departmentId")]
    department_id: String,
    /// `null` inherits the global method.
    #[serde(rename = "autoDistributionMethod", default)]
    method: Option<String>,
    #[serde(rename = "isLastChattedAgentPreferred", default)]
    last_chatted_preferred: Option<bool>,
    #[serde(rename = "backupDepartments", default)]
    backups: Vec<BackupDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BackupDoc {
    id: String,
    #[serde(rename = "backupDepartmentId")]
    backup_department_id: String,
    #[serde(default, deserialize_with = "num::i64_or_zero")]
    order: i64,
}

fn yes() -> bool {
    true
}

/// A stored method name this version does not know (written by a newer
/// one, or by hand) reads as "not set" rather than failing every request.
fn known_method(raw: Option<String>) -> Option<Method> {
    let raw = raw?;
    let parsed = raw.parse().ok();
    if parsed.is_none() {
        tracing::warn!(method = %raw, "unknown auto distribution method stored; ignoring it");
    }
    parsed
}

fn clamp_u32(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}

impl From<ConfigDoc> for AutoDistributionConfig {
    fn from(d: ConfigDoc) -> Self {
        let default = AutoDistributionConfig::default();
        AutoDistributionConfig {
            enabled: d.is_enabled.unwrap_or(default.enabled),
            method: known_method(d.method).unwrap_or(default.method),
            last_chatted_preferred: d
                .last_chatted_preferred
                .unwrap_or(default.last_chatted_preferred),
            limit_all_agents: d.limit_all_agents.unwrap_or(default.limit_all_agents),
            max_chats_all_agents: d
                .max_chats_all_agents
                .map(clamp_u32)
                .unwrap_or(default.max_chats_all_agents),
            manual_accept_over_limit: d
                .manual_accept_over_limit
                .unwrap_or(default.manual_accept_over_limit),
            skip_agents_in_audio_video: d
                .skip_agents_in_audio_video
                .unwrap_or(default.skip_agents_in_audio_video),
            agents: d
                .agents
                .into_iter()
                .map(|a| AgentConfig {
                    agent_id: a.agent_id,
                    auto_accept: a.auto_accept,
                })
                .collect(),
            departments: d.departments.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<DepartmentDoc> for DepartmentConfig {
    fn from(d: DepartmentDoc) -> Self {
        let mut backups: Vec<BackupDepartment> = d
            .backups
            .into_iter()
            .map(|b| BackupDepartment {
                id: b.id,
                backup_department_id: b.backup_department_id,
                order: clamp_u32(b.order),
            })
            .collect();
        backups.sort_by_key(|b| b.order);
        DepartmentConfig {
            department_id: d.department_id,
            method: known_method(d.method),
            last_chatted_preferred: d.last_chatted_preferred,
            backups,
        }
    }
}

impl From<&DepartmentConfig> for DepartmentDoc {
    fn from(d: &DepartmentConfig) -> Self {
        DepartmentDoc {
            department_id: d.department_id.clone(),
            method: d.method.map(|m| m.as_str().to_string()),
            last_chatted_preferred: d.last_chatted_preferred,
            backups: d
                .backups
                .iter()
                .map(|b| BackupDoc {
                    id: b.id.clone(),
                    backup_department_id: b.backup_department_id.clone(),
                    order: i64::from(b.order),
                })
                .collect(),
        }
    }
}

/// The `$set` of a patch: exactly the fields it gives.
fn set_of(patch: &AutoDistributionPatch) -> Result<Document, Error> {
    let mut set = doc! {"_updatedAt": now()};
    let mut put = |key: &str, value: Option<Bson>| {
        if let Some(v) = value {
            set.insert(key, v);
        }
    };
    put("isEnabled", patch.enabled.map(Bson::Boolean));
    put(
        "autoDistributionMethod",
        patch.method.map(|m| Bson::String(m.as_str().into())),
    );
    put(
        "isLastChattedAgentPreferredForAutoDistribution",
        patch.last_chatted_preferred.map(Bson::Boolean),
    );
    put(
        "ifLimitMaxConcurrentChatsForAllAgents",
        patch.limit_all_agents.map(Bson::Boolean),
    );
    put(
        "maxConcurrentChatsForAllAgents",
        patch.max_chats_all_agents.map(|n| Bson::Int64(n.into())),
    );
    put(
        "ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit",
        patch.manual_accept_over_limit.map(Bson::Boolean),
    );
    put(
        "ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat",
        patch.skip_agents_in_audio_video.map(Bson::Boolean),
    );
    if let Some(agents) = &patch.agents {
        let docs: Vec<AgentDoc> = agents
            .iter()
            .map(|a| AgentDoc {
                agent_id: a.config.agent_id.clone(),
                auto_accept: a.config.auto_accept,
            })
            .collect();
        set.insert("agentAutoDistributionConfigs", bson::to_bson(&docs)?);
    }
    if let Some(departments) = &patch.departments {
        let docs: Vec<DepartmentDoc> = departments.iter().map(Into::into).collect();
        set.insert("departmentAutoDistributionConfigs", bson::to_bson(&docs)?);
    }
    Ok(set)
}

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

pub struct AutoDistribution {
    coll: Collection<Document>,
    users: Collection<Document>,
    departments: Collection<Document>,
    links: Collection<LinkDoc>,
    store: Store,
}

impl AutoDistribution {
    pub(super) fn new(store: &Store) -> Self {
        AutoDistribution {
            coll: store.collection(COLLECTION),
            users: store.collection(users::COLLECTION),
            departments: store.collection(departments::COLLECTION),
            links: store.collection(department_agents::COLLECTION),
            store: store.clone(),
        }
    }

    /// The configuration now; the defaults when none is stored.
    pub async fn load(&self) -> Result<AutoDistributionConfig, Error> {
        let found = self
            .coll
            .clone_with_type::<ConfigDoc>()
            .find_one(doc! {"_id": GLOBAL})
            .await?;
        Ok(found.unwrap_or_default().into())
    }

    /// Applies a checked patch: the configuration's given fields in one
    /// atomic `$set` (so concurrent PUTs of different fields both land and
    /// never interleave within a field), then each given agent limit on its
    /// user document.
    pub async fn apply(&self, patch: &AutoDistributionPatch) -> Result<(), Error> {
        self.upsert(set_of(patch)?).await?;
        for agent in patch.agents.iter().flatten() {
            if let Some(max_chats) = agent.max_chats {
                self.store
                    .users()
                    .set_max_chats(&agent.config.agent_id, max_chats)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn set_enabled(&self, enabled: bool) -> Result<(), Error> {
        self.upsert(doc! {"isEnabled": enabled, "_updatedAt": now()})
            .await
    }

    /// `$set` on the one document, creating it when missing. Two first
    /// writes can race to insert it; the loser finds it and updates it.
    async fn upsert(&self, set: Document) -> Result<(), Error> {
        let update = doc! {"$set": set};
        match self
            .coll
            .update_one(doc! {"_id": GLOBAL}, update.clone())
            .upsert(true)
            .await
        {
            Err(e) if is_duplicate_key(&e) => {
                self.coll.update_one(doc! {"_id": GLOBAL}, update).await?;
                Ok(())
            }
            other => other.map(|_| ()).map_err(Into::into),
        }
    }

    /// Which of `ids` are livechat agents.
    pub async fn known_agents(&self, ids: &[&str]) -> Result<HashSet<String>, Error> {
        super::ids_in(&self.users, doc! {"_id": {"$in": ids}, "roles": ROLE_AGENT}).await
    }

    /// Which of `ids` are departments.
    pub async fn known_departments(&self, ids: &[&str]) -> Result<HashSet<String>, Error> {
        super::ids_in(&self.departments, doc! {"_id": {"$in": ids}}).await
    }

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
