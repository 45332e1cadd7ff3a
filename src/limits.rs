//! Edge safety: keyed rate limits, the request-size bound for every route
//! and the request time bound.
//!
//! Limits are kept per instance (in memory): an operator running N
//! instances behind a balancer allows up to N times the configured rate,
//! which still stops brute force and runaway clients at a bounded cost
//! without a database round trip per request.

use std::num::NonZeroU32;
use std::time::Duration;

use actix_governor::governor::clock::{Clock, DefaultClock};
use actix_governor::governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::json;

use crate::config::RateLimitSettings;
use crate::error::Error;
use crate::state::AppState;

/// Keys kept before idle ones are dropped, so a flood of distinct keys
/// cannot grow memory without bound.
const MAX_KEYS: usize = 100_000;

/// A per-key limit of `n` requests a minute (a burst of `n`, refilled
/// evenly). Zero means no limit.
pub struct KeyedLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl KeyedLimiter {
    pub fn per_minute(n: u32) -> KeyedLimiter {
        KeyedLimiter {
            limiter: NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    /// Counts one request for `key`: `Error::TooManyRequests` (429 with
    /// `Retry-After`) once the key is over its limit.
    pub fn check(&self, key: &str) -> Result<(), Error> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > MAX_KEYS {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::TooManyRequests {
                retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })
    }
}

/// The limiters of one instance, held in [`AppState`].
pub struct Limits {
    /// Login attempts per client address and username.
    pub login: KeyedLimiter,
    /// Public routing calls (`GET /api/v1/livechat/agent.next/{token}`)
    /// per client address.
    pub agent_next: KeyedLimiter,
}

impl Limits {
    pub fn new(settings: &RateLimitSettings) -> Limits {
        Limits {
            login: KeyedLimiter::per_minute(settings.login_per_minute),
            agent_next: KeyedLimiter::per_minute(settings.agent_next_per_minute),
        }
    }
}

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
        let response = crate::routes::extract::too_large(limit).error_response();
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
    match tokio::time::timeout(bound, next.call(req)).await {
        Ok(response) => Ok(response?.map_into_left_body()),
        Err(_) => {
            tracing::warn!(timeout_ms = bound.as_millis() as u64, "request timed out");
            let response = HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE).json(json!({
                "success": false,
                "error": "The request took too long, try again shortly [error-request-timeout]",
                "errorType": "error-request-timeout",
            }));
            Ok(ServiceResponse::new(http_request, response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_is_refused_with_a_retry_delay() {
        let limiter = KeyedLimiter::per_minute(2);
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        match limiter.check("a") {
            Err(Error::TooManyRequests {
                retry_after_seconds,
            }) => assert!((1..=60).contains(&retry_after_seconds)),
            other => panic!("expected 429, got {other:?}"),
        }
        // Other keys are unaffected.
        assert!(limiter.check("b").is_ok());
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = KeyedLimiter::per_minute(0);
        assert!((0..1000).all(|_| limiter.check("a").is_ok()));
    }
}
