//! The configuration in force: the switches, each agent's and department's
//! own settings, and what they mean for one department or agent.

use std::ops::Deref;

use super::{Method, NIL_ID, Set, Switches};

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
    pub switches: Switches<Set>,
    pub agents: Vec<AgentConfig>,
    pub departments: Vec<DepartmentConfig>,
}

impl Default for AutoDistributionConfig {
    /// Enabled; every other switch at its type's default (least served, no
    /// limit, everything else off).
    fn default() -> Self {
        AutoDistributionConfig {
            switches: Switches {
                enabled: true,
                ..Default::default()
            },
            agents: Vec::new(),
            departments: Vec::new(),
        }
    }
}

/// The engine reads the switches as the configuration's own settings
/// (`config.method`), as it did before they were gathered in one type.
impl Deref for AutoDistributionConfig {
    type Target = Switches<Set>;

    fn deref(&self) -> &Switches<Set> {
        &self.switches
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
        let max = self.max_chats_all_agents.get();
        (self.limit_all_agents && max > 0).then_some(max)
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::auto_distribution::ChatLimit;

    pub(in crate::domain::auto_distribution) fn backup(id: &str, order: u32) -> BackupDepartment {
        BackupDepartment {
            id: format!("b-{id}"),
            backup_department_id: id.into(),
            order,
        }
    }

    pub(in crate::domain::auto_distribution) fn department(
        id: &str,
        backups: Vec<BackupDepartment>,
    ) -> DepartmentConfig {
        DepartmentConfig {
            department_id: id.into(),
            method: None,
            last_chatted_preferred: None,
            backups,
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
            switches: Switches {
                method: Method::RoundRobin,
                last_chatted_preferred: true,
                ..Default::default()
            },
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
            switches: Switches {
                method: Method::LoadBalancing,
                last_chatted_preferred: true,
                ..Default::default()
            },
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
        let mut c = AutoDistributionConfig::default();
        c.switches.max_chats_all_agents = ChatLimit::new(3).unwrap();
        assert_eq!(c.global_limit(), None);
        c.switches.limit_all_agents = true;
        assert_eq!(c.global_limit(), Some(3));
        assert_eq!(c.agent_limit(Some(5)), Some(5));
        assert_eq!(c.agent_limit(Some(0)), Some(3));
        assert_eq!(c.agent_limit(None), Some(3));
        c.switches.max_chats_all_agents = ChatLimit::default();
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
        for &m in Method::ALL {
            assert_eq!(Method::parse("f", m.as_str()), Ok(m));
        }
        let e = Method::parse("f", "fastest").unwrap_err();
        assert_eq!(e.field, "f");
        assert!(e.message.contains("leastServed"));
    }
}
