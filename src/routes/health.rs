//! Liveness, readiness and version.

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::Error;
use crate::state::AppState;

/// 200 while the process runs.
#[utoipa::path(get, path = "/livez", tag = "health",
    responses((status = 200, description = "The process is running")))]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "alive", "success": true}))
}

/// 200 when the start-up preparation of the database (indexes, seed data,
/// the admin) has finished and MongoDB answers a ping within two seconds,
/// else 503.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "The database is prepared and answers"),
              (status = 503, description = "The database is being prepared, or does not answer")))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let answers = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    match (answers, state.prepared.load(Ordering::Acquire)) {
        (true, true) => Ok(HttpResponse::Ok().json(json!({"status": "ready", "success": true}))),
        (false, _) => Err(Error::NotReady {
            error: "MongoDB is not answering",
            reason: "database-unreachable",
        }),
        (true, false) => Err(Error::NotReady {
            error: "The database is being prepared",
            reason: "preparing",
        }),
    }
}

/// The running version, as Rocket.Chat's `/api/info`.
#[utoipa::path(get, path = "/api/info", tag = "health",
    responses((status = 200, description = "The version")))]
pub async fn info() -> HttpResponse {
    HttpResponse::Ok().json(json!({"version": env!("CARGO_PKG_VERSION"), "success": true}))
}
