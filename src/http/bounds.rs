//! Edge bounds on every request: its declared size, its time, and the
//! client address that per-client rate limits key on.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, ResponseError, web};

use crate::distribution::RequestBound;
use crate::state::AppState;

/// The address the request came from, as the key for per-client limits.
/// This is the TCP peer: `X-Forwarded-For` can be forged by any client, so
/// behind a balancer all clients share its address and the other part of
/// the key (the username for logins) does the work.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Middleware: a declared body over `http.max_body_bytes` is refused
/// before any handler runs, also on routes that never read a body.
pub async fn limit_body(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.http.max_body_bytes);
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let (Some(limit), Some(declared)) = (limit, declared)
        && declared > limit as u64
    {
        let response = super::extract::too_large(limit).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Route middleware (it holds a copy of the request, so it must run after
/// routing): a request not answered within `http.request_timeout_ms`
/// (a stuck database, typically) is abandoned with a 503, so no client
/// waits past the bound and no worker is held forever.
pub async fn limit_time(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let bound = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Duration::from_millis(s.settings.http.request_timeout_ms))
        .filter(|d| !d.is_zero());
    let Some(bound) = bound else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let http_request = req.request().clone();
    let request_bound = RequestBound::default();
    let handling = request_bound.scope(next.call(req));
    tokio::pin!(handling);
    tokio::select! {
        response = &mut handling => Ok(response?.map_into_left_body()),
        _ = tokio::time::sleep(bound) => {
            // Before the handling is dropped: work it leaves running then
            // knows its caller was answered 503 (`distribution::settle`).
            request_bound.timed_out();
            tracing::warn!(timeout_ms = bound.as_millis() as u64, "request timed out");
            let response = crate::error::Error::TimedOut.error_response();
            Ok(ServiceResponse::new(http_request, response).map_into_right_body())
        }
    }
}
