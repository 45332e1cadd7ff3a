//! The OpenAPI 3.1 document, built from the route table itself: every
//! route contributes the operation its handler's `#[utoipa::path]`
//! describes, so a route cannot be served undocumented (or documented and
//! not served) — `tests/api/openapi.rs` checks the two agree.

use utoipa::PartialSchema;
use utoipa::openapi::content::Content;
use utoipa::openapi::path::{Operation, Paths};
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Tag};

use crate::error::ErrorBody;
use crate::route_table::{Collected, Route};

/// The errors any operation may answer besides those it declares: bad
/// input in the path or query (400), unknown ids (404), an unexpected
/// failure (500), the database unreachable or the
/// request bound passed (503); with credentials 401 and 403; with a body
/// 413 and 415. Each is documented with the error envelope, so the
/// document describes every answer the service gives.
fn document_errors(operation: &mut Operation) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    let mut statuses = vec![400, 404, 500, 503];
    if secured {
        statuses.extend([401, 403]);
    }
    if has_body {
        statuses.extend([413, 415]);
    }
    for status in statuses {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new("")));
    }
    let envelope = Content::new(Some(Ref::from_schema_name("ErrorBody")));
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && (status.starts_with('4') || status.starts_with('5'))
        {
            response.content.clear();
            response
                .content
                .insert("application/json".to_string(), RefOr::T(envelope.clone()));
        }
    }
}

/// OpenAPI requires a description on every response; a bare
/// `(status = 403)` in an annotation gets the standard reason phrase.
fn describe_bare_responses(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = status
                .parse::<u16>()
                .ok()
                .and_then(|code| actix_web::http::StatusCode::from_u16(code).ok())
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Response")
                .to_string();
        }
    }
}

/// The document of `routes`: each route's operation, with the error
/// answers every operation may give.
pub fn document(routes: &[Route]) -> OpenApi {
    let mut paths = Paths::new();
    let mut schemas = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for route in routes {
        let mut collected = Collected::default();
        route.document(&mut collected);
        schemas.append(&mut collected.schemas);
        for (path, method, mut operation) in collected.operations {
            // Handler names repeat across modules (`list`, `get`); the
            // route's `module.handler` is unique.
            operation.operation_id = Some(route.handler.to_string());
            document_errors(&mut operation);
            describe_bare_responses(&mut operation);
            for tag in operation.tags.iter().flatten() {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            }
            paths.add_path_operation(path, vec![method], operation);
        }
    }
    let header = |name: &str| SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(name)));
    schemas.push(("ErrorBody".to_string(), ErrorBody::schema()));
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme("userId", header("X-User-Id"))
        .security_scheme("authToken", header("X-Auth-Token"))
        .security_scheme(
            "metricsToken",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Switchboard")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Rocket.Chat-compatible livechat department registry and chat router. \
                     Authenticated endpoints take the `X-User-Id` and `X-Auth-Token` headers \
                     answered by `POST /api/v1/login`.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some(tags.into_iter().map(Tag::new)))
        .build()
}
