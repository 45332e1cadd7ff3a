//! Changes that may give an agent room — its presence, its availability,
//! its limit — made through the engine, so that waiting chats are placed
//! the moment room appears. The change has succeeded once stored; placing
//! waiting chats after it is best effort, and the sweep retries.

use super::Distribution;
use crate::domain::user::{LivechatStatus, ROLE_AGENT, User, UserStatus};
use crate::error::Error;

impl Distribution {
    /// Sets a user's presence; an agent that is not offline now may take
    /// waiting chats.
    pub async fn set_user_status(
        &self,
        user_id: &str,
        status: UserStatus,
        message: Option<&str>,
    ) -> Result<Option<User>, Error> {
        let fair = !self.settings.routing.strict_counts;
        let user = self
            .store
            .set_user_status(user_id, status, message, fair)
            .await?;
        if status != UserStatus::Offline && user.as_ref().is_some_and(|u| u.has_role(ROLE_AGENT)) {
            self.agent_gained_room(user_id).await;
        }
        Ok(user)
    }

    /// Sets an agent's livechat status; an available agent may take
    /// waiting chats.
    pub async fn set_livechat_status(
        &self,
        agent_id: &str,
        status: LivechatStatus,
    ) -> Result<Option<User>, Error> {
        let fair = !self.settings.routing.strict_counts;
        let user = self
            .store
            .set_livechat_status(agent_id, status, fair)
            .await?;
        if status == LivechatStatus::Available && user.is_some() {
            self.agent_gained_room(agent_id).await;
        }
        Ok(user)
    }

    /// Sets an agent's own chat limit (0 = none); a higher limit may let it
    /// take waiting chats.
    pub async fn set_agent_limit(
        &self,
        agent_id: &str,
        max_chats: u32,
    ) -> Result<Option<User>, Error> {
        let global = self.policies().await?.global_limit;
        let user = self
            .store
            .set_agent_limit(agent_id, max_chats, global)
            .await?;
        if user.is_some() {
            self.agent_gained_room(agent_id).await;
        }
        Ok(user)
    }
}
