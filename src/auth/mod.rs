//! Who is calling and what they may do: Meteor-compatible passwords and
//! login tokens, the `AuthUser` extractor, and Rocket.Chat's permissions.

pub mod access;
pub mod extractor;
pub mod metrics_token;
pub mod password;
pub mod permissions;
pub mod token;

pub use extractor::AuthUser;
pub use permissions::Permission;
