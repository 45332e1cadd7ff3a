//! Reading departments: the list, the archived list, one department and
//! `isDepartmentCreationAvailable`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{department_json, links_json};
use crate::domain::ValidationError;
use crate::domain::listing::{ArchivedFilter, DepartmentFilter, SORTABLE_FIELDS, Sort, parse_flag};
use crate::domain::pagination::Page;
use crate::domain::permission::{MANAGE_DEPARTMENTS, VIEW_DEPARTMENTS, VIEW_L_ROOM};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::paged::paged;
use crate::state::AppState;

/// Query of the lists. Every value is read as text and checked after the
/// permission check.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub text: Option<String>,
    pub enabled: Option<String>,
    #[serde(rename = "excludeDepartmentId")]
    pub exclude_department_id: Option<String>,
    #[serde(rename = "showArchived")]
    pub show_archived: Option<String>,
    #[serde(rename = "onlyMyDepartments")]
    pub only_my_departments: Option<String>,
    pub count: Option<String>,
    pub offset: Option<String>,
    pub sort: Option<String>,
    /// Rocket.Chat's raw MongoDB filter: refused.
    pub query: Option<String>,
}

impl ListQuery {
    fn parse(
        &self,
        archived: ArchivedFilter,
    ) -> Result<(DepartmentFilter, Sort, Page), ValidationError> {
        if self.query.is_some() {
            return Err(ValidationError::new(
                "query",
                "unsupported",
                "raw queries are not accepted; use text, enabled, excludeDepartmentId and showArchived",
            ));
        }
        parse_flag("onlyMyDepartments", self.only_my_departments.as_deref())?;
        let archived = match (
            archived,
            parse_flag("showArchived", self.show_archived.as_deref())?,
        ) {
            (ArchivedFilter::Hide, Some(true)) => ArchivedFilter::Include,
            (other, _) => other,
        };
        let filter = DepartmentFilter {
            text: self.text.clone().filter(|t| !t.is_empty()),
            enabled: parse_flag("enabled", self.enabled.as_deref())?,
            exclude_id: self.exclude_department_id.clone().filter(|t| !t.is_empty()),
            archived,
        };
        let sort = Sort::parse(self.sort.as_deref(), SORTABLE_FIELDS, Sort::by("name"))?;
        let page = Page::parse(self.offset.as_deref(), self.count.as_deref())?;
        Ok((filter, sort, page))
    }
}

async fn list_answer(
    state: &AppState,
    caller: &AuthUser,
    query: &ListQuery,
    archived: ArchivedFilter,
) -> Result<HttpResponse, Error> {
    caller.require_any(&[VIEW_DEPARTMENTS, VIEW_L_ROOM]).await?;
    let (filter, sort, page) = query.parse(archived)?;
    let (departments, total) = state.store.departments().list(&filter, &sort, page).await?;
    let departments: Vec<_> = departments.iter().map(department_json).collect();
    Ok(paged("departments", departments, page, total))
}

#[utoipa::path(get, path = "/api/v1/livechat/department", tag = "departments",
    params(("text" = Option<String>, Query, description = "case-insensitive part of the name"),
           ("enabled" = Option<bool>, Query), ("excludeDepartmentId" = Option<String>, Query),
           ("showArchived" = Option<bool>, Query), ("count" = Option<u64>, Query),
           ("offset" = Option<u64>, Query), ("sort" = Option<String>, Query, description = "JSON, e.g. {\"name\":-1}")),
    responses((status = 200, description = "`{departments, count, offset, total, success}`"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    list_answer(&state, &caller, &query, ArchivedFilter::Hide).await
}

#[utoipa::path(get, path = "/api/v1/livechat/departments/archived", tag = "departments",
    params(("text" = Option<String>, Query), ("count" = Option<u64>, Query),
           ("offset" = Option<u64>, Query), ("sort" = Option<String>, Query)),
    responses((status = 200, description = "`{departments, count, offset, total, success}`"),
              (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn list_archived(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    list_answer(&state, &caller, &query, ArchivedFilter::Only).await
}

#[derive(Debug, Deserialize)]
pub struct GetQuery {
    #[serde(rename = "includeAgents")]
    pub include_agents: Option<String>,
    #[serde(rename = "onlyMyDepartments")]
    #[expect(
        dead_code,
        reason = "Rocket.Chat's parameter, accepted; one department is shown to those allowed to read it"
    )]
    pub only_my_departments: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/livechat/department/{_id}", tag = "departments",
    params(("_id" = String, Path), ("includeAgents" = Option<bool>, Query, description = "default true")),
    responses((status = 200, description = "`{department: {...} | null, agents?, success}`"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<String>,
    query: web::Query<GetQuery>,
) -> Result<HttpResponse, Error> {
    let store = &state.store;
    caller.require_any(&[VIEW_DEPARTMENTS, VIEW_L_ROOM]).await?;
    let include = parse_flag("includeAgents", query.include_agents.as_deref())?.unwrap_or(true);
    let department = store.departments().find_by_id(&id).await?;
    // Rocket.Chat answers 200 with `department: null` for an unknown id;
    // its clients rely on that.
    let mut answer = json!({
        "department": department.as_ref().map(department_json),
        "success": true,
    });
    if include && caller.has(VIEW_DEPARTMENTS).await? {
        let agents = match &department {
            Some(_) => store.department_agents().all_of_department(&id).await?,
            None => Vec::new(),
        };
        answer["agents"] = json!(links_json(&agents));
    }
    Ok(HttpResponse::Ok().json(answer))
}

#[utoipa::path(get, path = "/api/v1/livechat/department/isDepartmentCreationAvailable", tag = "departments",
    responses((status = 200, description = "`{isDepartmentCreationAvailable: true, success}`: Switchboard has no department limit"),
              (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn creation_available(caller: AuthUser) -> Result<HttpResponse, Error> {
    caller
        .require_any(&[VIEW_DEPARTMENTS, MANAGE_DEPARTMENTS])
        .await?;
    Ok(HttpResponse::Ok().json(json!({"isDepartmentCreationAvailable": true, "success": true})))
}
