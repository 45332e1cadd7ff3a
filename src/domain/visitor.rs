//! Livechat visitors, as the widget registers them, and what they send.
//!
//! Invariants: a [`VisitorToken`] is 1 to 256 visible characters; a
//! [`Registration`] has a token, bounded fields and a well-formed e-mail;
//! a [`MessageText`] is non-blank and within the size limit it was parsed
//! against.

use super::ValidationError;
use super::user::Email;

const MAX_TOKEN: usize = 256;
const MAX_NAME: usize = 256;
const MAX_PHONE: usize = 64;
const MAX_DEPARTMENT: usize = 64;
const MAX_USERNAME: usize = 64;

/// The secret a widget holds for its visitor: it reaches that visitor's
/// own records only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorToken(String);

impl VisitorToken {
    pub fn parse(raw: &str) -> Result<VisitorToken, ValidationError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > MAX_TOKEN {
            return Err(ValidationError::new(
                "token",
                "length",
                "must be 1 to 256 characters",
            ));
        }
        Ok(VisitorToken(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A visitor's registration (`POST livechat/visitor`).
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub token: VisitorToken,
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<String>,
    /// The department id or name the visitor chose; the service checks it
    /// exists and is enabled.
    pub department: Option<String>,
    pub username: Option<String>,
}

/// What the client sent, before checks.
#[derive(Debug, Clone, Default)]
pub struct RawRegistration {
    pub token: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub department: Option<String>,
    pub username: Option<String>,
}

fn bounded(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        Some(v) if v.chars().count() > max => Err(ValidationError::new(
            field,
            "length",
            format!("must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

impl Registration {
    pub fn parse(raw: RawRegistration) -> Result<Registration, ValidationError> {
        let within = |e: ValidationError| e.within("visitor");
        let token = VisitorToken::parse(raw.token.as_deref().unwrap_or("")).map_err(within)?;
        let email = match bounded("email", raw.email, MAX_NAME).map_err(within)? {
            Some(e) => Some(Email::parse("email", &e).map_err(within)?),
            None => None,
        };
        Ok(Registration {
            token,
            name: bounded("name", raw.name, MAX_NAME).map_err(within)?,
            email,
            phone: bounded("phone", raw.phone, MAX_PHONE).map_err(within)?,
            department: bounded("department", raw.department, MAX_DEPARTMENT).map_err(within)?,
            username: bounded("username", raw.username, MAX_USERNAME).map_err(within)?,
        })
    }
}

/// The visitor statuses Rocket.Chat accepts (`visitor.status`).
pub fn parse_status(raw: &str) -> Result<&'static str, ValidationError> {
    match raw {
        "online" => Ok("online"),
        "away" => Ok("away"),
        "busy" => Ok("busy"),
        "offline" => Ok("offline"),
        _ => Err(ValidationError::new(
            "status",
            "enum",
            "must be online, away, busy or offline",
        )),
    }
}

/// A message a visitor sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    /// `max` is the workspace's `Message_MaxAllowedSize` (characters).
    pub fn parse(raw: &str, max: usize) -> Result<MessageText, ValidationError> {
        if raw.trim().is_empty() {
            return Err(ValidationError::new("msg", "required", "must not be empty"));
        }
        if raw.chars().count() > max {
            return Err(ValidationError::new(
                "msg",
                "length",
                format!("must be at most {max} characters"),
            ));
        }
        Ok(MessageText(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(token: &str) -> RawRegistration {
        RawRegistration {
            token: Some(token.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_registration_needs_a_token() {
        let e = Registration::parse(raw("  ")).unwrap_err();
        assert_eq!(e.field, "visitor.token");
    }

    #[test]
    fn a_malformed_email_is_refused_and_named() {
        let mut r = raw("t");
        r.email = Some("not-an-email".into());
        assert_eq!(Registration::parse(r).unwrap_err().field, "visitor.email");
    }

    #[test]
    fn an_oversized_name_is_refused() {
        let mut r = raw("t");
        r.name = Some("x".repeat(257));
        assert_eq!(Registration::parse(r).unwrap_err().rule, "length");
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let mut r = raw("t");
        r.name = Some(" ".into());
        assert_eq!(Registration::parse(r).unwrap().name, None);
    }

    #[test]
    fn a_message_over_the_limit_is_refused() {
        assert!(MessageText::parse("abc", 2).is_err());
        assert!(MessageText::parse("  ", 10).is_err());
        assert_eq!(MessageText::parse("hi", 2).unwrap().as_str(), "hi");
    }
}
