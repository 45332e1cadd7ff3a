//! HTTP handlers, one module per resource. Each handler extracts, checks
//! permissions, parses into domain types, calls the store and maps the
//! result to a response type; rules live in `domain/`, queries in `store/`.

pub mod auth;
pub mod extract;
pub mod health;
pub mod livechat_users;
pub mod ops;
pub mod permissions;
pub mod user_json;
pub mod users;
