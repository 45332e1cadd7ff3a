//! The body of `PUT livechat/autoDistributionConfig`, in Comm100's shape,
//! and its conversion into the domain patch.
// Field names are the JSON keys: `validator` names a failing field by its
// Rust name, and the client must read the name it sent.
#![allow(non_snake_case)]

use serde::Deserialize;
use validator::Validate;

use super::comm100_switches;
use crate::domain::ValidationError;
use crate::domain::auto_distribution::{
    AgentConfig, AgentSetting, AutoDistributionPatch, BackupDepartment, Change, ChatLimit,
    DepartmentConfig, Method, NIL_ID, Switches,
};
use crate::domain::id::new_id;
use crate::http::extract::Tracked;

/// Limits and orders are stored as Rocket.Chat stores limits: 32-bit.
const MAX_NUMBER: i64 = ChatLimit::MAX as i64;

fn method_name(raw: &str) -> Result<(), validator::ValidationError> {
    Method::parse("", raw)
        .map(|_| ())
        .map_err(|e| validator::ValidationError::new("method").with_message(e.message.into()))
}

/// Every field is optional: what is left out keeps its stored value.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    /// The seven switches; their rules are checked as they are read.
    #[serde(flatten)]
    #[schema(schema_with = comm100_switches::change)]
    pub switches: Tracked<Switches<Change>>,
    /// Replaces the stored list when given.
    #[validate(nested)]
    pub agentAutoDistributionConfigs: Option<Vec<AgentEntry>>,
    /// Replaces the stored list when given.
    #[validate(nested)]
    pub departmentAutoDistributionConfigs: Option<Vec<DepartmentEntry>>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    #[validate(length(min = 1, max = 128, message = "must be an agent id"))]
    pub agentId: String,
    /// Stored as the user's `livechat.maxNumberSimultaneousChat`; kept
    /// when left out.
    #[validate(range(min = 0, max = MAX_NUMBER, message = "must be a whole number from 0"))]
    pub maxConcurrentChats: Option<i64>,
    /// Defaults to true, as in Comm100.
    pub ifAutoAcceptChat: Option<bool>,
    /// Read-only; ignored.
    #[expect(dead_code, reason = "accepted as Comm100 echoes it back, never used")]
    pub agent: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentEntry {
    #[validate(length(min = 1, max = 128, message = "must be a department id"))]
    pub departmentId: String,
    /// Absent or null: the global method.
    #[validate(custom(function = "method_name"))]
    pub autoDistributionMethod: Option<String>,
    /// Absent or null: the global preference.
    pub isLastChattedAgentPreferred: Option<bool>,
    /// Deprecated: read only when `backupDepartments` is left out.
    pub backupDepartmentId: Option<String>,
    #[validate(nested)]
    pub backupDepartments: Option<Vec<BackupEntry>>,
    /// Read-only; ignored.
    #[expect(dead_code, reason = "accepted as Comm100 echoes it back, never used")]
    pub department: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupEntry {
    /// The department this backup belongs to; must be the entry's own.
    pub departmentId: Option<String>,
    #[validate(length(min = 1, max = 128, message = "must be a department id"))]
    pub backupDepartmentId: String,
    #[validate(range(min = 0, max = MAX_NUMBER, message = "must be a whole number from 0"))]
    pub order: i64,
    /// Generated when left out.
    #[validate(length(max = 128))]
    pub id: Option<String>,
}

/// Numbers were range-checked by `validator`, so they fit.
fn small(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn parse_method(field: &str, raw: Option<String>) -> Result<Option<Method>, ValidationError> {
    raw.map(|m| Method::parse(field, &m)).transpose()
}

impl ConfigBody {
    /// The domain patch, checked across entries.
    pub fn into_patch(self) -> Result<AutoDistributionPatch, ValidationError> {
        let agents = self.agentAutoDistributionConfigs.map(|list| {
            list.into_iter()
                .map(|a| AgentSetting {
                    config: AgentConfig {
                        agent_id: a.agentId,
                        auto_accept: a.ifAutoAcceptChat.unwrap_or(true),
                    },
                    max_chats: a.maxConcurrentChats.map(small),
                })
                .collect()
        });
        let departments = self
            .departmentAutoDistributionConfigs
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, d)| d.into_config(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        AutoDistributionPatch {
            switches: self.switches.0,
            agents,
            departments,
        }
        .check()
    }
}

impl DepartmentEntry {
    fn into_config(self, index: usize) -> Result<DepartmentConfig, ValidationError> {
        let here = format!("departmentAutoDistributionConfigs[{index}]");
        let backups = match self.backupDepartments {
            Some(list) => list
                .into_iter()
                .enumerate()
                .map(|(j, b)| {
                    if b.departmentId
                        .as_ref()
                        .is_some_and(|d| *d != self.departmentId)
                    {
                        return Err(ValidationError::new(
                            format!("{here}.backupDepartments[{j}].departmentId"),
                            "match",
                            "must be the departmentId of the entry it is in",
                        ));
                    }
                    Ok(BackupDepartment {
                        id: b.id.filter(|id| !id.is_empty()).unwrap_or_else(new_id),
                        backup_department_id: b.backupDepartmentId,
                        order: small(b.order),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            // A client of the older API names a single backup.
            None => self
                .backupDepartmentId
                .filter(|id| !id.is_empty() && id != NIL_ID)
                .map(|id| BackupDepartment {
                    id: new_id(),
                    backup_department_id: id,
                    order: 1,
                })
                .into_iter()
                .collect(),
        };
        Ok(DepartmentConfig {
            method: parse_method(
                &format!("{here}.autoDistributionMethod"),
                self.autoDistributionMethod,
            )?,
            last_chatted_preferred: self.isLastChattedAgentPreferred,
            department_id: self.departmentId,
            backups,
        })
    }
}
