//! Passwords as Meteor stores them: bcrypt over the lowercase hex SHA-256 of
//! the password, so a user created here can log in to Rocket.Chat and the
//! other way round.

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Meteor's default bcrypt cost.
const BCRYPT_COST: u32 = 10;

/// What a client sent as its password: the plain text, or Meteor's
/// `{digest, algorithm: "sha-256"}` form.
#[derive(Debug, Clone)]
pub enum PasswordInput {
    Plain(String),
    Sha256Digest(String),
}

impl PasswordInput {
    fn digest(&self) -> String {
        match self {
            PasswordInput::Plain(p) => hex::encode(Sha256::digest(p.as_bytes())),
            PasswordInput::Sha256Digest(d) => d.to_lowercase(),
        }
    }
}

/// [`hash`] on a blocking thread, so bcrypt's cost never stalls the
/// executor.
pub async fn hash_in_background(plain: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || hash(&plain))
        .await
        .map_err(|e| Error::Unexpected(e.into()))?
        .map_err(|e| Error::Unexpected(e.into()))
}

/// [`verify`] on a blocking thread.
pub async fn verify_in_background(
    input: PasswordInput,
    stored_bcrypt: String,
) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || verify(&input, &stored_bcrypt))
        .await
        .map_err(|e| Error::Unexpected(e.into()))
}

/// The value for `services.password.bcrypt`. CPU-heavy: call it off the
/// async executor.
pub fn hash(plain: &str) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(
        PasswordInput::Plain(plain.to_string()).digest(),
        BCRYPT_COST,
    )
}

/// Whether `input` matches the stored bcrypt hash. CPU-heavy.
pub fn verify(input: &PasswordInput, stored_bcrypt: &str) -> bool {
    bcrypt::verify(input.digest(), stored_bcrypt).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_by_plain_text_and_by_digest() {
        let stored = hash("s3cret").unwrap();
        assert!(verify(&PasswordInput::Plain("s3cret".into()), &stored));
        let digest = hex::encode(Sha256::digest(b"s3cret")).to_uppercase();
        assert!(verify(&PasswordInput::Sha256Digest(digest), &stored));
        assert!(!verify(&PasswordInput::Plain("wrong".into()), &stored));
    }

    #[test]
    fn a_meteor_hash_verifies() {
        // bcrypt($2b$, cost 4) of sha256("password"), as Meteor would store it.
        let stored = bcrypt::hash(
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
            4,
        )
        .unwrap();
        assert!(verify(&PasswordInput::Plain("password".into()), &stored));
    }
}
