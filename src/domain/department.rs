//! Departments: what a client may store in one, and the rules a save must
//! keep.
//!
//! A department body is an open JSON object, as in Rocket.Chat: the known
//! fields are typed and checked with `validator`, any other key is a custom
//! field kept as it is, provided its value is a string, an integer or a
//! boolean. Fields Switchboard owns (`_id`, `numAgents`, `archived`, …)
//! can never be set by a client, so no request can mass-assign them.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use validator::Validate;

use super::ValidationError;

/// Fields only Switchboard writes.
pub const RESERVED_FIELDS: &[&str] = &[
    "_id",
    "numAgents",
    "archived",
    "type",
    "_updatedAt",
    "parentId",
    "ancestors",
];

/// A value Switchboard stores for a department field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Str(String),
    Int(i64),
    Bool(bool),
    StrList(Vec<String>),
}

/// The department fields a client sent, typed and checked. Every key the
/// client sent is here; keys it left out are absent (a patch keeps them).
#[derive(Debug, Default, Validate)]
pub struct DepartmentInput {
    #[validate(
        length(min = 1, max = 256, message = "must be 1 to 256 characters"),
        custom(function = "not_blank")
    )]
    pub name: Option<String>,
    #[validate(email(message = "must be a valid e-mail address"))]
    pub email: Option<String>,
    pub enabled: Option<bool>,
    pub show_on_registration: Option<bool>,
    pub show_on_offline_form: Option<bool>,
    pub description: Option<String>,
    pub request_tag_before_closing_chat: Option<bool>,
    pub chat_closing_tags: Option<Vec<String>>,
    pub fallback_forward_department: Option<String>,
    pub departments_allowed_to_forward: Option<Vec<String>>,
    pub allow_receive_forward_offline: Option<bool>,
    pub offline_message_channel_name: Option<String>,
    #[validate(range(min = 0, message = "must be a non-negative integer"))]
    pub max_number_simultaneous_chat: Option<i64>,
    pub waiting_queue_message: Option<String>,
    pub abandoned_rooms_close_custom_message: Option<String>,
    #[validate(range(min = 0, message = "must be a non-negative integer"))]
    pub visitor_inactivity_timeout_in_seconds: Option<i64>,
    /// Custom fields: any other key with a scalar value.
    pub custom: BTreeMap<String, FieldValue>,
}

fn not_blank(value: &str) -> Result<(), validator::ValidationError> {
    if value.trim().is_empty() {
        let mut e = validator::ValidationError::new("blank");
        e.message = Some("must not be blank".into());
        return Err(e);
    }
    Ok(())
}

/// Reads one known key: `null` counts as absent, any other value must have
/// the field's type.
fn take<T: DeserializeOwned>(
    map: &mut Map<String, Value>,
    key: &str,
    expected: &str,
) -> Result<Option<T>, ValidationError> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|_| ValidationError::new(key, "type", format!("must be {expected}"))),
    }
}

/// An integer field; a string of digits is accepted too, because
/// Rocket.Chat's admin UI sends limits as strings (Rocket.Chat PR #35688).
fn take_integer(map: &mut Map<String, Value>, key: &str) -> Result<Option<i64>, ValidationError> {
    let wrong = || ValidationError::new(key, "type", "must be a non-negative integer");
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(wrong),
        Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| wrong()),
        Some(_) => Err(wrong()),
    }
}

impl DepartmentInput {
    /// Types every key of a department object and checks the rules that
    /// do not need the database. Errors name the field inside `department`.
    pub fn parse(raw: Map<String, Value>) -> Result<DepartmentInput, ValidationError> {
        Self::parse_inner(raw).map_err(|e| e.within("department"))
    }

