//! The one error type of the service.
//!
//! Every layer returns [`Error`]: `domain/` builds the client errors (bad
//! input, not found), `store/` converts driver failures into
//! [`Error::Unavailable`] or [`Error::Unexpected`], and handlers only `?`.
//! A single `match` in [`ResponseError`] turns each variant into a status and
//! a body in Rocket.Chat's envelope. Client errors carry their message;
//! unexpected errors are logged with their whole cause chain and the client
//! sees an opaque body, never driver text.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::domain::ValidationError;
use crate::domain::department::SaveRefusal;

const LOGGED_OUT: &str = "You must be logged in to do this.";
const FORBIDDEN: &str =
    "User does not have the permissions required for this action [error-unauthorized]";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Missing or invalid credentials.
    #[error("{LOGGED_OUT}")]
    Unauthenticated,
    /// A login with a wrong user or password.
    #[error("Unauthorized")]
    LoginFailed,
    /// The caller lacks a permission.
    #[error("{FORBIDDEN}")]
    Forbidden,
    /// Any other client error: `error` is what the client reads,
    /// `error_type` the machine-readable code when there is one.
    #[error("{message}")]
    BadRequest {
        message: String,
        error_type: Option<String>,
        details: Option<Value>,
    },
    #[error("{0}")]
    NotFound(String),
    /// A 403 whose `error` is this text (Rocket.Chat's bare
    /// `API.v1.unauthorized()` answers `unauthorized`).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The path exists, the method does not: `Allow` lists those it has.
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<String> },
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    /// The database cannot be reached right now; the client may retry.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// The request was not answered within `http.request_timeout_ms`.
    #[error("the request took too long")]
    TimedOut,
    /// The instance cannot serve yet (`/readyz`): `error` for people,
    /// `reason` for orchestrators (`preparing`, `database-unreachable`).
    #[error("{error}")]
    NotReady {
        error: &'static str,
        reason: &'static str,
    },
    #[error("unexpected error")]
    Unexpected(#[from] anyhow::Error),
}

impl Error {
    /// A copy of a failure several callers share (one cached load that
    /// failed for all who waited on it): the same status, the cause as text.
    pub fn shared(&self) -> Error {
        let text = error_chain_fmt(self);
        match self {
            Error::Unavailable(_) => Error::Unavailable(anyhow::anyhow!(text)),
            _ => Error::Unexpected(anyhow::anyhow!(text)),
        }
    }

    /// A 400 with a plain message and no code, as `API.v1.failure('...')`.
    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::BadRequest {
            message: message.into(),
            error_type: None,
            details: None,
        }
    }

    /// A 400 shaped like a thrown `Meteor.Error(code, reason)`:
    /// `error` is `"<reason> [<code>]"` and `errorType` is the code.
    pub fn meteor(code: &str, reason: &str) -> Error {
        let message = if reason.is_empty() {
            format!("[{code}]")
        } else {
            format!("{reason} [{code}]")
        };
        Error::BadRequest {
            message,
            error_type: Some(code.to_string()),
            details: None,
        }
    }

    /// A 400 whose `error` is the bare code, as `throw new Error('code')`.
    pub fn code(code: &str) -> Error {
        Error::bad_request(code)
    }
}

impl Error {
    /// A 400 with `details` (the field a client should fix); other errors
    /// are kept as they are.
    pub fn with_details(self, value: Value) -> Error {
        match self {
            Error::BadRequest {
                message,
                error_type,
                ..
            } => Error::BadRequest {
                message,
                error_type,
                details: Some(value),
            },
            other => other,
        }
    }
}

/// Rocket.Chat's wording of the errors the registry answers, in one place.
impl Error {
    /// A public call whose visitor token names no visitor.
    pub fn invalid_token() -> Error {
        Error::code("invalid-token")
    }

    /// A public call whose room id names no livechat room of its visitor
    /// (or no open one, where the call needs it open).
    pub fn invalid_room() -> Error {
        Error::code("invalid-room")
    }

    pub fn department_not_found() -> Error {
        Error::meteor("error-department-not-found", "Department not found")
    }

    pub fn fallback_department_not_found() -> Error {
        Error::meteor(
            "error-fallback-department-not-found",
            "Fallback department not found",
        )
    }

    pub fn not_a_livechat_agent() -> Error {
        Error::meteor("error-invalid-agent", "The user is not a livechat agent")
    }

