//! The visitor's messages: `livechat/message` and `messages.history`.
//! Public and rate-limited; a token reaches only its own room's messages.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use super::json;
use crate::error::Error;
use crate::http::extract::JsonBody;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct SendBody {
    pub token: String,
    pub rid: String,
    pub msg: String,
    /// The widget's own id for the message, so a retried send is stored once.
    #[serde(rename = "_id")]
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/livechat/message", tag = "livechat", request_body = SendBody,
    responses((status = 200, description = "`{message: {_id, rid, msg, ts, u, token, alias}, success}`"),
              (status = 400, description = "An empty or oversized message (`Message_MaxAllowedSize`), `[room-closed]`, `invalid-token`, or `invalid-room`"),
              (status = 429)))]
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<SendBody>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let body = body.into_inner();
    let token = super::token(Some(&body.token))?;
    let message = state
        .livechat
        .send(&token, &body.rid, &body.msg, body.id)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"message": json::message(&message), "success": true})))
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    pub token: Option<String>,
    /// Only messages before this instant (ISO date).
    pub end: Option<String>,
    pub limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/messages.history/{rid}", tag = "livechat",
    params(("rid" = String, Path), ("token" = String, Query), ("end" = Option<String>, Query),
           ("limit" = Option<u64>, Query, description = "Default 20, at most 100")),
    responses((status = 200, description = "`{messages: [...], success}`, newest first"),
              (status = 400, description = "Bad input, `invalid-token`, or `invalid-room`"),
              (status = 429)))]
pub async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    rid: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let token = super::token(query.token.as_deref())?;
    let bad = |field: &str, message: &str| {
        Error::from(crate::domain::ValidationError::new(field, "type", message))
    };
    let end = match query.end.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(
            chrono::DateTime::parse_from_rfc3339(e)
                .map_err(|_| bad("end", "must be an ISO date"))?
                .with_timezone(&chrono::Utc),
        ),
        None => None,
    };
    let limit = match query.limit.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| bad("limit", "must be 1 to 100"))?,
        None => 20,
    };
    let messages = state.livechat.history(&token, &rid, end, limit).await?;
    Ok(HttpResponse::Ok().json(json!({
        "messages": messages.iter().map(json::message).collect::<Vec<_>>(),
        "success": true,
    })))
}
