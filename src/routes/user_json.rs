//! A user as the API shows it: Rocket.Chat's field names, never `services`.

use serde::Serialize;

use crate::domain::user::User;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailJson {
    pub address: String,
    pub verified: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LivechatJson {
    #[serde(rename = "maxNumberSimultaneousChat")]
    pub max_number_simultaneous_chat: u32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserJson {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
    pub name: String,
    pub emails: Vec<EmailJson>,
    pub roles: Vec<String>,
    pub status: String,
    #[serde(rename = "statusLivechat")]
    pub status_livechat: String,
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub livechat: Option<LivechatJson>,
}

impl From<User> for UserJson {
    fn from(u: User) -> Self {
        UserJson {
            id: u.id,
            username: u.username,
            name: u.name,
            emails: u
                .emails
                .into_iter()
                .map(|e| EmailJson {
                    address: e.address,
                    verified: e.verified,
                })
                .collect(),
            roles: u.roles,
            status: u.status.as_str().to_string(),
            status_livechat: u.status_livechat.as_str().to_string(),
            active: u.active,
            livechat: u.max_chats.map(|n| LivechatJson {
                max_number_simultaneous_chat: n,
            }),
        }
    }
}
