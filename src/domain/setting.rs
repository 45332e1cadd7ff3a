//! Rocket.Chat's workspace settings that Switchboard reads or serves: their
//! ids, types, defaults and visibility, as Rocket.Chat declares them, and
//! the rule a new value must follow.
//!
//! Invariant: a value stored through [`SettingValue::parse`] has the type
//! its setting declares, so readers never meet a string where a boolean
//! belongs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ValidationError;
use super::names::{IntoStaticStr, VariantArray};

/// A setting's declared type (Rocket.Chat's `type`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Kind {
    Boolean,
    String,
    Int,
    Color,
    Select,
    Code,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The declared type a stored type name names.
    pub fn parse(name: &str) -> Option<Kind> {
        super::names::parse(name)
    }
}

/// A default as declared (kept `const`-friendly; see [`Definition::default_value`]).
#[derive(Debug, Clone, Copy)]
pub enum Initial {
    Bool(bool),
    Int(i64),
    Text(&'static str),
}

/// One setting as Rocket.Chat declares it.
#[derive(Debug, Clone, Copy)]
pub struct Definition {
    pub id: &'static str,
    pub kind: Kind,
    pub default: Initial,
    /// Readable without logging in (`settings.public`).
    pub public: bool,
    pub group: &'static str,
    /// Not listed nor editable through the API (Rocket.Chat's `hidden`).
    pub hidden: bool,
}

impl Definition {
    pub fn default_value(&self) -> Value {
        match self.default {
            Initial::Bool(b) => Value::Bool(b),
            Initial::Int(i) => Value::from(i),
            Initial::Text(t) => Value::String(t.to_string()),
        }
    }
}

const fn def(id: &'static str, kind: Kind, default: Initial, public: bool) -> Definition {
    Definition {
        id,
        kind,
        default,
        public,
        group: "Omnichannel",
        hidden: false,
    }
}

use Initial::{Bool, Int, Text};
use Kind::{Boolean, Code, Color, Int as Integer, Select, String as Str};

pub const LIVECHAT_ENABLED: &str = "Livechat_enabled";
pub const SHOW_AGENT_INFO: &str = "Livechat_show_agent_info";
pub const DEPARTMENT_REMOVAL: &str = "Omnichannel_enable_department_removal";
pub const ENABLED_WHEN_AGENT_IDLE: &str = "Livechat_enabled_when_agent_idle";
pub const MAX_CHATS_PER_AGENT: &str = "Livechat_maximum_chats_per_agent";
pub const GUEST_COUNT: &str = "Livechat_guest_count";
/// Rocket.Chat's routing method: `Manual_Selection` leaves every chat
/// waiting for an agent to take it (the inquiry API), as Comm100's
/// `isEnabled: false` does.
pub const ROUTING_METHOD: &str = "Livechat_Routing_Method";
pub const MANUAL_SELECTION: &str = "Manual_Selection";

/// Every setting Switchboard seeds: those the widget's `livechat/config`
/// answers, and those Switchboard's behaviour reads. Ids, types and
/// defaults are Rocket.Chat's.
pub const DEFINITIONS: &[Definition] = &[
    def(LIVECHAT_ENABLED, Boolean, Bool(true), true),
    def(ROUTING_METHOD, Select, Text("Auto_Selection"), false),
    def("Livechat_title", Str, Text("Rocket.Chat"), true),
    def("Livechat_title_color", Color, Text("#C1272D"), true),
    def("Livechat_offline_title", Str, Text("Leave a message"), true),
    def("Livechat_offline_title_color", Color, Text("#666666"), true),
    def("Livechat_widget_position", Select, Text("right"), true),
    def("Livechat_registration_form", Boolean, Bool(true), true),
    def(
        "Livechat_name_field_registration_form",
        Boolean,
        Bool(true),
        true,
    ),
    def(
        "Livechat_email_field_registration_form",
        Boolean,
        Bool(true),
        true,
    ),
    def(
        "Livechat_allow_switching_departments",
        Boolean,
        Bool(true),
        true,
    ),
    def("Livechat_display_offline_form", Boolean, Bool(true), true),
    def("Livechat_fileupload_enabled", Boolean, Bool(true), true),
    def("FileUpload_Enabled", Boolean, Bool(true), true),
    def("Omnichannel_call_provider", Select, Text("none"), true),
    def("Language", Str, Text(""), true),
    def("Livechat_enable_transcript", Boolean, Bool(false), true),
    def("Livechat_history_monitor_type", Select, Text("url"), true),
    def(
        "Livechat_force_accept_data_processing_consent",
        Boolean,
        Bool(false),
        true,
    ),
    def("Livechat_Show_Connecting", Boolean, Bool(false), true),
    def(SHOW_AGENT_INFO, Boolean, Bool(true), true),
    def(
        "Livechat_clear_local_storage_when_chat_ended",
        Boolean,
        Bool(false),
        true,
    ),
    def(
        "Livechat_enable_message_character_limit",
        Boolean,
        Bool(false),
        true,
    ),
    def("Livechat_message_character_limit", Integer, Int(0), true),
    def("Message_MaxAllowedSize", Integer, Int(5000), true),
    def("Livechat_offline_message", Str, Text(""), true),
    def("Livechat_offline_success_message", Str, Text(""), true),
    def("Livechat_offline_form_unavailable", Str, Text(""), true),
    def(
        "Livechat_conversation_finished_message",
        Str,
        Text(""),
        true,
    ),
    def("Livechat_conversation_finished_text", Str, Text(""), true),
    def(
        "Livechat_transcript_message",
        Str,
        Text("Do you want a copy of this chat emailed?"),
        true,
    ),
    def("Livechat_registration_form_message", Str, Text(""), true),
    def(
        "Livechat_data_processing_consent_text",
        Code,
        Text(""),
        true,
    ),
    def(DEPARTMENT_REMOVAL, Boolean, Bool(false), false),
    def(ENABLED_WHEN_AGENT_IDLE, Boolean, Bool(true), false),
    def(MAX_CHATS_PER_AGENT, Integer, Int(0), false),
    Definition {
        hidden: true,
        ..def(GUEST_COUNT, Integer, Int(1), false)
    },
];

/// The declaration of a setting Switchboard knows.
pub fn definition(id: &str) -> Option<&'static Definition> {
    DEFINITIONS.iter().find(|d| d.id == id)
}

