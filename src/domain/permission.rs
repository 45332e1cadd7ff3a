//! Rocket.Chat's permissions that Switchboard checks, and the roles each is
//! granted to when the database has no document for it yet.

use crate::domain::user::{ROLE_ADMIN, ROLE_AGENT, ROLE_MANAGER, ROLE_MONITOR};

/// A permission id, as stored in `rocketchat_permissions._id`.
pub type Permission = &'static str;

pub const VIEW_DEPARTMENTS: Permission = "view-livechat-departments";
pub const MANAGE_DEPARTMENTS: Permission = "manage-livechat-departments";
pub const ADD_DEPARTMENT_AGENTS: Permission = "add-livechat-department-agents";
pub const REMOVE_DEPARTMENT: Permission = "remove-livechat-department";
pub const VIEW_L_ROOM: Permission = "view-l-room";
pub const VIEW_LIVECHAT_MANAGER: Permission = "view-livechat-manager";
pub const VIEW_LIVECHAT_ROOMS: Permission = "view-livechat-rooms";
pub const MANAGE_AGENTS: Permission = "manage-livechat-agents";
pub const MANAGE_MANAGERS: Permission = "manage-livechat-managers";
pub const CREATE_USER: Permission = "create-user";
pub const EDIT_OTHER_USER_INFO: Permission = "edit-other-user-info";
pub const ACCESS_PERMISSIONS: Permission = "access-permissions";

/// Rocket.Chat's default grants. Seeded at start-up only where the
/// permission document is missing: an operator's change is never undone.
pub const DEFAULT_GRANTS: &[(Permission, &[&str])] = &[
    (VIEW_DEPARTMENTS, &[ROLE_MANAGER, ROLE_MONITOR, ROLE_ADMIN]),
    (
        MANAGE_DEPARTMENTS,
        &[ROLE_MANAGER, ROLE_MONITOR, ROLE_ADMIN],
    ),
    (
        ADD_DEPARTMENT_AGENTS,
        &[ROLE_MANAGER, ROLE_MONITOR, ROLE_ADMIN],
    ),
    (REMOVE_DEPARTMENT, &[ROLE_MANAGER, ROLE_ADMIN]),
    (
        VIEW_L_ROOM,
        &[ROLE_MANAGER, ROLE_MONITOR, ROLE_AGENT, ROLE_ADMIN],
    ),
    (
        VIEW_LIVECHAT_MANAGER,
        &[ROLE_MANAGER, ROLE_MONITOR, ROLE_ADMIN],
    ),
    (
        VIEW_LIVECHAT_ROOMS,
        &[ROLE_MANAGER, ROLE_MONITOR, ROLE_ADMIN],
    ),
    (MANAGE_AGENTS, &[ROLE_MANAGER, ROLE_MONITOR, ROLE_ADMIN]),
    (MANAGE_MANAGERS, &[ROLE_MANAGER, ROLE_ADMIN]),
    (CREATE_USER, &[ROLE_ADMIN]),
    (EDIT_OTHER_USER_INFO, &[ROLE_ADMIN]),
    (ACCESS_PERMISSIONS, &[ROLE_ADMIN]),
];
