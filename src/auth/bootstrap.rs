//! The configured admin, created at start-up when no user holds the
//! `admin` role.

use secrecy::ExposeSecret;

use crate::auth::password;
use crate::config::AdminSettings;
use crate::domain::user::{Email, NewUser, ROLE_ADMIN, ROLE_USER, Username};
use crate::error::Error;
use crate::store::Store;

/// Creates the configured admin when no user holds the `admin` role.
/// Never touches an existing user: when the username or e-mail is taken
/// (by another instance starting at the same moment, or by an ordinary
/// user) the insert fails on the unique index and is logged.
pub async fn bootstrap_admin(store: &Store, admin: &AdminSettings) -> Result<(), Error> {
    if store.users().count_with_role(ROLE_ADMIN).await? > 0 {
        return Ok(());
    }
    let username = Username::parse("ADMIN_USERNAME", &admin.username)
        .map_err(|e| Error::bad_request(e.to_string()))?;
    let email = if admin.email.is_empty() {
        format!("{}@switchboard.local", username.as_str())
    } else {
        admin.email.clone()
    };
    let email =
        Email::parse("ADMIN_EMAIL", &email).map_err(|e| Error::bad_request(e.to_string()))?;
    let bcrypt = password::hash_in_background(admin.password.expose_secret().to_string()).await?;
    let new = NewUser {
        name: username.as_str().to_string(),
        username,
        email,
        roles: vec![ROLE_ADMIN.to_string(), ROLE_USER.to_string()],
        active: true,
    };
    match store.users().insert(&new, bcrypt).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, username = %user.username, "created the admin user")
        }
        Err(Error::BadRequest { message, .. }) => {
            tracing::warn!(%message, "admin user not created: the username or e-mail is taken")
        }
        Err(e) => return Err(e),
    }
    Ok(())
}
