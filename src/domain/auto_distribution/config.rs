//! Comm100-style Auto Distribution: the stored configuration the routing
//! engine reads on every decision (method, last-chatted preference, limits,
//! ordered backup departments), the partial update a PUT applies, and the
//! read-only agent and department references the API shows beside it.

use std::collections::HashSet;

use super::ValidationError;

/// Comm100's "no id" value, answered as the deprecated `backupDepartmentId`
/// of a department without backups (as Comm100 does).
pub const NIL_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The distribution methods are the routing engine's.
pub use super::routing::Method;

/// One ordered backup of a department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupDepartment {
    /// Comm100's id of this backup entry (kept when a client sends it).
    pub id: String,
    pub backup_department_id: String,
    pub order: u32,
}

/// A department's own settings; `None` inherits the global value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentConfig {
    pub department_id: String,
    pub method: Option<Method>,
    pub last_chatted_preferred: Option<bool>,
    /// Ascending `order`, orders unique (see [`AutoDistributionPatch::check`]).
    pub backups: Vec<BackupDepartment>,
}

impl DepartmentConfig {
    /// The deprecated single `backupDepartmentId`: the first backup, or
    /// [`NIL_ID`] when there is none.
    pub fn first_backup_id(&self) -> &str {
        self.backups
            .iter()
            .min_by_key(|b| b.order)
            .map(|b| b.backup_department_id.as_str())
            .unwrap_or(NIL_ID)
    }
}

/// An agent's settings kept with the configuration. The agent's chat limit
/// is not here: it is the user's `livechat.maxNumberSimultaneousChat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    pub agent_id: String,
    pub auto_accept: bool,
}

/// The whole configuration; [`Default`] is what applies when none is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoDistributionConfig {
    pub enabled: bool,
    pub method: Method,
    pub last_chatted_preferred: bool,
    pub limit_all_agents: bool,
    pub max_chats_all_agents: u32,
    pub manual_accept_over_limit: bool,
    pub skip_agents_in_audio_video: bool,
    pub agents: Vec<AgentConfig>,
    pub departments: Vec<DepartmentConfig>,
}

impl Default for AutoDistributionConfig {
    fn default() -> Self {
        AutoDistributionConfig {
            enabled: true,
            method: Method::LeastServed,
            last_chatted_preferred: false,
            limit_all_agents: false,
            max_chats_all_agents: 0,
            manual_accept_over_limit: false,
            skip_agents_in_audio_video: false,
            agents: Vec::new(),
            departments: Vec::new(),
        }
    }
}

/// What the routing engine applies to one department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentDistribution {
    pub method: Method,
    pub last_chatted_preferred: bool,
    /// Backup department ids in ascending `order`.
    pub backups: Vec<String>,
}

impl AutoDistributionConfig {
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The department's method and preference (its own, else the global
    /// ones) and its backups in order. A department without settings of its
    /// own gets the global values and no backups.
    pub fn for_department(&self, department_id: &str) -> DepartmentDistribution {
        let own = self
            .departments
            .iter()
            .find(|d| d.department_id == department_id);
        let mut backups: Vec<&BackupDepartment> =
            own.map(|d| d.backups.iter().collect()).unwrap_or_default();
        backups.sort_by_key(|b| b.order);
        DepartmentDistribution {
            method: own.and_then(|d| d.method).unwrap_or(self.method),
            last_chatted_preferred: own
                .and_then(|d| d.last_chatted_preferred)
                .unwrap_or(self.last_chatted_preferred),
            backups: backups
                .into_iter()
                .map(|b| b.backup_department_id.clone())
                .collect(),
        }
    }

    /// The limit for every agent without one of its own: only when
    /// `ifLimitMaxConcurrentChatsForAllAgents` is on and the value is
    /// positive (0 means no limit, as in Rocket.Chat).
    pub fn global_limit(&self) -> Option<u32> {
        (self.limit_all_agents && self.max_chats_all_agents > 0)
            .then_some(self.max_chats_all_agents)
    }

