//! `GET /websocket`: the livechat widget's live connection (Meteor DDP).
//! Public: a connection sees only the rooms of the visitor token it shows.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::http::bounds::client_address;
use crate::state::AppState;

/// Upgrades to a WebSocket and hands it to the live service.
#[utoipa::path(
    get,
    path = "/websocket",
    tag = "livechat",
    responses(
        (status = 101, description = "Switched to a WebSocket speaking Meteor DDP (version 1): `connect`, `ping`, the method `livechat:setUpConnection`, subscriptions to `stream-livechat-room`, `stream-room-messages` and `stream-notify-room`"),
        (status = 400, description = "Not a WebSocket upgrade"),
        (status = 429, description = "The client address holds `live.max_connections_per_address` connections already"),
    )
)]
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let admission = state.live.admit(client_address(&req))?;
    let (response, socket, stream) =
        actix_ws::handle(&req, body).map_err(|e| Error::BadRequest {
            message: e.to_string(),
            error_type: Some("error-websocket-upgrade".into()),
            details: None,
        })?;
    state.live.serve(admission, socket, stream);
    Ok(response)
}
