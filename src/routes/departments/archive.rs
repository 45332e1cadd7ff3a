//! `POST livechat/department/:_id/archive` and `…/unarchive`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::domain::permission::MANAGE_DEPARTMENTS;
use crate::error::Error;
use crate::http::AuthUser;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/livechat/department/{_id}/archive", tag = "departments",
    params(("_id" = String, Path)),
    responses((status = 200, description = "`{success: true}`; the department is also disabled"),
              (status = 400, description = "`department-not-found`"), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn archive(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[MANAGE_DEPARTMENTS]).await?;
    if !state.departments.set_archived(&id, true).await? {
        // Rocket.Chat's exact answer (a plain `Error`).
        return Err(Error::code("department-not-found"));
    }
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

#[utoipa::path(post, path = "/api/v1/livechat/department/{_id}/unarchive", tag = "departments",
    params(("_id" = String, Path)),
    responses((status = 200, description = "`{success: true}`; the department stays disabled until enabled"),
              (status = 400, description = "`[department-not-found]`"), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn unarchive(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[MANAGE_DEPARTMENTS]).await?;
    if !state.departments.set_archived(&id, false).await? {
        // Rocket.Chat's exact answer (a `Meteor.Error` without reason).
        return Err(Error::meteor("department-not-found", ""));
    }
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}
