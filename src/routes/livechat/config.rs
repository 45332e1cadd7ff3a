//! `GET livechat/config`: everything the widget reads before and after a
//! visitor registers, as Rocket.Chat answers it. Public.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::json;
use crate::error::Error;
use crate::livechat::ConfigView;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ConfigQuery {
    pub token: Option<String>,
    pub department: Option<String>,
    #[serde(rename = "businessUnit")]
    #[expect(
        dead_code,
        reason = "the widget sends it; business units are an Enterprise feature"
    )]
    pub business_unit: Option<String>,
}

/// The `config` object: Rocket.Chat's `settings()` of the livechat API,
/// field for field, then the visitor's own state.
fn config_json(c: &ConfigView) -> Value {
    let s = &c.settings;
    if !s.flag("Livechat_enabled") {
        return json!({"enabled": false});
    }
    let limit = if s.flag("Livechat_enable_message_character_limit") {
        match s.int("Livechat_message_character_limit") {
            0 => json!(s.int("Message_MaxAllowedSize")),
            n => json!(n),
        }
    } else {
        json!(false)
    };
    let position = match s.get("Livechat_widget_position") {
        Value::String(p) if !p.is_empty() => p,
        _ => "right".to_string(),
    };
    let mut config = json!({
        "enabled": s.flag("Livechat_enabled"),
        "settings": {
            "registrationForm": s.get("Livechat_registration_form"),
            "allowSwitchingDepartments": s.get("Livechat_allow_switching_departments"),
            "nameFieldRegistrationForm": s.get("Livechat_name_field_registration_form"),
            "emailFieldRegistrationForm": s.get("Livechat_email_field_registration_form"),
            "displayOfflineForm": s.get("Livechat_display_offline_form"),
            "videoCall": s.get("Omnichannel_call_provider") == json!("default-provider"),
            "fileUpload": s.flag("Livechat_fileupload_enabled") && s.flag("FileUpload_Enabled"),
            "language": s.get("Language"),
            "transcript": s.get("Livechat_enable_transcript"),
            "historyMonitorType": s.get("Livechat_history_monitor_type"),
            "forceAcceptDataProcessingConsent": s.get("Livechat_force_accept_data_processing_consent"),
            "showConnecting": s.get("Livechat_Show_Connecting"),
            "agentHiddenInfo": s.get("Livechat_show_agent_info") == json!(false),
            "clearLocalStorageWhenChatEnded": s.get("Livechat_clear_local_storage_when_chat_ended"),
            "limitTextLength": limit,
        },
        "theme": {
            "title": s.get("Livechat_title"),
            "color": s.get("Livechat_title_color"),
            "offlineTitle": s.get("Livechat_offline_title"),
            "offlineColor": s.get("Livechat_offline_title_color"),
            "position": position,
            "actionLinks": {"webrtc": [], "jitsi": []},
        },
        "messages": {
            "offlineMessage": s.get("Livechat_offline_message"),
            "offlineSuccessMessage": s.get("Livechat_offline_success_message"),
            "offlineUnavailableMessage": s.get("Livechat_offline_form_unavailable"),
            "conversationFinishedMessage": s.get("Livechat_conversation_finished_message"),
            "conversationFinishedText": s.get("Livechat_conversation_finished_text"),
            "transcriptMessage": s.get("Livechat_transcript_message"),
            "registrationFormMessage": s.get("Livechat_registration_form_message"),
            "dataProcessingConsentText": s.get("Livechat_data_processing_consent_text"),
        },
        "survey": {
            "items": ["satisfaction", "agentKnowledge", "agentResposiveness", "agentFriendliness"],
            "values": ["1", "2", "3", "4", "5"],
        },
        "triggers": [],
        "departments": c.departments.iter().map(|d| json!({
            "_id": d.id, "name": d.name,
            "showOnRegistration": d.show_on_registration,
            "showOnOfflineForm": d.show_on_offline_form,
        })).collect::<Vec<_>>(),
        "resources": {"sound": "sounds/chime.mp3", "emojis": []},
        "online": c.online,
    });
    if let Some(g) = &c.guest {
        config["guest"] = json::visitor(g);
    }
    if let Some(r) = &c.room {
        config["room"] = json::room(r);
        let queue = json::queue_info(r);
        if !queue.is_null() {
            config["queueInfo"] = queue;
        }
    }
    if let Some(a) = &c.agent {
        config["agent"] = json::agent(a);
    }
    config
}

#[utoipa::path(get, path = "/api/v1/livechat/config", tag = "livechat",
    params(("token" = Option<String>, Query, description = "A visitor token: adds `guest`, `room`, `agent` and `queueInfo`"),
           ("department" = Option<String>, Query), ("businessUnit" = Option<String>, Query)),
    responses((status = 200, description = "`{config: {enabled, settings, theme, messages, survey, triggers, departments, resources, online, guest?, room?, agent?, queueInfo?}, success}`"),
              (status = 429, description = "Too many requests from this address")))]
pub async fn config(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ConfigQuery>,
) -> Result<HttpResponse, Error> {
    super::limited(&state, &req).await?;
    let view = state
        .livechat
        .config(query.token.as_deref(), query.department.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(json!({"config": config_json(&view), "success": true})))
}
