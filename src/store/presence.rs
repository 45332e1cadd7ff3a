//! Operations on an agent that touch more than one collection: presence
//! changes and removing the agent role.

use super::Store;
use crate::domain::user::{LivechatStatus, ROLE_AGENT, User, UserStatus};
use crate::error::Error;

impl Store {
    /// Sets a user's connection status (and status message).
    pub async fn set_user_status(
        &self,
        user_id: &str,
        status: UserStatus,
        message: Option<&str>,
    ) -> Result<Option<User>, Error> {
        self.users().set_status(user_id, status, message).await
    }

    /// Sets whether an agent takes livechats.
    pub async fn set_livechat_status(
        &self,
        user_id: &str,
        status: LivechatStatus,
    ) -> Result<Option<User>, Error> {
        self.users().set_livechat_status(user_id, status).await
    }

    /// Takes the agent role away and unlinks the agent from every
    /// department, keeping each department's `numAgents` right. Answers
    /// whether the user held the role. Each step is atomic on its own and
    /// running it again finishes an interrupted removal.
    pub async fn remove_agent(&self, user_id: &str) -> Result<bool, Error> {
        let held = self
            .users()
            .remove_role_if_held(user_id, ROLE_AGENT)
            .await?;
        self.department_agents().unlink_agent(user_id).await?;
        Ok(held)
    }
}
