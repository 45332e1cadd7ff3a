//! `livechat/visitor` (register, read, remove), `visitor.status` and
//! `page.visited`: the widget's visitor calls. Public and rate-limited;
//! the token is the visitor's credential.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use validator::Validate;

use super::json;
use crate::domain::visitor::{RawRegistration, Registration, parse_status};
use crate::error::Error;
use crate::http::extract::JsonBody;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct VisitorFields {
    pub token: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub username: Option<String>,
    /// Accepted as Rocket.Chat's widget sends them (`[{key, value,
    /// overwrite}]`); Switchboard defines no custom fields, so, as
    /// Rocket.Chat does with undefined ones, none is stored.
    #[serde(rename = "customFields")]
    #[validate(length(max = 100, message = "must have at most 100 entries"))]
    #[schema(value_type = Option<Vec<Object>>)]
    pub custom_fields: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct RegisterBody {
    #[validate(nested)]
    pub visitor: VisitorFields,
}

#[utoipa::path(post, path = "/api/v1/livechat/visitor", tag = "livechat", request_body = RegisterBody,
    responses((status = 200, description = "`{visitor: {_id, username, token, name, visitorEmails, phone, department, status, ts}, success}`"),
              (status = 400, description = "A missing token, a malformed e-mail, an oversized field, or an unknown or disabled department (`error-invalid-department`); nothing is stored"),
              (status = 429, description = "Too many requests from this address")))]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<RegisterBody>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let v = body.into_inner().visitor;
    let registration = Registration::parse(RawRegistration {
        token: v.token,
        name: v.name,
        email: v.email,
        phone: v.phone,
        department: v.department,
        username: v.username,
    })?;
    let visitor = state.livechat.register(registration).await?;
    Ok(HttpResponse::Ok().json(json!({"visitor": json::visitor(&visitor), "success": true})))
}

#[utoipa::path(get, path = "/api/v1/livechat/visitor/{token}", tag = "livechat",
    params(("token" = String, Path)),
    responses((status = 200, description = "`{visitor, success}`"),
              (status = 400, description = "Bad input, or `{success: false, error: invalid-token}`"),
              (status = 429)))]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let token = super::token(Some(&token))?;
    let visitor = state.livechat.visitor(&token).await?;
    Ok(HttpResponse::Ok().json(json!({"visitor": json::visitor(&visitor), "success": true})))
}

#[utoipa::path(delete, path = "/api/v1/livechat/visitor/{token}", tag = "livechat",
    params(("token" = String, Path)),
    responses((status = 200, description = "`{visitor: {_id, ts}, success}`: the visitor, its rooms and messages are removed; its live chat is closed first"),
              (status = 400, description = "Bad input, or `{success: false, error: invalid-token}`"),
              (status = 429)))]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let token = super::token(Some(&token))?;
    let visitor = state.livechat.remove_visitor(&token).await?;
    Ok(HttpResponse::Ok().json(json!({
        "visitor": {"_id": visitor.id, "ts": chrono::Utc::now()},
        "success": true,
    })))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct StatusBody {
    pub token: String,
    pub status: String,
}

#[utoipa::path(post, path = "/api/v1/livechat/visitor.status", tag = "livechat", request_body = StatusBody,
    responses((status = 200, description = "`{token, status, success}`"),
              (status = 400, description = "Bad input, or `{success: false, error: invalid-token}`"),
              (status = 429)))]
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<StatusBody>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let body = body.into_inner();
    let token = super::token(Some(&body.token))?;
    let status = parse_status(&body.status)?;
    state.livechat.set_status(&token, status).await?;
    Ok(
        HttpResponse::Ok()
            .json(json!({"token": token.as_str(), "status": status, "success": true})),
    )
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct PageVisitedBody {
    pub token: String,
    #[expect(dead_code, reason = "page visits are accepted and not recorded")]
    pub rid: Option<String>,
    #[serde(rename = "pageInfo")]
    #[schema(value_type = Object)]
    #[expect(dead_code, reason = "page visits are accepted and not recorded")]
    pub page_info: Value,
}

#[utoipa::path(post, path = "/api/v1/livechat/page.visited", tag = "livechat", request_body = PageVisitedBody,
    responses((status = 200, description = "`{success: true}`: as Rocket.Chat with `Livechat_Visitor_navigation_as_a_message` off (its default), the visit is not recorded"),
              (status = 400), (status = 429)))]
pub async fn page_visited(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<PageVisitedBody>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    super::token(Some(&body.into_inner().token))?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}