    fn parse_inner(mut raw: Map<String, Value>) -> Result<DepartmentInput, ValidationError> {
        let (s, b, list) = ("a string", "a boolean", "an array of strings");
        let m = &mut raw;
        let input = DepartmentInput {
            name: take(m, "name", s)?,
            email: take(m, "email", s)?,
            enabled: take(m, "enabled", b)?,
            show_on_registration: take(m, "showOnRegistration", b)?,
            show_on_offline_form: take(m, "showOnOfflineForm", b)?,
            description: take(m, "description", s)?,
            request_tag_before_closing_chat: take(m, "requestTagBeforeClosingChat", b)?,
            chat_closing_tags: take(m, "chatClosingTags", list)?,
            fallback_forward_department: take(m, "fallbackForwardDepartment", s)?,
            departments_allowed_to_forward: take(m, "departmentsAllowedToForward", list)?,
            allow_receive_forward_offline: take(m, "allowReceiveForwardOffline", b)?,
            offline_message_channel_name: take(m, "offlineMessageChannelName", s)?,
            max_number_simultaneous_chat: take_integer(m, "maxNumberSimultaneousChat")?,
            waiting_queue_message: take(m, "waitingQueueMessage", s)?,
            abandoned_rooms_close_custom_message: take(m, "abandonedRoomsCloseCustomMessage", s)?,
            visitor_inactivity_timeout_in_seconds: take_integer(
                m,
                "visitorInactivityTimeoutInSeconds",
            )?,
            custom: custom_fields(raw)?,
        };
        input
            .validate()
            .map_err(|e| ValidationError::from_validator(&e))?;
        if input.request_tag_before_closing_chat == Some(true)
            && input.chat_closing_tags.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(ValidationError::new(
                "chatClosingTags",
                "required",
                "at least one closing tag is required when the department requires tags on closing conversations",
            ));
        }
        Ok(input)
    }

    fn require_core(&self) -> Result<(), ValidationError> {
        let missing = [
            ("name", self.name.is_none()),
            ("email", self.email.is_none()),
            ("enabled", self.enabled.is_none()),
            ("showOnRegistration", self.show_on_registration.is_none()),
            ("showOnOfflineForm", self.show_on_offline_form.is_none()),
        ];
        match missing.iter().find(|(_, absent)| *absent) {
            Some((field, _)) => Err(ValidationError::new(
                format!("department.{field}"),
                "required",
                "is required",
            )),
            None => Ok(()),
        }
    }

    /// The fields to store, under their Rocket.Chat names.
    fn into_fields(self) -> Vec<(String, FieldValue)> {
        use FieldValue::*;
        let mut out: Vec<(String, FieldValue)> = Vec::new();
        let mut put = |key: &str, value: Option<FieldValue>| {
            if let Some(v) = value {
                out.push((key.to_string(), v));
            }
        };
        put("name", self.name.map(|n| Str(n.trim().to_string())));
        put("email", self.email.map(|e| Str(e.trim().to_string())));
        put("enabled", self.enabled.map(Bool));
        put("showOnRegistration", self.show_on_registration.map(Bool));
        put("showOnOfflineForm", self.show_on_offline_form.map(Bool));
        put("description", self.description.map(Str));
        put(
            "requestTagBeforeClosingChat",
            self.request_tag_before_closing_chat.map(Bool),
        );
        put("chatClosingTags", self.chat_closing_tags.map(StrList));
        put(
            "fallbackForwardDepartment",
            self.fallback_forward_department.map(Str),
        );
        put(
            "departmentsAllowedToForward",
            self.departments_allowed_to_forward.map(StrList),
        );
        put(
            "allowReceiveForwardOffline",
            self.allow_receive_forward_offline.map(Bool),
        );
        put(
            "offlineMessageChannelName",
            self.offline_message_channel_name.map(Str),
        );
        put(
            "maxNumberSimultaneousChat",
            self.max_number_simultaneous_chat.map(Int),
        );
        put("waitingQueueMessage", self.waiting_queue_message.map(Str));
        put(
            "abandonedRoomsCloseCustomMessage",
            self.abandoned_rooms_close_custom_message.map(Str),
        );
        put(
            "visitorInactivityTimeoutInSeconds",
            self.visitor_inactivity_timeout_in_seconds.map(Int),
        );
        out.extend(self.custom);
        out
    }
}

/// Custom fields must be scalars under a plain key: a key with `.` would
/// write into a nested document, and `$` keys never get this far.
fn custom_fields(raw: Map<String, Value>) -> Result<BTreeMap<String, FieldValue>, ValidationError> {
    let mut custom = BTreeMap::new();
    for (key, value) in raw {
        if RESERVED_FIELDS.contains(&key.as_str()) {
            return Err(ValidationError::new(
                key,
                "reserved",
                "is managed by Switchboard and cannot be set",
            ));
        }
        if key.is_empty() || key.contains('.') || key.starts_with('$') {
            return Err(ValidationError::new(
                key,
                "key",
                "field names must be non-empty and contain no '.' or leading '$'",
            ));
        }
        let value = match value {
            Value::String(s) => FieldValue::Str(s),
            Value::Bool(b) => FieldValue::Bool(b),
            Value::Number(n) if n.as_i64().is_some() => FieldValue::Int(n.as_i64().unwrap_or(0)),
            _ => {
                return Err(ValidationError::new(
                    key,
                    "scalar",
                    "custom fields must be a string, an integer or a boolean",
                ));
            }
        };
        custom.insert(key, value);
    }
    Ok(custom)
}

