//! Who is calling and what they may do: Meteor-compatible passwords and
//! login tokens, the session and grant caches, the metrics token and the
//! configured admin's creation. Free of HTTP: the `AuthUser` extractor
//! lives in [`crate::http`].

pub mod access;
pub mod bootstrap;
pub mod metrics_token;
pub mod password;
pub mod token;
