//! Liveness, readiness and version.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// 200 while the process runs.
#[utoipa::path(get, path = "/livez", tag = "health",
    responses((status = 200, description = "The process is running")))]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "alive", "success": true}))
}

/// 200 when MongoDB answers a ping within two seconds, else 503.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "MongoDB answers"),
              (status = 503, description = "MongoDB does not answer")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready", "success": true})),
        Ok(Err(_)) | Err(_) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "not-ready",
            "success": false,
            "error": "MongoDB is not answering [error-service-unavailable]",
            "reason": "database-unreachable",
        })),
    }
}

/// The running version, as Rocket.Chat's `/api/info`.
#[utoipa::path(get, path = "/api/info", tag = "health",
    responses((status = 200, description = "The version")))]
pub async fn info() -> HttpResponse {
    HttpResponse::Ok().json(json!({"version": env!("CARGO_PKG_VERSION"), "success": true}))
}
