//! The routing decision's rules: who is eligible, which limit applies, the
//! order each method ranks agents in, and the backup path. Pure functions;
//! the store applies them atomically.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use super::ValidationError;
use super::names::{self, IntoStaticStr, VariantArray};
use super::user::{LivechatStatus, ROLE_AGENT, User, UserStatus};

/// How an agent is chosen among the eligible ones; least served when none
/// is configured. Stored and answered by its name (its serde form is in
/// `auto_distribution::switches`, which names the field in its errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "camelCase")]
pub enum Method {
    /// Rocket.Chat's Auto_Selection: lowest `count`, then `order`, then
    /// `username`.
    #[default]
    LeastServed,
    /// Fewest open chats now, then earliest last assignment, then username.
    LoadBalancing,
    /// Oldest last assignment (never-assigned first), then `order`, then
    /// username; load does not matter, limits do.
    RoundRobin,
    /// Lowest open chats ÷ chat limit, then earliest last assignment, then
    /// username.
    CapabilityWeighted,
}

impl Method {
    /// Every method, in declaration order.
    pub const ALL: &'static [Method] = <Method as names::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses a method name, naming `field` when it is not one.
    pub fn parse(field: &str, raw: &str) -> Result<Method, ValidationError> {
        raw.parse().map_err(|_: ValidationError| {
            ValidationError::new(
                field,
                "method",
                format!(
                    "`{raw}` is not a method; allowed values are {}",
                    names::listed::<Method>()
                ),
            )
        })
    }

    /// The ranking, as (field, direction) pairs over an agent link.
    pub fn ranking(self) -> &'static [(&'static str, i32)] {
        match self {
            Method::LeastServed => &[("count", 1), ("order", 1), ("username", 1)],
            Method::LoadBalancing => &[
                ("agentOpenChats", 1),
                ("lastRoutingTime", 1),
                ("username", 1),
            ],
            Method::RoundRobin => &[("lastRoutingTime", 1), ("order", 1), ("username", 1)],
            Method::CapabilityWeighted => &[
                ("agentLoadRatio", 1),
                ("lastRoutingTime", 1),
                ("username", 1),
            ],
        }
    }

    /// Why an agent won under this method, in words.
    pub fn explain(self, pick: &Pick) -> String {
        match self {
            Method::LeastServed => format!(
                "least served: {} had the lowest count ({}) among eligible agents, order {}",
                pick.username, pick.count_before, pick.order
            ),
            Method::LoadBalancing => format!(
                "load balancing: {} had the fewest open chats ({})",
                pick.username, pick.open_before
            ),
            Method::RoundRobin => match pick.last_assigned {
                Some(_) => format!(
                    "round robin: {} had waited longest since its last assignment",
                    pick.username
                ),
                None => format!(
                    "round robin: {} had never been assigned a chat",
                    pick.username
                ),
            },
            Method::CapabilityWeighted => format!(
                "capability weighted: {} had the lowest load ratio ({} open of {})",
                pick.username,
                pick.open_before,
                pick.limit
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "no limit".into())
            ),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s).ok_or_else(|| {
            ValidationError::new(
                "autoDistributionMethod",
                "enum",
                format!("must be one of {}", names::listed::<Method>()),
            )
        })
    }
}

/// What the store reports about the agent it picked.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub agent_id: String,
    pub username: String,
    pub count_before: i64,
    pub order: i64,
    pub open_before: i64,
    pub limit: Option<u32>,
    pub last_assigned: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whether chats may be routed to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eligibility {
    /// Active, a livechat agent, `available`, and not `offline`.
    pub eligible: bool,
    /// Eligible and not `away` either: what counts when away agents are
    /// excluded (`routing.exclude_away`).
    pub eligible_when_away_excluded: bool,
}

pub fn eligibility(user: &User) -> Eligibility {
    let eligible = user.active
        && user.has_role(ROLE_AGENT)
        && user.status_livechat == LivechatStatus::Available
        && user.status != UserStatus::Offline;
    Eligibility {
        eligible,
        eligible_when_away_excluded: eligible && user.status != UserStatus::Away,
    }
}

/// The chat limit on one agent: its own when set (non-zero), else the
/// global default; 0 means no limit.
pub fn agent_limit(own: Option<u32>, global: u32) -> Option<u32> {
    match own {
        Some(n) if n > 0 => Some(n),
        _ => (global > 0).then_some(global),
    }
}

/// Whether one more chat fits under `limit`.
pub fn has_room(open: i64, limit: Option<u32>) -> bool {
    limit.is_none_or(|l| open < i64::from(l))
}

/// The count a newly linked or returning agent starts at: the lowest count
/// among the other eligible agents of the department (0 when none), never
/// lower than what it has.
pub fn fair_count(current: i64, lowest_other: Option<i64>) -> i64 {
    current.max(lowest_other.unwrap_or(0))
}

