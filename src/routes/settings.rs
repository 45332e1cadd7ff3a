//! Rocket.Chat's settings API: `settings/:_id` (read and change one
//! setting, privileged) and `settings.public` (what any client may read).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use validator::Validate;

use crate::domain::pagination::Page;
use crate::domain::permission::{EDIT_PRIVILEGED_SETTING, VIEW_PRIVILEGED_SETTING};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::JsonBody;
use crate::http::paged::paged;
use crate::state::AppState;
use crate::store::settings::Setting;

fn not_found() -> Error {
    Error::meteor("error-setting-not-found", "Setting not found")
}

/// Rocket.Chat answers a missing privilege here with its bare
/// `API.v1.unauthorized()`.
async fn require(caller: &AuthUser, permission: &'static str) -> Result<(), Error> {
    if caller.has(permission).await? {
        Ok(())
    } else {
        Err(Error::Refused("unauthorized".into()))
    }
}

#[utoipa::path(get, path = "/api/v1/settings/{_id}", tag = "settings",
    params(("_id" = String, Path)),
    responses((status = 200, description = "`{_id, value, success}`"),
              (status = 400, description = "No such setting"), (status = 401),
              (status = 403, description = "`{success: false, error: unauthorized}` without `view-privileged-setting`")),
    security(("userId" = [], "authToken" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    require(&caller, VIEW_PRIVILEGED_SETTING).await?;
    let setting = state
        .store
        .settings()
        .find_visible(&id)
        .await?
        .ok_or_else(not_found)?;
    Ok(
        HttpResponse::Ok()
            .json(json!({"_id": setting.id, "value": setting.value, "success": true})),
    )
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct SetBody {
    /// The new value, of the setting's type.
    #[schema(value_type = Object)]
    pub value: Value,
}

#[utoipa::path(post, path = "/api/v1/settings/{_id}", tag = "settings",
    params(("_id" = String, Path)), request_body = SetBody,
    responses((status = 200, description = "`{success: true}`; every instance applies it within 1 s"),
              (status = 400, description = "No such setting, a value of another type, or a setting Switchboard reads from its configuration"),
              (status = 401),
              (status = 403, description = "`{success: false, error: unauthorized}` without `edit-privileged-setting`")),
    security(("userId" = [], "authToken" = [])))]
pub async fn set(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
    body: JsonBody<SetBody>,
) -> Result<HttpResponse, Error> {
    require(&caller, EDIT_PRIVILEGED_SETTING).await?;
    let value = body.into_inner().value;
    state
        .workspace
        .set(&id, value)
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub offset: Option<String>,
    pub count: Option<String>,
}

fn public_json(s: Setting) -> Value {
    json!({"_id": s.id, "value": s.value})
}

#[utoipa::path(get, path = "/api/v1/settings.public", tag = "settings",
    params(("offset" = Option<u64>, Query), ("count" = Option<u64>, Query)),
    responses((status = 200, description = "`{settings: [{_id, value}], count, offset, total, success}`"),
              (status = 400)))]
pub async fn public(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let page = Page::parse(query.offset.as_deref(), query.count.as_deref())?;
    let (found, total) = state
        .store
        .settings()
        .public_page(page.offset, page.count as i64)
        .await?;
    let settings: Vec<_> = found.into_iter().map(public_json).collect();
    Ok(paged("settings", settings, page, total))
}
