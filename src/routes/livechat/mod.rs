//! The livechat widget's public calls, as Rocket.Chat serves them: its
//! configuration, visitor registration, the visitor's room, agent and
//! messages. Each is rate-limited per client address, and a visitor token
//! reaches only its own visitor, room and messages (another's: 404).

pub mod config;
mod json;
pub mod messages;
pub mod rooms;
pub mod visitors;

use actix_web::HttpRequest;

use crate::domain::visitor::VisitorToken;
use crate::error::Error;
use crate::state::AppState;

/// Counts one public call of this client address.
async fn limited(state: &AppState, req: &HttpRequest) -> Result<(), Error> {
    state
        .limits
        .livechat
        .check(&state.store, &crate::http::bounds::client_address(req))
        .await
}

fn token(raw: Option<&str>) -> Result<VisitorToken, Error> {
    Ok(VisitorToken::parse(raw.unwrap_or(""))?)
}
