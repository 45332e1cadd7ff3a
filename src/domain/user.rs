//! Users, their roles and their presence.

use std::fmt;
use std::str::FromStr;

use validator::ValidateEmail;

use serde::{Deserialize, Serialize};

use super::ValidationError;
use super::names::{self, IntoStaticStr, VariantArray};

/// The roles Switchboard knows. Stored as their Rocket.Chat names.
pub const KNOWN_ROLES: &[&str] = &[
    ROLE_ADMIN,
    ROLE_MANAGER,
    ROLE_MONITOR,
    ROLE_AGENT,
    ROLE_USER,
];
pub const ROLE_ADMIN: &str = "admin";
pub const ROLE_MANAGER: &str = "livechat-manager";
pub const ROLE_MONITOR: &str = "livechat-monitor";
pub const ROLE_AGENT: &str = "livechat-agent";
pub const ROLE_USER: &str = "user";

/// A user as the rest of the service sees it (never its credentials).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub name: String,
    pub emails: Vec<UserEmail>,
    pub roles: Vec<String>,
    pub status: UserStatus,
    pub status_livechat: LivechatStatus,
    pub active: bool,
    /// `livechat.maxNumberSimultaneousChat`; `None` or 0 means no limit of its own.
    pub max_chats: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEmail {
    pub address: String,
    pub verified: bool,
}

impl User {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Only livechat agents may be linked to a department or routed to.
    pub fn is_livechat_agent(&self) -> bool {
        self.has_role(ROLE_AGENT)
    }

    /// Whether the user takes chats now: an active agent, available for
    /// livechat and not offline (nor away, when `exclude_away`). The same
    /// rule a decision applies to the agents it chooses from.
    pub fn takes_chats(&self, exclude_away: bool) -> bool {
        self.active
            && self.is_livechat_agent()
            && self.status_livechat == LivechatStatus::Available
            && self.status != UserStatus::Offline
            && !(exclude_away && self.status == UserStatus::Away)
    }
}

/// A username as Rocket.Chat accepts it by default (`[0-9a-zA-Z-_.]+`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Username, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ValidationError::new(field, "required", "must not be empty"));
        }
        if raw.chars().count() > 120 {
            return Err(ValidationError::new(
                field,
                "length",
                "must be at most 120 characters",
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ValidationError::new(
                field,
                "pattern",
                "may only contain letters, digits, '-', '_' and '.'",
            ));
        }
        Ok(Username(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A syntactically valid e-mail address (`bla@bla` is valid), stored
/// lowercased as Meteor stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Email, ValidationError> {
        let trimmed = raw.trim();
        if !trimmed.validate_email() {
            return Err(ValidationError::new(
                field,
                "email",
                "must be a valid e-mail address",
            ));
        }
        Ok(Email(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role name that Switchboard knows.
pub fn parse_roles(field: &str, roles: &[String]) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for (index, role) in roles.iter().enumerate() {
        if !KNOWN_ROLES.contains(&role.as_str()) {
            return Err(ValidationError::new(
                format!("{field}[{index}]"),
                "role",
                format!(
                    "`{role}` is not a role; known roles are {}",
                    KNOWN_ROLES.join(", ")
                ),
            ));
        }
        if !out.contains(role) {
            out.push(role.clone());
        }
    }
    Ok(out)
}

/// A user to create, checked.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub name: String,
    pub email: Email,
    pub roles: Vec<String>,
    pub active: bool,
}

/// The user's connection status, as `users.setStatus` sets it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum UserStatus {
    Online,
    Away,
    Busy,
    Offline,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl FromStr for UserStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s).ok_or_else(|| {
            ValidationError::new(
                "status",
                "enum",
                format!("must be one of {}", names::listed::<UserStatus>()),
            )
        })
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an agent takes livechats (`statusLivechat`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum LivechatStatus {
    Available,
    NotAvailable,
}

impl LivechatStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn toggled(self) -> LivechatStatus {
        match self {
            LivechatStatus::Available => LivechatStatus::NotAvailable,
            LivechatStatus::NotAvailable => LivechatStatus::Available,
        }
    }
}

impl FromStr for LivechatStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s).ok_or_else(|| {
            ValidationError::new("status", "enum", "must be available or not-available")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rocketchat_test_addresses_are_valid_emails() {
        assert_eq!(
            Email::parse("email", "bla@bla").unwrap().as_str(),
            "bla@bla"
        );
        assert_eq!(
            Email::parse("email", "A@B.com").unwrap().as_str(),
            "a@b.com"
        );
        assert!(Email::parse("email", "not-an-email").is_err());
    }

    #[test]
    fn usernames_follow_rocketchat_default_pattern() {
        assert!(Username::parse("username", "agent.one_2-x").is_ok());
        assert_eq!(
            Username::parse("username", "a b").unwrap_err().rule,
            "pattern"
        );
        assert_eq!(
            Username::parse("username", " ").unwrap_err().rule,
            "required"
        );
    }

    #[test]
    fn unknown_roles_are_refused_naming_the_position() {
        let e = parse_roles("roles", &["user".into(), "wizard".into()]).unwrap_err();
        assert_eq!(e.field, "roles[1]");
        assert_eq!(
            parse_roles("roles", &["user".into(), "user".into()]).unwrap(),
            vec!["user".to_string()]
        );
    }

    fn agent(status: UserStatus, livechat: LivechatStatus) -> User {
        User {
            id: "a".into(),
            username: "a".into(),
            name: "A".into(),
            emails: Vec::new(),
            roles: vec![ROLE_AGENT.into()],
            status,
            status_livechat: livechat,
            active: true,
            max_chats: None,
        }
    }

    #[test]
    fn only_an_online_available_active_agent_takes_chats() {
        use LivechatStatus::{Available, NotAvailable};
        assert!(agent(UserStatus::Online, Available).takes_chats(false));
        assert!(agent(UserStatus::Busy, Available).takes_chats(true));
        assert!(!agent(UserStatus::Offline, Available).takes_chats(false));
        assert!(!agent(UserStatus::Online, NotAvailable).takes_chats(false));
        assert!(agent(UserStatus::Away, Available).takes_chats(false));
        assert!(!agent(UserStatus::Away, Available).takes_chats(true));
        let mut inactive = agent(UserStatus::Online, Available);
        inactive.active = false;
        assert!(!inactive.takes_chats(false));
        let mut no_agent = agent(UserStatus::Online, Available);
        no_agent.roles = vec![ROLE_USER.into()];
        assert!(!no_agent.takes_chats(false));
    }

    #[test]
    fn livechat_status_toggles() {
        assert_eq!(
            LivechatStatus::Available.toggled(),
            LivechatStatus::NotAvailable
        );
        assert_eq!(
            "not-available".parse::<LivechatStatus>().unwrap().toggled(),
            LivechatStatus::Available
        );
    }
}
