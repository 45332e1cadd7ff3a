//! `AuthUser`: the caller, found by its `X-User-Id` and `X-Auth-Token`
//! headers. Any missing, unknown or mismatched credential is the same 401.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::Permission;
use super::token::hash_token;
use crate::domain::user::User;
use crate::error::Error;
use crate::state::AppState;
use crate::store::Store;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    /// The stored hash of the token this request used (for logout).
    pub hashed_token: String,
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl FromRequest for AuthUser {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let user_id = header(req, "x-user-id");
        let token = header(req, "x-auth-token");
        Box::pin(async move {
            let (Some(state), Some(user_id), Some(token)) = (state, user_id, token) else {
                return Err(Error::Unauthenticated);
            };
            let hashed_token = hash_token(&token);
            match state
                .store
                .users()
                .find_by_login_token(&user_id, &hashed_token)
                .await?
            {
                Some(user) if user.active => Ok(AuthUser { user, hashed_token }),
                _ => Err(Error::Unauthenticated),
            }
        })
    }
}

impl AuthUser {
    pub fn id(&self) -> &str {
        &self.user.id
    }

    /// Whether the caller holds `permission`.
    pub async fn has(&self, store: &Store, permission: Permission) -> Result<bool, Error> {
        store
            .permissions()
            .any_granted(&self.user.roles, &[permission])
            .await
    }

    /// 403 unless the caller holds at least one of `permissions`.
    pub async fn require_any(
        &self,
        store: &Store,
        permissions: &[Permission],
    ) -> Result<(), Error> {
        if store
            .permissions()
            .any_granted(&self.user.roles, permissions)
            .await?
        {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// 403 unless the caller holds every one of `permissions`.
    pub async fn require_all(
        &self,
        store: &Store,
        permissions: &[Permission],
    ) -> Result<(), Error> {
        let granted = store
            .permissions()
            .granted(&self.user.roles, permissions)
            .await?;
        if permissions.iter().all(|p| granted.iter().any(|g| g == p)) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}
