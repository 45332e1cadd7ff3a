//! Request extractors that answer bad input with Switchboard's JSON errors:
//! [`JsonBody`] (content type, size, syntax, `$`-keys, types, `validator`
//! rules, in that order) and the error handlers for actix's own extractors.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use validator::Validate;

use crate::domain::ValidationError;
use crate::error::Error;
use crate::state::AppState;

const DEFAULT_LIMIT: usize = 1 << 20;

/// A JSON request body, parsed into `T` and checked with `validator`.
/// An empty body reads as `{}`, so a missing key is reported by name.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for JsonBody<T> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_json(req, payload);
        Box::pin(async move { Ok(JsonBody(parse_value(read.await?)?)) })
    }
}

/// A JSON request body read but not yet interpreted, for handlers that
/// check the caller's permission before they look at the input.
#[derive(Debug)]
pub struct UnparsedJson(pub Value);

impl FromRequest for UnparsedJson {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_json(req, payload);
        Box::pin(async move { Ok(UnparsedJson(read.await?)) })
    }
}

/// Reads the body within `http.max_body_bytes` as JSON; an empty body
/// reads as `{}`.
fn read_json(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Pin<Box<dyn Future<Output = Result<Value, Error>>>> {
    {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.http.max_body_bytes)
            .unwrap_or(DEFAULT_LIMIT);
        let content_type = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase());
        let declared_length = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_length.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|_| Error::bad_request("The request body could not be read"))?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            let is_json = content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("application/json") || t.contains("+json"));
            if !body.is_empty() && !is_json {
                return Err(Error::UnsupportedMediaType(
                    "Content-Type must be application/json".into(),
                ));
            }
            let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
                Value::Object(Default::default())
            } else {
                serde_json::from_slice(&body).map_err(|e| {
                    Error::meteor(
                        "error-invalid-json",
                        &format!("The body is not valid JSON: {e}"),
                    )
                })?
            };
            Ok(value)
        })
    }
}

pub(crate) fn too_large(limit: usize) -> Error {
    Error::PayloadTooLarge(format!(
        "The request body is larger than {limit} bytes [error-payload-too-large]"
    ))
}

/// Parses an already-read JSON value into `T`: refuses MongoDB operator
/// keys, then reports type errors and `validator` failures by field path.
pub fn parse_value<T: DeserializeOwned + Validate>(value: Value) -> Result<T, Error> {
    refuse_operator_keys(&value, "")?;
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| type_error(&e))?;
    parsed
        .validate()
        .map_err(|e| ValidationError::from_validator(&e))?;
    Ok(parsed)
}

/// No key anywhere in the input may start with `$`: nothing a client sends
/// can become a MongoDB operator.
fn refuse_operator_keys(value: &Value, path: &str) -> Result<(), ValidationError> {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.starts_with('$') {
                    return Err(ValidationError::new(
                        here,
                        "operator",
                        "keys starting with '$' are not allowed",
                    ));
                }
                refuse_operator_keys(inner, &here)?;
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, inner)| refuse_operator_keys(inner, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

fn type_error<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> ValidationError {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let message = e.inner().to_string();
    // A rule broken inside the value, or a part read through
    // `#[serde(flatten)]` (see [`Tracked`]), names its own field.
    if let Some(carried) = ValidationError::from_serde(&message) {
        return if path.is_empty() {
            carried
        } else {
            carried.within(&path)
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.split('`').next()
    {
        let full = if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return ValidationError::new(full, "required", "is required");
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(field) = rest.split('`').next()
    {
        // serde_path_to_error has already entered the unknown key.
        let full = if path.is_empty() {
            field.to_string()
        } else if path == field || path.ends_with(&format!(".{field}")) {
            path
        } else {
            format!("{path}.{field}")
        };
        return ValidationError::new(full, "unknown", "is not an allowed field");
    }
    // serde_json appends " at line L column C" only when parsing text; from
    // a Value it does not, so the message is the rule itself.
    ValidationError::new(path, "type", message)
}

/// A part of a body read through `#[serde(flatten)]`. serde reads such a
/// part from a buffer, out of sight of the path tracking of
/// [`parse_value`], so the part tracks its own and carries the field it
/// names out in the error.
#[derive(Debug)]
pub struct Tracked<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tracked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_path_to_error::deserialize(d)
            .map(Tracked)
            .map_err(|e| type_error(&e).into_serde())
    }
}

/// Query strings that do not parse are a 400 in the usual envelope.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| {
        Error::meteor("invalid-params", &format!("Invalid query string: {e}")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|e, _| Error::meteor("invalid-params", &format!("Invalid path: {e}")).into())
}

/// The answer for any route Switchboard does not serve.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, Error> {
    Err(Error::NotFound(format!(
        "The endpoint {} {} does not exist [error-not-found]",
        req.method(),
        req.path()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, Validate)]
    struct Outer {
        #[validate(nested)]
        inner: Inner,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[allow(dead_code)]
    struct Inner {
        #[validate(length(min = 1))]
        name: String,
        enabled: bool,
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        let e = parse_value::<Outer>(json!({"inner": {"enabled": true}})).unwrap_err();
        // Rocket.Chat's text, which its clients read; the path in details.
        assert_eq!(
            e.to_string(),
            "Match error: Missing key 'name' in field inner"
        );
        let Error::BadRequest { details, .. } = e else {
            panic!("a 400");
        };
        assert_eq!(details.unwrap()["field"], "inner.name");
    }

    #[test]
    fn a_wrong_type_is_named_with_its_path() {
        let e =
            parse_value::<Outer>(json!({"inner": {"name": "x", "enabled": "yes"}})).unwrap_err();
        assert!(
            e.to_string().starts_with("inner.enabled: invalid type"),
            "{e}"
        );
    }

    #[test]
    fn a_validator_rule_is_named_with_its_path() {
        let e = parse_value::<Outer>(json!({"inner": {"name": "", "enabled": true}})).unwrap_err();
        assert!(e.to_string().starts_with("inner.name:"), "{e}");
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        #[validate(nested)]
        inner: Option<Box<Strict>>,
    }

    #[test]
    fn an_unknown_field_is_named_once_with_its_path() {
        let e = parse_value::<Strict>(json!({"typo": 1})).unwrap_err();
        assert!(
            e.to_string().starts_with("typo: is not an allowed field"),
            "{e}"
        );
        let e = parse_value::<Strict>(json!({"inner": {"typo": 1}})).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("inner.typo: is not an allowed field"),
            "{e}"
        );
    }

    #[test]
    fn operator_keys_are_refused_anywhere() {
        let e = parse_value::<Outer>(json!({"inner": {"name": "x", "enabled": true, "$where": 1}}))
            .unwrap_err();
        assert!(e.to_string().contains("inner.$where"), "{e}");
    }
}