/// The departments to try, in order: the department itself, then each
/// backup in ascending order followed depth-first by its own backups,
/// never visiting a department twice (cycles end there).
pub fn backup_path(start: &str, backups_of: impl Fn(&str) -> Vec<String>) -> Vec<String> {
    fn walk(
        id: &str,
        backups_of: &dyn Fn(&str) -> Vec<String>,
        seen: &mut HashSet<String>,
        out: &mut Vec<String>,
    ) {
        if !seen.insert(id.to_string()) {
            return;
        }
        out.push(id.to_string());
        for next in backups_of(id) {
            walk(&next, backups_of, seen, out);
        }
    }
    let mut out = Vec::new();
    walk(start, &backups_of, &mut HashSet::new(), &mut out);
    out
}

/// Whether room in one of `departments` can serve a chat that asked for
/// `start`: the department itself or one on its backup chain.
pub fn reaches(
    start: &str,
    departments: &[String],
    backups_of: impl Fn(&str) -> Vec<String>,
) -> bool {
    backup_path(start, backups_of)
        .iter()
        .any(|d| departments.contains(d))
}

/// Why the visitor's previous agent took the chat, in words.
pub fn explain_last_chatted(pick: &Pick) -> String {
    format!(
        "last-chatted agent preferred: {} served this visitor before",
        pick.username
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_in_a_backup_department_reaches_the_chats_that_fall_back_to_it() {
        let backups = |d: &str| match d {
            "a" => vec!["b".to_string()],
            "b" => vec!["c".to_string()],
            _ => vec![],
        };
        let c = ["c".to_string()];
        assert!(reaches("a", &c, backups));
        assert!(reaches("c", &c, backups));
        assert!(!reaches("c", &["a".to_string()], backups));
        assert!(!reaches("x", &c, backups));
    }
    use crate::domain::user::UserEmail;

    fn agent(status: UserStatus, livechat: LivechatStatus, active: bool) -> User {
        User {
            id: "a".into(),
            username: "a".into(),
            name: "A".into(),
            emails: vec![UserEmail {
                address: "a@b".into(),
                verified: false,
            }],
            roles: vec!["livechat-agent".into()],
            status,
            status_livechat: livechat,
            active,
            max_chats: None,
        }
    }

    #[test]
    fn an_online_available_active_agent_is_eligible() {
        let a = agent(UserStatus::Online, LivechatStatus::Available, true);
        assert_eq!(
            eligibility(&a),
            Eligibility {
                eligible: true,
                eligible_when_away_excluded: true
            }
        );
    }

    #[test]
    fn offline_unavailable_and_inactive_agents_are_never_eligible() {
        for a in [
            agent(UserStatus::Offline, LivechatStatus::Available, true),
            agent(UserStatus::Online, LivechatStatus::NotAvailable, true),
            agent(UserStatus::Online, LivechatStatus::Available, false),
        ] {
            assert_eq!(
                eligibility(&a),
                Eligibility {
                    eligible: false,
                    eligible_when_away_excluded: false
                }
            );
        }
        let mut not_agent = agent(UserStatus::Online, LivechatStatus::Available, true);
        not_agent.roles = vec!["user".into()];
        assert_eq!(
            eligibility(&not_agent),
            Eligibility {
                eligible: false,
                eligible_when_away_excluded: false
            }
        );
    }

    #[test]
    fn an_away_agent_is_eligible_unless_away_is_excluded() {
        let a = agent(UserStatus::Away, LivechatStatus::Available, true);
        assert_eq!(
            eligibility(&a),
            Eligibility {
                eligible: true,
                eligible_when_away_excluded: false
            }
        );
    }

    #[test]
    fn the_agents_own_limit_overrides_the_global_one_and_zero_means_none() {
        assert_eq!(agent_limit(Some(2), 5), Some(2));
        assert_eq!(agent_limit(Some(0), 5), Some(5));
        assert_eq!(agent_limit(None, 5), Some(5));
        assert_eq!(agent_limit(None, 0), None);
    }

    #[test]
    fn an_agent_over_its_limit_is_never_eligible() {
        assert!(has_room(1, Some(2)));
        assert!(!has_room(2, Some(2)));
        assert!(!has_room(3, Some(2)));
        assert!(has_room(1000, None));
    }

    #[test]
    fn a_returning_agent_starts_at_the_lowest_other_count_and_is_never_lowered() {
        assert_eq!(fair_count(0, Some(40)), 40);
        assert_eq!(fair_count(50, Some(40)), 50);
        assert_eq!(fair_count(0, None), 0);
    }

    #[test]
    fn backups_are_followed_in_order_depth_first_without_revisiting() {
        let graph = |id: &str| -> Vec<String> {
            match id {
                "a" => vec!["b".into(), "c".into()],
                "b" => vec!["d".into(), "a".into()],
                "c" => vec!["b".into()],
                "d" => vec!["a".into()],
                _ => vec![],
            }
        };
        assert_eq!(backup_path("a", graph), vec!["a", "b", "d", "c"]);
    }

    #[test]
    fn methods_parse_from_their_names() {
        for &m in Method::ALL {
            assert_eq!(m.as_str().parse::<Method>().unwrap(), m);
        }
        assert!("fastest".parse::<Method>().is_err());
    }
}