/// A value that has its setting's declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingValue(Value);

impl SettingValue {
    /// Checks `value` against the declared kind (an unknown setting, stored
    /// by a Rocket.Chat server, keeps whatever JSON type it has).
    pub fn parse(kind: Option<Kind>, value: Value) -> Result<SettingValue, ValidationError> {
        let fits = match kind {
            None => !value.is_null(),
            Some(Kind::Boolean) => value.is_boolean(),
            Some(Kind::Int) => value.is_i64() || value.is_u64(),
            Some(_) => value.is_string(),
        };
        if !fits {
            let expected = kind.map(Kind::as_str).unwrap_or("a value");
            return Err(ValidationError::new(
                "value",
                "type",
                format!("must be {expected}"),
            ));
        }
        if let Value::String(s) = &value
            && s.len() > 64 * 1024
        {
            return Err(ValidationError::new(
                "value",
                "length",
                "must be at most 65536 bytes",
            ));
        }
        Ok(SettingValue(value))
    }

    pub fn into_inner(self) -> Value {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_definition_default_has_its_own_type() {
        for d in DEFINITIONS {
            assert!(
                SettingValue::parse(Some(d.kind), d.default_value()).is_ok(),
                "{}",
                d.id
            );
        }
    }

    #[test]
    fn a_string_is_never_accepted_for_a_boolean_setting() {
        assert!(SettingValue::parse(Some(Kind::Boolean), json!("true")).is_err());
        assert!(SettingValue::parse(Some(Kind::Int), json!(1.5)).is_err());
        assert!(SettingValue::parse(Some(Kind::Int), json!(3)).is_ok());
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = DEFINITIONS.iter().map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), DEFINITIONS.len());
    }
}
