//! Who holds which login token, and which roles hold which permission,
//! cached per instance for at most [`ACCESS_TTL`]: every request checks
//! both, and they change rarely. A logout, a role or a permission changed
//! through this instance applies here at once (the handler says so); one
//! changed through another instance applies here within the bound.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::domain::user::User;
use crate::error::Error;
use crate::store::Store;

/// How long a cached session or permission may be used.
pub const ACCESS_TTL: Duration = Duration::from_secs(1);

/// The per-instance cache of sessions and grants.
#[derive(Clone)]
pub struct Access {
    store: Store,
    /// (user id, hashed token) → the user, for tokens that exist.
    sessions: Cache<(String, String), User>,
    /// Permission id → the roles granted it.
    grants: Cache<(), Arc<HashMap<String, Vec<String>>>>,
}

impl Access {
    pub fn new(store: Store) -> Access {
        Access {
            store,
            sessions: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ACCESS_TTL)
                .build(),
            grants: Cache::builder().time_to_live(ACCESS_TTL).build(),
        }
    }

    /// The active user holding this login token, if any.
    pub async fn user(&self, user_id: &str, hashed_token: &str) -> Result<Option<User>, Error> {
        let key = (user_id.to_string(), hashed_token.to_string());
        let found = self
            .sessions
            .try_get_with(key, async {
                match self
                    .store
                    .users()
                    .find_by_login_token(user_id, hashed_token)
                    .await?
                {
                    Some(user) => Ok(user),
                    // Not cached: a token minted a moment ago on another
                    // instance works here at once.
                    None => Err(None),
                }
            })
            .await;
        match found {
            Ok(user) => Ok(Some(user).filter(|u| u.active)),
            Err(e) => match e.as_ref() {
                None => Ok(None),
                Some(e) => Err(e.shared()),
            },
        }
    }

    /// Which of `permissions` at least one of `roles` holds.
    pub async fn granted(
        &self,
        roles: &[String],
        permissions: &[&str],
    ) -> Result<Vec<String>, Error> {
        let grants = self
            .grants
            .try_get_with((), async {
                let all = self.store.permissions().list(None).await?;
                Ok::<_, Error>(Arc::new(
                    all.into_iter()
                        .map(|g| (g.id, g.roles))
                        .collect::<HashMap<_, _>>(),
                ))
            })
            .await
            .map_err(|e| e.shared())?;
        Ok(permissions
            .iter()
            .filter(|p| {
                grants
                    .get(**p)
                    .is_some_and(|held| held.iter().any(|r| roles.contains(r)))
            })
            .map(|p| p.to_string())
            .collect())
    }

    /// A user's roles, status or tokens changed through this instance.
    pub fn users_changed(&self) {
        self.sessions.invalidate_all();
    }

    /// Permissions changed through this instance.
    pub fn grants_changed(&self) {
        self.grants.invalidate_all();
    }
}
