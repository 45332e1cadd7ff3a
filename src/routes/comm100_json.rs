//! Auto Distribution as Comm100's API shows it: bare objects with exactly
//! the keys of Comm100's documentation, in its order. Comm100 fields that
//! Switchboard has no source for (phone, title, shifts, skills, …) are
//! answered empty, so a Comm100 client finds every key it reads.

use std::collections::HashMap;

use serde::Serialize;

use super::comm100_switches;
use crate::domain::auto_distribution::{
    AgentConfig, AgentRef, AutoDistributionConfig, DepartmentConfig, DepartmentRef, NIL_ID, Set,
    Switches,
};
use crate::domain::user::ROLE_ADMIN;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigJson {
    #[serde(flatten)]
    #[schema(schema_with = comm100_switches::set)]
    pub switches: Switches<Set>,
    pub agent_auto_distribution_configs: Vec<AgentEntryJson>,
    pub department_auto_distribution_configs: Vec<DepartmentEntryJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentEntryJson {
    pub agent_id: String,
    /// The user's `livechat.maxNumberSimultaneousChat`; 0 = no own limit.
    pub max_concurrent_chats: u32,
    pub if_auto_accept_chat: bool,
    pub agent: AgentJson,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentJson {
    pub avatar: String,
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub phone: String,
    pub title: String,
    pub bio: String,
    pub time_zone: String,
    pub datetime_format: String,
    pub system_avatar_id: String,
    pub if_customize_avatar: bool,
    pub customize_avatar: Option<String>,
    pub created_time: Option<String>,
    pub is_locked: bool,
    pub locked_time: Option<String>,
    pub is_deleted: bool,
    pub language: String,
    pub super_agent_id: &'static str,
    pub external_id: String,
    pub permission_ids: Vec<String>,
    pub department_ids: Vec<String>,
    pub role_ids: Vec<String>,
    pub shift_ids: Vec<String>,
    pub chatbot_smart_trigger_action_ids: Vec<String>,
    pub trigger_ids: Vec<String>,
    pub segment_ids: Vec<String>,
    pub skill_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentEntryJson {
    pub department_id: String,
    /// Deprecated by Comm100: the first backup, or the nil id.
    pub backup_department_id: String,
    /// `null`: the department uses the global method.
    pub auto_distribution_method: Option<&'static str>,
    /// `null`: the department uses the global preference.
    pub is_last_chatted_agent_preferred: Option<bool>,
    pub department: DepartmentJson,
    pub backup_departments: Vec<BackupJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentJson {
    pub id: String,
    pub name: String,
    pub description: String,
    pub is_available_in_live_chat: bool,
    pub is_available_in_ticketing_and_messaging: bool,
    pub offline_message_mail_to: &'static str,
    pub offline_message_email_addresses: String,
    pub is_deleted: bool,
    pub agent_ids: Vec<String>,
    pub chatbot_smart_trigger_action_ids: Vec<String>,
    pub shift_ids: Vec<String>,
    pub segment_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupJson {
    pub department_id: String,
    pub backup_department_id: String,
    pub order: u32,
    pub id: String,
}

impl ConfigJson {
    /// The configuration with each entry's reference filled from `agents`
    /// and `departments`; an entry whose user or department has since been
    /// deleted is shown with `isDeleted: true`.
    pub fn build(
        config: AutoDistributionConfig,
        agents: &HashMap<String, AgentRef>,
        departments: &HashMap<String, DepartmentRef>,
    ) -> ConfigJson {
        ConfigJson {
            switches: config.switches,
            agent_auto_distribution_configs: config
                .agents
                .into_iter()
                .map(|a| AgentEntryJson::build(a, agents))
                .collect(),
            department_auto_distribution_configs: config
                .departments
                .into_iter()
                .map(|d| DepartmentEntryJson::build(d, departments))
                .collect(),
        }
    }
}

impl AgentEntryJson {
    fn build(entry: AgentConfig, agents: &HashMap<String, AgentRef>) -> AgentEntryJson {
        let agent = agents.get(&entry.agent_id);
        AgentEntryJson {
            max_concurrent_chats: agent.and_then(|a| a.max_chats).unwrap_or(0),
            if_auto_accept_chat: entry.auto_accept,
            agent: match agent {
                Some(a) => AgentJson::from(a),
                None => AgentJson::deleted(&entry.agent_id),
            },
            agent_id: entry.agent_id,
        }
    }
}

impl From<&AgentRef> for AgentJson {
    fn from(a: &AgentRef) -> Self {
        let (first, last) = a.first_and_last_name();
        AgentJson {
            // Rocket.Chat serves every user's avatar here.
            avatar: format!("/avatar/{}", a.username),
            id: a.id.clone(),
            email: a.email.clone(),
            display_name: a.display_name().to_string(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            is_admin: a.roles.iter().any(|r| r == ROLE_ADMIN),
            is_active: a.active,
            bio: a.bio.clone(),
            time_zone: a.time_zone(),
            created_time: a
                .created_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            language: a.language.clone(),
            department_ids: a.department_ids.clone(),
            role_ids: a.roles.clone(),
            is_deleted: false,
            ..AgentJson::deleted(&a.id)
        }
    }
}

impl AgentJson {
    /// The reference of a user that no longer exists: only its id.
    fn deleted(id: &str) -> AgentJson {
        AgentJson {
            avatar: String::new(),
            id: id.to_string(),
            email: String::new(),
            display_name: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            is_admin: false,
            is_active: false,
            phone: String::new(),
            title: String::new(),
            bio: String::new(),
            time_zone: String::new(),
            datetime_format: String::new(),
            system_avatar_id: String::new(),
            if_customize_avatar: false,
            customize_avatar: None,
            created_time: None,
            is_locked: false,
            locked_time: None,
            is_deleted: true,
            language: String::new(),
            super_agent_id: NIL_ID,
            external_id: String::new(),
            permission_ids: vec![],
            department_ids: vec![],
            role_ids: vec![],
            shift_ids: vec![],
            chatbot_smart_trigger_action_ids: vec![],
            trigger_ids: vec![],
            segment_ids: vec![],
            skill_ids: vec![],
        }
    }
}

impl DepartmentEntryJson {
    fn build(
        entry: DepartmentConfig,
        departments: &HashMap<String, DepartmentRef>,
    ) -> DepartmentEntryJson {
        DepartmentEntryJson {
            backup_department_id: entry.first_backup_id().to_string(),
            auto_distribution_method: entry.method.map(|m| m.as_str()),
            is_last_chatted_agent_preferred: entry.last_chatted_preferred,
            department: DepartmentJson::build(&entry.department_id, departments),
            backup_departments: entry
                .backups
                .into_iter()
                .map(|b| BackupJson {
                    department_id: entry.department_id.clone(),
                    backup_department_id: b.backup_department_id,
                    order: b.order,
                    id: b.id,
                })
                .collect(),
            department_id: entry.department_id,
        }
    }
}

impl DepartmentJson {
    fn build(id: &str, departments: &HashMap<String, DepartmentRef>) -> DepartmentJson {
        let found = departments.get(id);
        let d = found.cloned().unwrap_or_else(|| DepartmentRef {
            id: id.to_string(),
            name: String::new(),
            description: String::new(),
            enabled: false,
            archived: false,
            show_on_offline_form: false,
            email: String::new(),
            agent_ids: vec![],
        });
        DepartmentJson {
            is_available_in_live_chat: d.available_in_live_chat(),
            is_available_in_ticketing_and_messaging: d.available_in_messaging(),
            // Rocket.Chat mails a department's offline messages to its
            // e-mail address when it has one, else to the agents.
            offline_message_mail_to: if d.email.is_empty() {
                "toAllAgents"
            } else {
                "toEmailAddresses"
            },
            offline_message_email_addresses: d.email,
            is_deleted: found.is_none(),
            agent_ids: d.agent_ids,
            chatbot_smart_trigger_action_ids: vec![],
            shift_ids: vec![],
            segment_ids: vec![],
            id: d.id,
            name: d.name,
            description: d.description,
        }
    }
}
