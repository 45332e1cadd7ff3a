//! Comm100-style Auto Distribution: the stored configuration the routing
//! engine reads on every decision (its seven switches, the agents' and
//! departments' own settings, ordered backup departments), the partial
//! update a PUT applies, and the read-only agent and department references
//! the API shows beside it.

mod config;
mod patch;
mod refs;
mod switches;

pub use config::{
    AgentConfig, AutoDistributionConfig, BackupDepartment, DepartmentConfig, DepartmentDistribution,
};
pub use patch::{AGENTS_FIELD, AgentSetting, AutoDistributionPatch, DEPARTMENTS_FIELD};
pub use refs::{AgentRef, DepartmentRef};
pub use switches::{Change, ChatLimit, Hold, Set, Switch, Switches};

/// The distribution methods are the routing engine's.
pub use super::routing::Method;

/// Comm100's "no id" value, answered as the deprecated `backupDepartmentId`
/// of a department without backups (as Comm100 does).
pub const NIL_ID: &str = "00000000-0000-0000-0000-000000000000";
