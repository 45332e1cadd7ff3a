//! Who may read `/metrics`: the holder of `metrics.token`. Request counts,
//! open assignments and database errors are not for anyone who reaches
//! the port, so without a token they are not served at all.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::MetricsSettings;
use crate::error::Error;

/// 404 when no token is configured, 401 unless the request carries it as
/// `Authorization: Bearer <token>`.
pub fn check(req: &HttpRequest, settings: &MetricsSettings) -> Result<(), Error> {
    let expected = settings.token.expose_secret();
    if expected.is_empty() {
        return Err(Error::NotFound("metrics-disabled".into()));
    }
    let offered = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compared as digests, so the time taken says nothing about the token.
    if Sha256::digest(offered.as_bytes()) == Sha256::digest(expected.as_bytes()) {
        Ok(())
    } else {
        Err(Error::Unauthenticated)
    }
}