/// A department to create: every required field is present and valid.
#[derive(Debug, Clone)]
pub struct NewDepartment {
    fields: Vec<(String, FieldValue)>,
    pub enabled: bool,
    pub fallback_forward_department: Option<String>,
}

impl NewDepartment {
    pub fn parse(raw: Map<String, Value>) -> Result<NewDepartment, ValidationError> {
        let input = DepartmentInput::parse(raw)?;
        input.require_core()?;
        let enabled = input.enabled.unwrap_or(false);
        let fallback = non_empty(input.fallback_forward_department.clone());
        Ok(NewDepartment {
            fields: input.into_fields(),
            enabled,
            fallback_forward_department: fallback,
        })
    }

    pub fn fields(&self) -> &[(String, FieldValue)] {
        &self.fields
    }
}

/// Changes to an existing department: only the fields sent are written,
/// the others keep their stored values (Rocket.Chat's partial merge).
#[derive(Debug, Clone)]
pub struct DepartmentPatch {
    fields: Vec<(String, FieldValue)>,
    pub enabled: Option<bool>,
    pub fallback_forward_department: Option<String>,
}

impl DepartmentPatch {
    /// Whether the department routes once this patch is applied to
    /// `current`: enabled (as sent, else as stored) and not archived.
    pub fn active_after(&self, current: &Department) -> bool {
        self.enabled.unwrap_or(current.enabled) && !current.archived
    }

    /// The links' new `departmentEnabled` when `enabled` was sent.
    pub fn links_enabled_after(&self, current: &Department) -> Option<bool> {
        self.enabled.map(|_| self.active_after(current))
    }
}

impl DepartmentPatch {
    pub fn parse(raw: Map<String, Value>) -> Result<DepartmentPatch, ValidationError> {
        let input = DepartmentInput::parse(raw)?;
        let enabled = input.enabled;
        let fallback = non_empty(input.fallback_forward_department.clone());
        Ok(DepartmentPatch {
            fields: input.into_fields(),
            enabled,
            fallback_forward_department: fallback,
        })
    }

    pub fn fields(&self) -> &[(String, FieldValue)] {
        &self.fields
    }

    /// A department may not fall back to itself, and an archived one
    /// cannot be enabled.
    pub fn check_against(&self, current: &Department) -> Result<(), SaveRefusal> {
        if self.fallback_forward_department.as_deref() == Some(current.id.as_str()) {
            return Err(SaveRefusal::CircularFallback);
        }
        if current.archived && self.enabled == Some(true) {
            return Err(SaveRefusal::ArchivedCannotBeEnabled);
        }
        Ok(())
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// Why a well-formed save is refused once compared with stored data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveRefusal {
    CircularFallback,
    ArchivedCannotBeEnabled,
}

/// A stored department.
#[derive(Debug, Clone, PartialEq)]
pub struct Department {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub archived: bool,
    pub email: String,
    pub show_on_registration: bool,
    pub show_on_offline_form: bool,
    pub num_agents: i64,
    /// Open chats an agent may hold in this department; `None` or 0 = no limit.
    pub max_number_simultaneous_chat: Option<i64>,
    pub fallback_forward_department: Option<String>,
    /// Every other stored field (custom fields included), as JSON; dates
    /// are ISO-8601 strings.
    pub other: Map<String, Value>,
}

impl Department {
    /// Whether routing may use the department (`departmentEnabled` of its
    /// links mirrors this).
    pub fn is_active(&self) -> bool {
        self.enabled && !self.archived
    }

