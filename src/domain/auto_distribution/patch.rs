//! A PUT: the change it makes and the rules across its entries.

use std::collections::HashSet;

use super::{AgentConfig, Change, DepartmentConfig, Switches};
use crate::domain::ValidationError;

/// An agent entry of a PUT: the settings kept with the configuration and,
/// when given, the limit to store on the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSetting {
    pub config: AgentConfig,
    pub max_chats: Option<u32>,
}

/// A PUT: only the fields given change; a given list replaces the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoDistributionPatch {
    pub switches: Switches<Change>,
    pub agents: Option<Vec<AgentSetting>>,
    pub departments: Option<Vec<DepartmentConfig>>,
}

pub const AGENTS_FIELD: &str = "agentAutoDistributionConfigs";
pub const DEPARTMENTS_FIELD: &str = "departmentAutoDistributionConfigs";

impl AutoDistributionPatch {
    /// Rules across entries: no agent or department listed twice, no
    /// department its own backup, no backup listed twice, no two backups
    /// with the same order. Sorts each department's backups by order.
    pub fn check(mut self) -> Result<Self, ValidationError> {
        if self == AutoDistributionPatch::default() {
            return Err(ValidationError::new(
                "body",
                "required",
                "must name at least one setting to change",
            ));
        }
        if let Some(agents) = &self.agents {
            let mut seen = HashSet::new();
            for (i, a) in agents.iter().enumerate() {
                if !seen.insert(a.config.agent_id.as_str()) {
                    return Err(listed_twice(format!("{AGENTS_FIELD}[{i}].agentId")));
                }
            }
        }
        if let Some(departments) = &mut self.departments {
            let mut seen = HashSet::new();
            for (i, d) in departments.iter_mut().enumerate() {
                let here = format!("{DEPARTMENTS_FIELD}[{i}]");
                if !seen.insert(d.department_id.clone()) {
                    return Err(listed_twice(format!("{here}.departmentId")));
                }
                check_backups(d, &here)?;
                d.backups.sort_by_key(|b| b.order);
            }
        }
        Ok(self)
    }

    /// Every agent id with the field that names it.
    pub fn agent_ids(&self) -> Vec<(String, &str)> {
        self.agents
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, a)| {
                (
                    format!("{AGENTS_FIELD}[{i}].agentId"),
                    a.config.agent_id.as_str(),
                )
            })
            .collect()
    }

    /// Every department id (configured and backups) with its field.
    pub fn department_ids(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        for (i, d) in self.departments.iter().flatten().enumerate() {
            out.push((
                format!("{DEPARTMENTS_FIELD}[{i}].departmentId"),
                d.department_id.as_str(),
            ));
            for (j, b) in d.backups.iter().enumerate() {
                out.push((
                    format!("{DEPARTMENTS_FIELD}[{i}].backupDepartments[{j}].backupDepartmentId"),
                    b.backup_department_id.as_str(),
                ));
            }
        }
        out
    }

    /// The first id that is not among the known agents or departments.
    pub fn check_references(
        &self,
        known_agents: &HashSet<String>,
        known_departments: &HashSet<String>,
    ) -> Result<(), ValidationError> {
        let unknown = |ids: Vec<(String, &str)>, known: &HashSet<String>, what: &str| {
            ids.into_iter()
                .find(|(_, id)| !known.contains(*id))
                .map(|(field, id)| {
                    ValidationError::new(field, "exists", format!("`{id}` is not {what}"))
                })
        };
        match unknown(self.agent_ids(), known_agents, "a livechat agent") {
            Some(e) => Err(e),
            None => match unknown(self.department_ids(), known_departments, "a department") {
                Some(e) => Err(e),
                None => Ok(()),
            },
        }
    }
}

fn listed_twice(field: String) -> ValidationError {
    ValidationError::new(field, "unique", "is listed more than once")
}

fn check_backups(d: &DepartmentConfig, here: &str) -> Result<(), ValidationError> {
    let mut orders = HashSet::new();
    let mut targets = HashSet::new();
    for (j, b) in d.backups.iter().enumerate() {
        let field = format!("{here}.backupDepartments[{j}]");
        if b.backup_department_id == d.department_id {
            return Err(ValidationError::new(
                format!("{field}.backupDepartmentId"),
                "self",
                "a department cannot be its own backup",
            ));
        }
        if !targets.insert(b.backup_department_id.as_str()) {
            return Err(listed_twice(format!("{field}.backupDepartmentId")));
        }
        if !orders.insert(b.order) {
            return Err(ValidationError::new(
                format!("{field}.order"),
                "unique",
                format!("order {} is already used by another backup", b.order),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auto_distribution::config::tests::{backup, department};

    fn agent(id: &str) -> AgentSetting {
        AgentSetting {
            config: AgentConfig {
                agent_id: id.into(),
                auto_accept: true,
            },
            max_chats: None,
        }
    }

    #[test]
    fn a_department_listed_as_its_own_backup_is_refused() {
        let patch = AutoDistributionPatch {
            departments: Some(vec![department("d", vec![backup("e", 1), backup("d", 2)])]),
            ..Default::default()
        };
        let e = patch.check().unwrap_err();
        assert_eq!(
            e.field,
            "departmentAutoDistributionConfigs[0].backupDepartments[1].backupDepartmentId"
        );
    }

    #[test]
    fn two_backups_with_the_same_order_are_refused() {
        let patch = AutoDistributionPatch {
            departments: Some(vec![department("d", vec![backup("e", 1), backup("f", 1)])]),
            ..Default::default()
        };
        let e = patch.check().unwrap_err();
        assert_eq!(
            e.field,
            "departmentAutoDistributionConfigs[0].backupDepartments[1].order"
        );
    }

    #[test]
    fn duplicate_entries_are_refused() {
        let patch = AutoDistributionPatch {
            agents: Some(vec![agent("a"), agent("b"), agent("a")]),
            ..Default::default()
        };
        assert_eq!(
            patch.check().unwrap_err().field,
            "agentAutoDistributionConfigs[2].agentId"
        );
        let patch = AutoDistributionPatch {
            departments: Some(vec![department("d", vec![]), department("d", vec![])]),
            ..Default::default()
        };
        assert_eq!(
            patch.check().unwrap_err().field,
            "departmentAutoDistributionConfigs[1].departmentId"
        );
    }

    #[test]
    fn a_checked_patch_has_its_backups_in_order() {
        let patch = AutoDistributionPatch {
            departments: Some(vec![department("d", vec![backup("f", 2), backup("e", 1)])]),
            ..Default::default()
        }
        .check()
        .unwrap();
        let backups = &patch.departments.unwrap()[0].backups;
        assert_eq!(backups[0].backup_department_id, "e");
    }

    #[test]
    fn unknown_references_are_named_by_field() {
        let patch = AutoDistributionPatch {
            agents: Some(vec![agent("a")]),
            departments: Some(vec![department("d", vec![backup("gone", 1)])]),
            ..Default::default()
        };
        let agents: HashSet<String> = ["a".to_string()].into();
        let departments: HashSet<String> = ["d".to_string()].into();
        let e = patch.check_references(&agents, &departments).unwrap_err();
        assert_eq!(
            e.field,
            "departmentAutoDistributionConfigs[0].backupDepartments[0].backupDepartmentId"
        );
        let e = patch
            .check_references(&HashSet::new(), &departments)
            .unwrap_err();
        assert_eq!(e.field, "agentAutoDistributionConfigs[0].agentId");
    }
}