    /// The limit that applies to an agent whose own limit
    /// (`livechat.maxNumberSimultaneousChat`) is `own`: its own when
    /// positive, else the global one.
    pub fn agent_limit(&self, own: Option<u32>) -> Option<u32> {
        own.filter(|n| *n > 0).or_else(|| self.global_limit())
    }

    /// Whether the agent accepts chats automatically (Comm100's default:
    /// yes, also for agents without an entry).
    pub fn auto_accept(&self, agent_id: &str) -> bool {
        self.agents
            .iter()
            .find(|a| a.agent_id == agent_id)
            .is_none_or(|a| a.auto_accept)
    }
}

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
    pub enabled: Option<bool>,
    pub method: Option<Method>,
    pub last_chatted_preferred: Option<bool>,
    pub limit_all_agents: Option<bool>,
    pub max_chats_all_agents: Option<u32>,
    pub manual_accept_over_limit: Option<bool>,
    pub skip_agents_in_audio_video: Option<bool>,
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

/// An agent as Comm100's `agent` reference shows it, read from the user.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRef {
    pub id: String,
    pub username: String,
    pub name: String,
    pub nickname: Option<String>,
    pub email: String,
    pub roles: Vec<String>,
    pub active: bool,
    pub bio: String,
    pub language: String,
    /// Rocket.Chat's `utcOffset`, in hours.
    pub utc_offset: Option<f64>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `livechat.maxNumberSimultaneousChat`.
    pub max_chats: Option<u32>,
    pub department_ids: Vec<String>,
}

impl AgentRef {
    /// The nickname when set, else the name, else the username.
    pub fn display_name(&self) -> &str {
        [self.nickname.as_deref(), Some(self.name.as_str())]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|s| !s.is_empty())
            .unwrap_or(&self.username)
    }

    /// The name split at its first space: (first name, the rest).
    pub fn first_and_last_name(&self) -> (&str, &str) {
        let name = self.name.trim();
        match name.split_once(char::is_whitespace) {
            Some((first, rest)) => (first, rest.trim()),
            None => (name, ""),
        }
    }

    /// `utcOffset` as `UTC+03:00`; empty when unknown.
    pub fn time_zone(&self) -> String {
        let Some(offset) = self.utc_offset.filter(|o| o.is_finite()) else {
            return String::new();
        };
        let minutes = (offset * 60.0).round() as i64;
        let sign = if minutes < 0 { '-' } else { '+' };
        let minutes = minutes.abs();
        format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

/// A department as Comm100's `department` reference shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRef {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub archived: bool,
    pub show_on_offline_form: bool,
    pub email: String,
    pub agent_ids: Vec<String>,
}

impl DepartmentRef {
    /// Takes chats now: enabled and not archived.
    pub fn available_in_live_chat(&self) -> bool {
        self.enabled && !self.archived
    }

