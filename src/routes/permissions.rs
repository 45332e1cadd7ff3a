//! `permissions.listAll` and `permissions.update`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use validator::Validate;

use crate::domain::permission::ACCESS_PERMISSIONS;
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::JsonBody;
use crate::state::AppState;
use crate::store::permissions::Grant;

fn grant_json(g: Grant) -> Value {
    json!({"_id": g.id, "roles": g.roles, "_updatedAt": g.updated_at})
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "updatedSince")]
    pub updated_since: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/permissions.listAll", tag = "permissions",
    params(("updatedSince" = Option<String>, Query, description = "ISO date")),
    responses((status = 200, description = "`{update: [...], remove: [], success}`"), (status = 401)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list_all(
    state: web::Data<AppState>,
    _caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    let since = match query.updated_since.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(
            chrono::DateTime::parse_from_rfc3339(raw)
                .map_err(|_| {
                    Error::meteor(
                        "error-roomId-param-invalid",
                        "Invalid date for `updatedSince`",
                    )
                })?
                .with_timezone(&chrono::Utc),
        ),
    };
    let grants = state.store.permissions().list(since).await?;
    Ok(HttpResponse::Ok().json(json!({
        "update": grants.into_iter().map(grant_json).collect::<Vec<_>>(),
        "remove": [],
        "success": true,
    })))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct UpdateBody {
    #[validate(length(min = 1, message = "must list at least one permission"))]
    pub permissions: Vec<GrantInput>,
}

#[derive(Debug, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct GrantInput {
    #[serde(rename = "_id")]
    pub id: String,
    pub roles: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/permissions.update", tag = "permissions", request_body = UpdateBody,
    responses((status = 200, description = "`{permissions: [...], success}`"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[ACCESS_PERMISSIONS]).await?;
    let grants: Vec<(String, Vec<String>)> = body
        .into_inner()
        .permissions
        .into_iter()
        .map(|g| (g.id, g.roles))
        .collect();
    let ids: Vec<String> = grants.iter().map(|(id, _)| id.clone()).collect();
    if let Some(unknown) = state.store.permissions().missing(&ids).await?.first() {
        return Err(Error::meteor(
            "error-invalid-permission",
            &format!("Invalid permission `{unknown}`"),
        ));
    }
    let roles: Vec<String> = grants.iter().flat_map(|(_, r)| r.clone()).collect();
    if let Some(unknown) = state.store.roles().missing(&roles).await?.first() {
        return Err(Error::meteor(
            "error-invalid-role",
            &format!("Invalid role `{unknown}`"),
        ));
    }
    state.store.permissions().set_roles(&grants).await?;
    state.access.grants_changed();
    let all = state.store.permissions().list(None).await?;
    Ok(HttpResponse::Ok().json(json!({
        "permissions": all.into_iter().map(grant_json).collect::<Vec<_>>(),
        "success": true,
    })))
}
