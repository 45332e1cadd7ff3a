//! HTTP handlers, one module per resource. Each handler extracts, checks
//! permissions, parses into domain types, calls the store and maps the
//! result to a response type; rules live in `domain/`, queries in `store/`.

pub mod assignments;
pub mod auth;
pub mod auto_distribution;
pub mod comm100_body;
pub mod comm100_json;
pub mod comm100_switches;
pub mod departments;
pub mod health;
pub mod inquiries;
pub mod inquiry_json;
pub mod livechat;
pub mod livechat_users;
pub mod ops;
pub mod permissions;
pub mod queue;
pub mod settings;
pub mod user_json;
pub mod users;
pub mod websocket;
