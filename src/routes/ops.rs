//! Operator endpoints: the OpenAPI document and Prometheus metrics.

use actix_web::HttpResponse;

/// The OpenAPI 3.1 document of every route this server registers.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json(state: actix_web::web::Data<crate::state::AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.api_document.clone())
}

/// Prometheus metrics of this instance, for the holder of `metrics.token`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain"),
              (status = 401, description = "No or a wrong bearer token", body = crate::error::ErrorBody),
              (status = 404, description = "No `metrics.token` is set: metrics are not served", body = crate::error::ErrorBody)),
    security(("metricsToken" = [])))]
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: actix_web::web::Data<crate::state::AppState>,
) -> Result<HttpResponse, crate::error::Error> {
    crate::auth::metrics_token::check(&req, &state.settings.metrics)?;
    // Open assignments are shared by every instance: count them in the
    // database at scrape time (an indexed count), not per instance.
    if let Ok(open) = state
        .store
        .assignments()
        .count_status(crate::domain::assignment::Status::Open)
        .await
    {
        crate::telemetry::metrics::set_open_assignments(open);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::telemetry::metrics::render()))
}

/// `/api/docs` → `/api/docs/`: Swagger UI loads its assets by relative
/// paths, which resolve only under the trailing slash.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/api/docs/"))
        .finish()
}
