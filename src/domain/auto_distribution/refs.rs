//! Agents and departments as Comm100's `agent` and `department`
//! references show them beside the configuration.

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
