//! The stored document's shape: the switches, the agents' and departments'
//! own settings, and the conversions to and from the domain's types.

use mongodb::bson::{self, Bson, Document, doc};
use serde::{Deserialize, Serialize};

use super::super::{now, num};
use crate::domain::auto_distribution::{
    AgentConfig, AutoDistributionConfig, AutoDistributionPatch, BackupDepartment, Change,
    ChatLimit, DepartmentConfig, Method, Set, Switches,
};
use crate::error::Error;

/// The stored document. Its switches are read by [`readable`] first, so
/// that the stored values that Rocket.Chat or an older or newer Switchboard
/// wrote read as the configuration's.
#[derive(Debug, Deserialize)]
struct ConfigDoc {
    #[serde(flatten)]
    switches: Switches<Set>,
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

pub(super) fn yes() -> bool {
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

pub(super) fn clamp_u32(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}

impl From<ConfigDoc> for AutoDistributionConfig {
    fn from(d: ConfigDoc) -> Self {
        AutoDistributionConfig {
            switches: d.switches,
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

/// `stored` with every switch readable as the configuration's: numbers in
/// any of the forms Rocket.Chat writes (int32, int64, double, numeric
/// string), null or absent as the default, and a value this version cannot
/// read (a method written by a newer version, or by hand) as the default,
/// with a warning, rather than failing every routing decision. A switch of
/// another kind that cannot be read stays an error. The switches' keys and
/// kinds are read off the defaults' own serialization.
fn readable(mut stored: Document) -> Result<Document, Error> {
    let defaults = bson::to_document(&AutoDistributionConfig::default().switches)?;
    for (key, default) in &defaults {
        let value = match (default, stored.get(key)) {
            (_, None | Some(Bson::Null)) => None,
            (Bson::Int64(_), Some(v)) => {
                num::read_i64(v).map(|n| Bson::Int64(n.clamp(0, i64::from(ChatLimit::MAX))))
            }
            (_, Some(v)) => Some(v.clone()),
        };
        let value = match value {
            Some(v) if reads_as_switch(key, &v) => v,
            Some(v) if matches!(default, Bson::String(_)) => {
                tracing::warn!(setting = %key, value = %v, "unreadable auto distribution setting stored; ignoring it");
                default.clone()
            }
            Some(v) => v,
            None => default.clone(),
        };
        stored.insert(key, value);
    }
    Ok(stored)
}

/// Whether `value` reads as the switch stored under `key`.
fn reads_as_switch(key: &str, value: &Bson) -> bool {
    bson::from_document::<Switches<Change>>(doc! {key: value.clone()}).is_ok()
}

/// The `$set` of a patch: exactly the fields it gives. A change
/// serializes the switches it leaves out as null, which it never stores.
pub(super) fn set_of(patch: &AutoDistributionPatch) -> Result<Document, Error> {
    let mut set = doc! {"_updatedAt": now()};
    for (key, value) in bson::to_document(&patch.switches)? {
        if value != Bson::Null {
            set.insert(key, value);
        }
    }
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

/// The configuration stored in `found`; the defaults when there is none.
pub(super) fn config_of(found: Option<Document>) -> Result<AutoDistributionConfig, Error> {
    let doc: ConfigDoc = bson::from_document(readable(found.unwrap_or_default())?)?;
    Ok(doc.into())
}
