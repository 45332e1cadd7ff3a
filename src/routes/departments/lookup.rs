//! `department.autocomplete` and `department.listByIds`: pickers in
//! Rocket.Chat's UI.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::department_json;
use crate::domain::listing::{ArchivedFilter, parse_flag};
use crate::domain::permission::{VIEW_DEPARTMENTS, VIEW_L_ROOM};
use crate::error::Error;
use crate::http::AuthUser;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct AutocompleteQuery {
    pub selector: Option<String>,
    #[serde(rename = "showArchived")]
    pub show_archived: Option<String>,
    #[serde(rename = "onlyMyDepartments")]
    pub only_my_departments: Option<String>,
}

/// The `selector` JSON. `conditions` (a raw MongoDB filter in Rocket.Chat)
/// is refused by `deny_unknown_fields`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selector {
    #[serde(default)]
    term: Option<String>,
    #[serde(default)]
    exceptions: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/api/v1/livechat/department.autocomplete", tag = "departments",
    params(("selector" = String, Query, description = "JSON `{term?, exceptions?}`"),
           ("showArchived" = Option<bool>, Query)),
    responses((status = 200, description = "`{items: [{_id, name}], success}`"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn autocomplete(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<AutocompleteQuery>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_DEPARTMENTS, VIEW_L_ROOM]).await?;
    let raw = query
        .selector
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::bad_request("The 'selector' param is required"))?;
    let selector: Selector = serde_json::from_str(raw).map_err(|e| {
        Error::meteor(
            "error-invalid-selector",
            &format!("The 'selector' param must be a JSON object {{term?, exceptions?}}: {e}"),
        )
    })?;
    parse_flag("onlyMyDepartments", query.only_my_departments.as_deref())?;
    let archived = match parse_flag("showArchived", query.show_archived.as_deref())? {
        Some(true) => ArchivedFilter::Include,
        _ => ArchivedFilter::Hide,
    };
    let items = state
        .store
        .departments()
        .autocomplete(
            selector.term.as_deref().unwrap_or(""),
            &selector.exceptions.unwrap_or_default(),
            archived,
        )
        .await?;
    let items: Vec<_> = items
        .into_iter()
        .map(|(id, name)| json!({"_id": id, "name": name}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "success": true})))
}

#[utoipa::path(get, path = "/api/v1/livechat/department.listByIds", tag = "departments",
    params(("ids[]" = Vec<String>, Query, description = "`ids[]=a&ids[]=b` (or `ids=a&ids=b`)")),
    responses((status = 200, description = "`{departments, success}`"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list_by_ids(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_DEPARTMENTS, VIEW_L_ROOM]).await?;
    let ids = ids_param(&query)?;
    let departments = state.store.departments().list_by_ids(&ids).await?;
    Ok(HttpResponse::Ok().json(json!({
        "departments": departments.iter().map(department_json).collect::<Vec<_>>(),
        "success": true,
    })))
}

/// `ids` as the `qs` module reads it: `ids[]=…` or `ids[0]=…` is an array,
/// a repeated `ids=` too; a single `ids=x` is a string and refused.
fn ids_param(pairs: &[(String, String)]) -> Result<Vec<String>, Error> {
    let bracketed: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k.starts_with("ids[") && k.ends_with(']'))
        .map(|(_, v)| v.clone())
        .collect();
    let plain: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    if bracketed.is_empty() && plain.is_empty() {
        return Err(Error::bad_request("The 'ids' param is required"));
    }
    if bracketed.is_empty() && plain.len() == 1 {
        return Err(Error::bad_request("The 'ids' param must be an array"));
    }
    Ok(bracketed.into_iter().chain(plain).collect())
}
