//! Login tokens. Only `base64(sha256(token))` is stored, in
//! `services.resume.loginTokens[].hashedToken`, exactly as Meteor's
//! `Accounts._hashLoginToken` does, so tokens are shared with Rocket.Chat.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A new login token to hand to the client.
pub fn new_token() -> String {
    crate::domain::id::new_secret()
}

/// The stored form of a login token.
pub fn hash_token(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_meteors_hash_login_token() {
        // Accounts._hashLoginToken("abc") in Meteor.
        assert_eq!(
            hash_token("abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
