//! `users.create` and `users.setStatus`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use super::user_json::UserJson;
use crate::auth::password;
use crate::domain::permission::{CREATE_USER, EDIT_OTHER_USER_INFO};
use crate::domain::user::{Email, NewUser, ROLE_USER, UserStatus, Username, parse_roles};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::JsonBody;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct CreateUserBody {
    pub email: String,
    #[validate(length(min = 1, max = 256, message = "must be 1 to 256 characters"))]
    pub name: String,
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    pub password: String,
    pub username: String,
    pub roles: Option<Vec<String>>,
    pub active: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/users.create", tag = "users", request_body = CreateUserBody,
    responses((status = 200, description = "`{user, success}`"),
              (status = 400, description = "Invalid field, or username/e-mail taken"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateUserBody>,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[CREATE_USER]).await?;
    let body = body.into_inner();
    let new = NewUser {
        username: Username::parse("username", &body.username)?,
        name: body.name.trim().to_string(),
        email: Email::parse("email", &body.email)?,
        roles: parse_roles(
            "roles",
            &body.roles.unwrap_or_else(|| vec![ROLE_USER.into()]),
        )?,
        active: body.active.unwrap_or(true),
    };
    let plain = body.password;
    let bcrypt = password::hash_in_background(plain).await?;
    let user = state.store.users().insert(&new, bcrypt).await?;
    Ok(HttpResponse::Ok().json(json!({"user": UserJson::from(user), "success": true})))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct SetStatusBody {
    /// online, away, busy or offline.
    pub status: String,
    #[validate(length(max = 120, message = "must be at most 120 characters"))]
    pub message: Option<String>,
    /// Another user's id; needs `edit-other-user-info`.
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/users.setStatus", tag = "users", request_body = SetStatusBody,
    responses((status = 200, description = "`{success: true}`"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn set_status(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<SetStatusBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let target = body.user_id.unwrap_or_else(|| caller.id().to_string());
    if target != caller.id() {
        caller.require_all(&[EDIT_OTHER_USER_INFO]).await?;
    }
    let status: UserStatus = body.status.parse()?;
    state
        .distribution
        .set_user_status(&target, status, body.message.as_deref())
        .await?
        .ok_or_else(|| Error::meteor("error-invalid-user", "Invalid user"))?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}
