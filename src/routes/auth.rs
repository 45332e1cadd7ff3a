//! `login`, `logout` and `me`, as Rocket.Chat's REST API answers them.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use super::user_json::UserJson;
use crate::auth::password::{self, PasswordInput};
use crate::auth::token;
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::bounds::client_address;
use crate::http::extract::JsonBody;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct LoginBody {
    /// Username or e-mail address.
    pub user: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: PasswordField,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum PasswordField {
    Plain(String),
    Digest { digest: String, algorithm: String },
}

#[utoipa::path(post, path = "/api/v1/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, description = "`{status, data: {userId, authToken, me}}`"),
              (status = 401, description = "Wrong user or password"),
              (status = 429, description = "Too many attempts for this address and user; see `Retry-After`")))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<LoginBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let login = body
        .user
        .or(body.username)
        .or(body.email)
        .filter(|l| !l.trim().is_empty())
        .ok_or(Error::LoginFailed)?;
    // Keyed by address and user together: guessing one user's password is
    // slowed down without locking out the other users behind the same
    // address (an office, a balancer).
    let attempt = format!("{}|{}", client_address(&req), login.trim().to_lowercase());
    state.limits.login.check(&state.store, &attempt).await?;
    let input = match body.password {
        PasswordField::Plain(p) => PasswordInput::Plain(p),
        PasswordField::Digest { digest, algorithm } if algorithm == "sha-256" => {
            PasswordInput::Sha256Digest(digest)
        }
        PasswordField::Digest { .. } => return Err(Error::LoginFailed),
    };
    let Some((user, stored)) = state.store.users().find_for_login(login.trim()).await? else {
        return Err(Error::LoginFailed);
    };
    let matches = password::verify_in_background(input, stored).await?;
    if !matches || !user.active {
        return Err(Error::LoginFailed);
    }
    let auth_token = token::new_token();
    state
        .store
        .users()
        .add_login_token(&user.id, &token::hash_token(&auth_token))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "success",
        "data": {"userId": user.id.clone(), "authToken": auth_token, "me": UserJson::from(user)},
    })))
}

#[utoipa::path(post, path = "/api/v1/logout", tag = "auth",
    responses((status = 200, description = "The token no longer works"),
              (status = 401, description = "Not logged in")),
    security(("userId" = [], "authToken" = [])))]
pub async fn logout(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, Error> {
    state
        .store
        .users()
        .remove_login_token(caller.id(), &caller.hashed_token)
        .await?;
    state.access.users_changed();
    Ok(HttpResponse::Ok().json(json!({
        "status": "success",
        "data": {"message": "You've been logged out!"},
    })))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The caller's own user fields, at the top level", body = UserJson),
              (status = 401, description = "Not logged in")),
    security(("userId" = [], "authToken" = [])))]
pub async fn me(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, Error> {
    // Read afresh: the session cache may be a second old, and a client
    // reads its own status here right after changing it.
    let user = state
        .store
        .users()
        .find_by_id(caller.id())
        .await?
        .ok_or(Error::Unauthenticated)?;
    let mut body =
        serde_json::to_value(UserJson::from(user)).map_err(|e| Error::Unexpected(e.into()))?;
    body["success"] = json!(true);
    Ok(HttpResponse::Ok().json(body))
}