    /// A username or e-mail that another user holds.
    pub fn field_unavailable(value: &str) -> Error {
        Error::meteor(
            "error-field-unavailable",
            &format!("{value} is already in use :("),
        )
    }
}

impl From<SaveRefusal> for Error {
    fn from(r: SaveRefusal) -> Self {
        match r {
            SaveRefusal::CircularFallback => Error::meteor(
                "error-fallback-department-circular",
                "Cannot save department. Circular reference between fallback department and department",
            ),
            SaveRefusal::ArchivedCannotBeEnabled => Error::meteor(
                "error-archived-department-cant-be-enabled",
                "Archived departments cant be enabled",
            ),
        }
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        // A missing key answers the text Rocket.Chat's clients (and its own
        // tests) read; the field stays in `details`.
        let message = e
            .match_error_text()
            .unwrap_or_else(|| format!("{} [invalid-params]", e));
        Error::BadRequest {
            message,
            error_type: Some("invalid-params".into()),
            details: Some(json!({ "field": e.field, "rule": e.rule })),
        }
    }
}

/// Writes the cause chain of an error, one cause per line.
pub fn error_chain_fmt(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str("\n  caused by: ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::Unauthenticated | Error::LoginFailed => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Refused(_) => StatusCode::FORBIDDEN,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::Unavailable(_) | Error::TimedOut | Error::NotReady { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            Error::Unauthenticated => json!({
                "success": false, "error": LOGGED_OUT, "status": "error", "message": LOGGED_OUT,
            }),
            Error::LoginFailed => {
                json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"})
            }
            Error::Forbidden => json!({"success": false, "error": FORBIDDEN}),
            Error::BadRequest {
                message,
                error_type,
                details,
            } => {
                let mut body = json!({"success": false, "error": message});
                if let Some(t) = error_type {
                    body["errorType"] = json!(t);
                }
                if let Some(d) = details {
                    body["details"] = d.clone();
                }
                body
            }
            Error::NotFound(m)
            | Error::Refused(m)
            | Error::UnsupportedMediaType(m)
            | Error::PayloadTooLarge(m) => {
                json!({"success": false, "error": m})
            }
            Error::MethodNotAllowed { allowed } => json!({
                "success": false,
                "error": format!(
                    "This path answers {} only [error-method-not-allowed]",
                    allowed.join(", ")
                ),
                "errorType": "error-method-not-allowed",
            }),
            Error::TooManyRequests { .. } => json!({
                "success": false,
                "error": "Too many requests, try again later [error-too-many-requests]",
                "errorType": "error-too-many-requests",
            }),
            Error::Unavailable(cause) => {
                tracing::warn!(error = %error_chain_fmt(cause.as_ref()), "database unavailable");
                json!({
                    "success": false,
                    "error": "The database is unavailable, try again shortly [error-service-unavailable]",
                    "errorType": "error-service-unavailable",
                })
            }
            Error::TimedOut => json!({
                "success": false,
                "error": "The request took too long, try again shortly [error-request-timeout]",
                "errorType": "error-request-timeout",
            }),
            Error::NotReady { error, reason } => json!({
                "status": "not-ready",
                "success": false,
                "error": format!("{error} [error-service-unavailable]"),
                "reason": reason,
            }),
            Error::Unexpected(cause) => {
                tracing::error!(error = %error_chain_fmt(cause.as_ref()), "unexpected error");
                json!({"success": false, "error": "Internal server error [error-internal]", "errorType": "error-internal"})
            }
        };
        let mut response = HttpResponse::build(self.status_code()).json(body);
        if let Error::TooManyRequests {
            retry_after_seconds,
        } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if let Error::MethodNotAllowed { allowed } = self
            && let Ok(value) = HeaderValue::from_str(&allowed.join(", "))
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        response
    }
}

/// Every error answer: Rocket.Chat's envelope. `error` is always there;
/// the others depend on the error.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub success: Option<bool>,
    /// What went wrong, for people.
    pub error: String,
    /// What went wrong, for programs (`error-invalid-params`, …).
    #[serde(rename = "errorType")]
    pub error_type: Option<String>,
    /// For a validation error: the field and the rule it broke.
    pub details: Option<serde_json::Value>,
    /// `"error"` on 401 answers, as Rocket.Chat's.
    pub status: Option<String>,
    pub message: Option<String>,
}
