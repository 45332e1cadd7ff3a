//! Client input errors that name the field and the rule it broke.

use std::fmt;

/// Marks the parts of a [`ValidationError`] carried through serde.
const CARRIED: char = '\u{1f}';

/// A value a client sent that breaks a rule. Rendered as
/// `"<field>: <message>"`, and answered with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: String,
    pub rule: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ValidationError {
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }

    /// For a missing key: Meteor's `check()` text that Rocket.Chat's
    /// clients read, `Match error: Missing key 'agentId' in field upsert[0]`
    /// (or without ` in field …` at the top level).
    pub fn match_error_text(&self) -> Option<String> {
        if self.rule != "required" || self.message != "is required" || self.field.is_empty() {
            return None;
        }
        Some(match self.field.rsplit_once('.') {
            Some((parent, key)) => format!("Match error: Missing key '{key}' in field {parent}"),
            None => format!("Match error: Missing key '{}'", self.field),
        })
    }

    /// This error as a serde error. serde's errors are text, so the field,
    /// rule and message travel marked for [`ValidationError::from_serde`],
    /// which reads them back whole.
    pub fn into_serde<E: serde::de::Error>(self) -> E {
        E::custom(format_args!(
            "{CARRIED}{}{CARRIED}{}{CARRIED}{}",
            self.field, self.rule, self.message
        ))
    }

    /// The error [`ValidationError::into_serde`] wrote into `text`, if any.
    pub fn from_serde(text: &str) -> Option<ValidationError> {
        let mut parts = text.strip_prefix(CARRIED)?.splitn(3, CARRIED);
        Some(ValidationError::new(
            parts.next()?,
            parts.next()?,
            parts.next()?,
        ))
    }

    /// Prefixes the field with its parent, e.g. `name` → `department.name`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }

    /// The first error reported by the `validator` crate, with its field
    /// path (`agents[1].count`) and rule (`range`).
    pub fn from_validator(errors: &validator::ValidationErrors) -> Self {
        first_error(errors, "")
            .unwrap_or_else(|| ValidationError::new("", "invalid", "the request is not valid"))
    }
}

fn first_error(errors: &validator::ValidationErrors, prefix: &str) -> Option<ValidationError> {
    use validator::ValidationErrorsKind;
    let mut fields: Vec<_> = errors.errors().iter().collect();
    fields.sort_by_key(|(name, _)| name.to_string());
    for (name, kind) in fields {
        // The API's field names are the Rust names in camelCase.
        let name = camel_case(name);
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                if let Some(e) = list.first() {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("fails the `{}` rule", e.code));
                    return Some(ValidationError::new(path, e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => {
                if let Some(e) = first_error(inner, &path) {
                    return Some(e);
                }
            }
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    if let Some(e) = first_error(inner, &format!("{path}[{index}]")) {
                        return Some(e);
                    }
                }
            }
        }
    }
    None
}

/// `visitor_token` → `visitorToken`; names without `_` are unchanged.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for (i, c) in name.chars().enumerate() {
        if c == '_' && i > 0 {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ValidationError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_reads_as_meteors_match_error() {
        let top = ValidationError::new("upsert", "required", "is required");
        assert_eq!(
            top.match_error_text().unwrap(),
            "Match error: Missing key 'upsert'"
        );
        let nested = ValidationError::new("upsert[0].agentId", "required", "is required");
        assert_eq!(
            nested.match_error_text().unwrap(),
            "Match error: Missing key 'agentId' in field upsert[0]"
        );
        let other = ValidationError::new("msg", "required", "must not be empty");
        assert_eq!(other.match_error_text(), None);
    }
}
