//! Logging and metrics: `tracing` with the level from `RUST_LOG` (default
//! `info`), JSON lines in production and readable lines in development; a
//! span per request carrying its request id; Prometheus metrics.
//!
//! Nothing here logs headers, bodies, query strings or raw paths: those
//! carry passwords, auth tokens and visitor tokens. A request is logged by
//! its route pattern, method, status and duration only.

pub mod commands;
pub mod metrics;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // A subscriber already set (as in tests) is fine.
    drop(result);
}

/// The caller's request id when it is a plausible one (so a load
/// balancer's id follows the request through), else a new one. Anything
/// else is replaced: the id is logged, and must not carry log injection.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(crate::domain::id::new_id)
}

/// Middleware: a span per request with its id, one log line and the HTTP
/// metrics when it is answered, and the id returned as `X-Request-Id`.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let started = Instant::now();
    // The request must not be cloned here: routing, which runs inside
    // `next`, needs to be its only owner.
    let mut response = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    metrics::record_http_request(&route, &method, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            route = %route,
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}
