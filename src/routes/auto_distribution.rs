//! `livechat/autoDistributionConfig`: Comm100's Auto Distribution API.
//! Answers are bare Comm100 objects (no `success` key); errors use
//! Switchboard's usual body. Everything a PUT sends is checked, including
//! that its agents and departments exist, before anything is stored.

use super::comm100_body::ConfigBody;
use super::comm100_json::ConfigJson;
use crate::domain::permission::{MANAGE_DEPARTMENTS, VIEW_DEPARTMENTS};
use crate::error::Error;
use crate::http::AuthUser;
use crate::http::extract::JsonBody;
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// The whole configuration as stored now, with its references filled.
async fn current(state: &AppState) -> Result<HttpResponse, Error> {
    let store = state.store.auto_distribution();
    let config = store.load().await?;
    let agent_ids: Vec<&str> = config.agents.iter().map(|a| a.agent_id.as_str()).collect();
    let department_ids: Vec<&str> = config
        .departments
        .iter()
        .map(|d| d.department_id.as_str())
        .collect();
    let agents = store.agent_refs(&agent_ids).await?;
    let departments = store.department_refs(&department_ids).await?;
    Ok(HttpResponse::Ok().json(ConfigJson::build(config, &agents, &departments)))
}

#[utoipa::path(get, path = "/api/v1/livechat/autoDistributionConfig", tag = "auto distribution",
    responses((status = 200, body = ConfigJson), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn get(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, Error> {
    caller
        .require_any(&[VIEW_DEPARTMENTS, MANAGE_DEPARTMENTS])
        .await?;
    current(&state).await
}

#[utoipa::path(put, path = "/api/v1/livechat/autoDistributionConfig", tag = "auto distribution",
    request_body = ConfigBody,
    responses((status = 200, body = ConfigJson), (status = 400), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn put(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<ConfigBody>,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[MANAGE_DEPARTMENTS]).await?;
    let patch = body.into_inner().into_patch()?;
    let store = state.store.auto_distribution();
    let agent_ids: Vec<&str> = patch.agent_ids().into_iter().map(|(_, id)| id).collect();
    let department_ids: Vec<&str> = patch
        .department_ids()
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    patch.check_references(
        &store.known_agents(&agent_ids).await?,
        &store.known_departments(&department_ids).await?,
    )?;
    store.apply(&patch).await?;
    state.distribution.configuration_changed(&agent_ids).await?;
    current(&state).await
}

#[utoipa::path(post, path = "/api/v1/livechat/autoDistributionConfig:enable", tag = "auto distribution",
    responses((status = 200, body = ConfigJson), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn enable(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, Error> {
    set_enabled(&state, &caller, true).await
}

#[utoipa::path(post, path = "/api/v1/livechat/autoDistributionConfig:disable", tag = "auto distribution",
    responses((status = 200, body = ConfigJson), (status = 401), (status = 403)),
    security(("userId" = [], "authToken" = [])))]
pub async fn disable(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, Error> {
    set_enabled(&state, &caller, false).await
}

async fn set_enabled(
    state: &AppState,
    caller: &AuthUser,
    enabled: bool,
) -> Result<HttpResponse, Error> {
    caller.require_all(&[MANAGE_DEPARTMENTS]).await?;
    state.store.auto_distribution().set_enabled(enabled).await?;
    state.distribution.configuration_changed(&[]).await?;
    current(state).await
}
