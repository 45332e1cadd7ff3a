//! Switchboard: a Rocket.Chat-compatible livechat department registry and
//! chat router.

/// Authentication and permissions.
mod auth;
/// The command line: serve and healthcheck.
pub mod cli;
/// Typed, layered settings.
pub mod config;
/// The department registry as a service: saves, links, archive, removal.
mod departments;
/// The chat distribution engine: which agent takes each chat.
pub mod distribution;
/// Business rules, free of HTTP and storage.
pub mod domain;
/// The one error type and its HTTP mapping.
pub mod error;
/// Extractors and request bounds shared by the handlers.
mod http;
/// Rate limits shared by every instance.
mod limits;
/// Live updates for the widget: Meteor DDP over `/websocket`, fed by the
/// database's change stream.
mod live;
/// The livechat widget's visitor side: registration, rooms, messages.
mod livechat;
/// The OpenAPI document, built from the route table.
mod openapi;
/// Every endpoint, as data: served and documented from one table.
pub mod route_table;
/// HTTP handlers.
mod routes;
/// Builds the server from the settings.
pub mod startup;
/// Application state shared by handlers.
mod state;
/// MongoDB access.
pub mod store;
/// Logs, request ids and metrics.
pub mod telemetry;
/// Rocket.Chat's workspace settings, cached and shared by every instance.
mod workspace;
