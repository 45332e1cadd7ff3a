//! Switchboard's API, specified by black-box tests over HTTP against a real
//! MongoDB-wire-protocol server.

mod binary;
mod containers;
mod failures;
mod health;
#[allow(dead_code)]
mod helpers;
mod livechat_users;
mod login;
mod openapi;
mod operations;
mod permissions;
mod presence;
mod startup;
mod users;