    /// Whether its links route (`departmentEnabled`) once archived or
    /// unarchived: an archived department never routes; unarchiving
    /// restores what `enabled` says.
    pub fn links_enabled_when_archived(&self, archived: bool) -> bool {
        !archived && self.enabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn base() -> Value {
        json!({"name": "Sales", "email": "bla@bla", "enabled": true,
               "showOnRegistration": true, "showOnOfflineForm": false})
    }

    #[test]
    fn a_complete_department_parses_and_keeps_custom_scalars() {
        let mut raw = obj(base());
        raw.insert("myField".into(), json!(3));
        let d = NewDepartment::parse(raw).unwrap();
        assert!(
            d.fields()
                .contains(&("myField".to_string(), FieldValue::Int(3)))
        );
        assert!(d.enabled);
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let mut raw = obj(base());
        raw.remove("email");
        let e = NewDepartment::parse(raw).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.rule.as_str()),
            ("department.email", "required")
        );
    }

    #[test]
    fn reserved_and_dotted_keys_are_refused() {
        for key in ["numAgents", "_id", "archived", "a.b"] {
            let mut raw = obj(base());
            raw.insert(key.into(), json!("x"));
            let e = NewDepartment::parse(raw).unwrap_err();
            assert_eq!(e.field, format!("department.{key}"));
        }
    }

    #[test]
    fn blank_names_bad_emails_and_negative_limits_are_refused() {
        for (key, value, rule) in [
            ("name", json!("   "), "blank"),
            ("name", json!("x".repeat(257)), "length"),
            ("email", json!("nope"), "email"),
            ("maxNumberSimultaneousChat", json!(-1), "range"),
            ("maxNumberSimultaneousChat", json!(1.5), "type"),
            ("enabled", json!("yes"), "type"),
            ("custom", json!({"a": 1}), "scalar"),
        ] {
            let mut raw = obj(base());
            raw.insert(key.into(), value);
            let e = NewDepartment::parse(raw).unwrap_err();
            assert_eq!(e.rule, rule, "{key}: {e}");
        }
    }

    #[test]
    fn tags_are_required_when_closing_requires_them() {
        let mut raw = obj(base());
        raw.insert("requestTagBeforeClosingChat".into(), json!(true));
        raw.insert("chatClosingTags".into(), json!([]));
        assert!(NewDepartment::parse(raw).is_err());
    }

    #[test]
    fn a_patch_may_be_partial_but_not_circular() {
        let patch =
            DepartmentPatch::parse(obj(json!({"fallbackForwardDepartment": "me"}))).unwrap();
        let current = Department {
            id: "me".into(),
            name: "n".into(),
            enabled: true,
            archived: false,
            email: "e@e".into(),
            show_on_registration: true,
            show_on_offline_form: true,
            num_agents: 0,
            max_number_simultaneous_chat: None,
            fallback_forward_department: None,
            other: Map::new(),
        };
        assert_eq!(
            patch.check_against(&current),
            Err(SaveRefusal::CircularFallback)
        );
    }

    fn stored(enabled: bool, archived: bool) -> Department {
        Department {
            id: "d".into(),
            name: "n".into(),
            enabled,
            archived,
            email: "e@e".into(),
            show_on_registration: true,
            show_on_offline_form: true,
            num_agents: 0,
            max_number_simultaneous_chat: None,
            fallback_forward_department: None,
            other: Map::new(),
        }
    }

    #[test]
    fn an_archived_department_never_routes_whatever_a_patch_says() {
        let enable = DepartmentPatch::parse(obj(json!({"enabled": true}))).unwrap();
        assert!(!enable.active_after(&stored(false, true)));
        assert_eq!(
            enable.links_enabled_after(&stored(false, true)),
            Some(false)
        );
        assert!(enable.active_after(&stored(false, false)));
        assert_eq!(
            enable.links_enabled_after(&stored(false, false)),
            Some(true)
        );
    }

    #[test]
    fn a_patch_without_enabled_keeps_what_is_stored_and_leaves_links_alone() {
        let rename = DepartmentPatch::parse(obj(json!({"name": "other"}))).unwrap();
        assert!(rename.active_after(&stored(true, false)));
        assert!(!rename.active_after(&stored(false, false)));
        assert_eq!(rename.links_enabled_after(&stored(true, false)), None);
    }

    #[test]
    fn unarchiving_restores_what_enabled_says() {
        assert!(!stored(true, false).links_enabled_when_archived(true));
        assert!(stored(true, true).links_enabled_when_archived(false));
        assert!(!stored(false, true).links_enabled_when_archived(false));
    }
}
