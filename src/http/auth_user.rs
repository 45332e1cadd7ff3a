//! `AuthUser`: the caller, found by its `X-User-Id` and `X-Auth-Token`
//! headers. Any missing, unknown or mismatched credential is the same 401.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::access::Access;
use crate::auth::token::hash_token;
use crate::domain::permission::Permission;
use crate::domain::user::User;
use crate::error::Error;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Clone)]
pub struct AuthUser {
    /// As cached for at most `access::ACCESS_TTL`: read the user afresh
    /// where its current fields matter.
    pub user: User,
    /// The stored hash of the token this request used (for logout).
    pub hashed_token: String,
    access: Access,
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
            match state.access.user(&user_id, &hashed_token).await? {
                Some(user) => Ok(AuthUser {
                    user,
                    hashed_token,
                    access: state.access.clone(),
                }),
                None => Err(Error::Unauthenticated),
            }
        })
    }
}

impl AuthUser {
    pub fn id(&self) -> &str {
        &self.user.id
    }

    /// Whether the caller holds `permission`.
    pub async fn has(&self, permission: Permission) -> Result<bool, Error> {
        Ok(!self
            .access
            .granted(&self.user.roles, &[permission])
            .await?
            .is_empty())
    }

    /// 403 unless the caller holds at least one of `permissions`.
    pub async fn require_any(&self, permissions: &[Permission]) -> Result<(), Error> {
        if !self
            .access
            .granted(&self.user.roles, permissions)
            .await?
            .is_empty()
        {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// 403 unless the caller holds every one of `permissions`.
    pub async fn require_all(&self, permissions: &[Permission]) -> Result<(), Error> {
        let granted = self.access.granted(&self.user.roles, permissions).await?;
        if permissions.iter().all(|p| granted.iter().any(|g| g == p)) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}