    /// Takes offline messages: shown on the offline form and not archived.
    pub fn available_in_messaging(&self) -> bool {
        self.show_on_offline_form && !self.archived
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(id: &str, order: u32) -> BackupDepartment {
        BackupDepartment {
            id: format!("b-{id}"),
            backup_department_id: id.into(),
            order,
        }
    }

    fn department(id: &str, backups: Vec<BackupDepartment>) -> DepartmentConfig {
        DepartmentConfig {
            department_id: id.into(),
            method: None,
            last_chatted_preferred: None,
            backups,
        }
    }

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
    fn nothing_stored_means_enabled_least_served_without_limit() {
        let c = AutoDistributionConfig::default();
        assert!(c.is_enabled());
        assert_eq!(c.method, Method::LeastServed);
        assert_eq!(c.global_limit(), None);
        assert_eq!(
            c.for_department("d"),
            DepartmentDistribution {
                method: Method::LeastServed,
                last_chatted_preferred: false,
                backups: vec![],
            }
        );
    }

    #[test]
    fn a_department_without_its_own_values_inherits_the_global_ones() {
        let c = AutoDistributionConfig {
            method: Method::RoundRobin,
            last_chatted_preferred: true,
            departments: vec![department("d", vec![backup("b", 1)])],
            ..Default::default()
        };
        let d = c.for_department("d");
        assert_eq!(d.method, Method::RoundRobin);
        assert!(d.last_chatted_preferred);
        assert_eq!(d.backups, vec!["b".to_string()]);
    }

    #[test]
    fn a_department_s_own_method_and_preference_override_the_global_ones() {
        let mut own = department("d", vec![]);
        own.method = Some(Method::CapabilityWeighted);
        own.last_chatted_preferred = Some(false);
        let c = AutoDistributionConfig {
            method: Method::LoadBalancing,
            last_chatted_preferred: true,
            departments: vec![own],
            ..Default::default()
        };
        let d = c.for_department("d");
        assert_eq!(d.method, Method::CapabilityWeighted);
        assert!(!d.last_chatted_preferred);
        assert_eq!(c.for_department("other").method, Method::LoadBalancing);
    }

    #[test]
    fn backups_come_in_ascending_order_whatever_order_they_were_stored_in() {
        let c = AutoDistributionConfig {
            departments: vec![department(
                "d",
                vec![backup("c", 7), backup("a", 1), backup("b", 3)],
            )],
            ..Default::default()
        };
        assert_eq!(c.for_department("d").backups, vec!["a", "b", "c"]);
        assert_eq!(c.departments[0].first_backup_id(), "a");
        assert_eq!(department("x", vec![]).first_backup_id(), NIL_ID);
    }

    #[test]
    fn the_global_limit_applies_only_when_switched_on_and_positive() {
        let mut c = AutoDistributionConfig {
            max_chats_all_agents: 3,
            ..Default::default()
        };
        assert_eq!(c.global_limit(), None);
        c.limit_all_agents = true;
        assert_eq!(c.global_limit(), Some(3));
        assert_eq!(c.agent_limit(Some(5)), Some(5));
        assert_eq!(c.agent_limit(Some(0)), Some(3));
        assert_eq!(c.agent_limit(None), Some(3));
        c.max_chats_all_agents = 0;
        assert_eq!(c.global_limit(), None);
        assert_eq!(c.agent_limit(None), None);
    }

    #[test]
    fn agents_accept_automatically_unless_their_entry_says_otherwise() {
        let c = AutoDistributionConfig {
            agents: vec![AgentConfig {
                agent_id: "a".into(),
                auto_accept: false,
            }],
            ..Default::default()
        };
        assert!(!c.auto_accept("a"));
        assert!(c.auto_accept("b"));
    }

    #[test]
    fn method_names_round_trip_and_unknown_names_are_named() {
        for m in Method::ALL {
            assert_eq!(Method::parse("f", m.as_str()), Ok(m));
        }
        let e = Method::parse("f", "fastest").unwrap_err();
        assert_eq!(e.field, "f");
        assert!(e.message.contains("leastServed"));
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

    #[test]
    fn names_split_into_first_and_last_and_the_nickname_is_the_display_name() {
        let mut a = AgentRef {
            id: "a".into(),
            username: "andy".into(),
            name: "Andy van Liao".into(),
            nickname: None,
            email: String::new(),
            roles: vec![],
            active: true,
            bio: String::new(),
            language: String::new(),
            utc_offset: Some(-3.5),
            created_at: None,
            max_chats: None,
            department_ids: vec![],
        };
        assert_eq!(a.first_and_last_name(), ("Andy", "van Liao"));
        assert_eq!(a.display_name(), "Andy van Liao");
        assert_eq!(a.time_zone(), "UTC-03:30");
        a.nickname = Some("Andy".into());
        assert_eq!(a.display_name(), "Andy");
        a.name = String::new();
        assert_eq!(a.first_and_last_name(), ("", ""));
    }
}
