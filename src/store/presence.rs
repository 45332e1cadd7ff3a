//! Operations on an agent that touch more than one collection: presence,
//! roles and limits change the user document and the routing fields copied
//! onto its department links.

use super::Store;
use crate::domain::user::{LivechatStatus, ROLE_AGENT, User, UserStatus};
use crate::error::Error;

impl Store {
    /// Sets a user's connection status (and status message). `fair`
    /// lifts a returning agent's `count`s (see `Routing::sync_links`).
    pub async fn set_user_status(
        &self,
        user_id: &str,
        status: UserStatus,
        message: Option<&str>,
        fair: bool,
    ) -> Result<Option<User>, Error> {
        let before = self.users().find_by_id(user_id).await?;
        let after = self.users().set_status(user_id, status, message).await?;
        if let Some(user) = &after {
            self.routing()
                .sync_links(before.as_ref(), user, fair)
                .await?;
        }
        Ok(after)
    }

    /// Sets whether an agent takes livechats.
    pub async fn set_livechat_status(
        &self,
        user_id: &str,
        status: LivechatStatus,
        fair: bool,
    ) -> Result<Option<User>, Error> {
        let before = self.users().find_by_id(user_id).await?;
        let after = self.users().set_livechat_status(user_id, status).await?;
        if let Some(user) = &after {
            self.routing()
                .sync_links(before.as_ref(), user, fair)
                .await?;
        }
        Ok(after)
    }

    /// Gives the user the agent role (and refreshes its links).
    pub async fn add_agent(&self, user_id: &str, fair: bool) -> Result<Option<User>, Error> {
        let before = self.users().find_by_id(user_id).await?;
        let after = self.users().add_role(user_id, ROLE_AGENT).await?;
        if let Some(user) = &after {
            self.routing()
                .sync_links(before.as_ref(), user, fair)
                .await?;
        }
        Ok(after)
    }

    /// Sets the agent's own chat limit and republishes whether it is full.
    pub async fn set_agent_limit(
        &self,
        user_id: &str,
        max_chats: u32,
        global: u32,
    ) -> Result<Option<User>, Error> {
        let user = self.users().set_max_chats(user_id, max_chats).await?;
        let routing = self.routing();
        if user.is_some()
            && let Some(reserved) = routing.load_of(user_id, global).await?
        {
            routing.publish_load(user_id, reserved, false).await?;
        }
        Ok(user)
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

    /// Republishes the load of the named agents and of every agent marked
    /// full, after limits changed (a stale "full" would keep an agent with
    /// room from being chosen).
    pub async fn refresh_agent_loads(&self, agent_ids: &[&str], global: u32) -> Result<(), Error> {
        let routing = self.routing();
        let mut agents: Vec<String> = agent_ids.iter().map(|a| a.to_string()).collect();
        for full in routing.agents_marked_full().await? {
            if !agents.contains(&full) {
                agents.push(full);
            }
        }
        for agent in agents {
            if let Some(reserved) = routing.load_of(&agent, global).await? {
                routing.publish_load(&agent, reserved, false).await?;
            }
        }
        Ok(())
    }
}
