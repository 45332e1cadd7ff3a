//! `GET livechat/config`: what the livechat widget needs before a visitor
//! registers. Public, as in Rocket.Chat.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::Error;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/livechat/config", tag = "departments",
    responses((status = 200, description = "`{config: {enabled, online, departments: [{_id, name, showOnRegistration, showOnOfflineForm}]}, success}`")))]
pub async fn config(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let departments = state.store.departments().list_public().await?;
    let online = state.store.users().any_agent_available().await?;
    let departments: Vec<_> = departments
        .iter()
        .map(|d| {
            json!({
                "_id": d.id,
                "name": d.name,
                "showOnRegistration": d.show_on_registration,
                "showOnOfflineForm": d.show_on_offline_form,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "config": {"enabled": true, "online": online, "departments": departments},
        "success": true,
    })))
}
