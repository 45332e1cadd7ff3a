//! Manual take (Rocket.Chat's inquiries): an agent takes a waiting chat by
//! hand, as with Manual Selection or when auto distribution is disabled.
//!
//! The take locks the chat exactly as a drainer does (one atomic update),
//! so of two agents taking one chat on any instances, exactly one gets it;
//! the other is told the chat is taken. The slot it takes is held with the
//! lock id as its attempt, so a take that dies half-way is settled by the
//! repair like a placement from the queue.

use std::time::Duration;

use super::{Distribution, Policies};
use crate::domain::assignment::{Assignment, DecidedBy, Hold, Status};
use crate::domain::routing::backup_path;
use crate::domain::user::ROLE_AGENT;
use crate::error::Error;
use crate::store::assignments::{Locked, QueueScope, Served};
use crate::telemetry::metrics;

/// How often a take waits for a drainer that holds the chat for a moment.
const LOCK_TRIES: usize = 20;
const LOCK_PAUSE: Duration = Duration::from_millis(25);

fn taken() -> Error {
    Error::meteor("error-not-allowed", "Inquiry already taken")
}

fn offline() -> Error {
    Error::meteor(
        "error-agent-status-service-offline",
        "Agent status is offline or Omnichannel service is not active",
    )
}

fn full() -> Error {
    Error::meteor(
        "error-max-number-simultaneous-chats-reached",
        "Not allowed: the agent has reached its chat limit",
    )
}

impl Distribution {
    /// The agent takes this waiting chat. Refused (400) when the chat is
    /// not waiting any more, the user is no agent of the chat's department
    /// (or of one of its backups), the agent is not online and available
    /// (as Rocket.Chat: away counts as online unless
    /// `Livechat_enabled_when_agent_idle` is off), or it is at its limit and
    /// `ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit` is off.
    pub async fn take_manually(&self, id: &str, agent_id: &str) -> Result<Assignment, Error> {
        let engine = self.clone();
        let (id, agent_id) = (id.to_string(), agent_id.to_string());
        // Runs to its end even if the caller stops waiting: never between
        // the reservation and the record.
        super::background::to_end(async move { engine.take_now(&id, &agent_id).await }).await
    }

    async fn take_now(&self, id: &str, agent_id: &str) -> Result<Assignment, Error> {
        let policies = self.policies().await?;
        let waiting = self
            .store
            .assignments()
            .find(id)
            .await?
            .filter(|a| a.status == Status::Queued)
            .ok_or_else(taken)?;
        let agent = self
            .store
            .users()
            .find_by_id(agent_id)
            .await?
            .filter(|u| u.has_role(ROLE_AGENT))
            .ok_or_else(|| Error::meteor("error-not-allowed", "Not allowed: not an agent"))?;
        if !agent.takes_chats(self.settings.routing.exclude_away) {
            return Err(offline());
        }
        let department = self.department_for(&waiting, agent_id, &policies).await?;
        let locked = self.lock_for_take(&waiting).await?;
        let hold = Hold::under_lock(&waiting, &locked.lock_id);
        if let Err(e) = self
            .claim(agent_id, department.as_deref(), &hold, &policies)
            .await
        {
            self.store.assignments().unlock(&locked).await?;
            return Err(e);
        }
        let served = Served {
            agent_id: agent_id.to_string(),
            username: agent.username.clone(),
            department_id: department.clone(),
            method: DecidedBy::Manual,
            reason: format!("taken manually by {} from the queue", agent.username),
            offered: false,
            manual: true,
        };
        match self.store.assignments().serve_locked(&locked, served).await {
            Ok(Some(open)) => {
                metrics::record_routing_decision("manual", "taken");
                metrics::record_manual_take();
                self.publish_room(&open).await;
                Ok(open)
            }
            Ok(None) => {
                self.untake(agent_id, department.as_deref(), &hold, &policies)
                    .await;
                Err(taken())
            }
            Err(e) => {
                // The write may still land: end the lock first so it never
                // can, then give the slot back unless it landed.
                let assignments = self.store.assignments();
                if assignments.revoke_lock(id, &locked.lock_id).await.is_ok() {
                    let landed = matches!(
                        assignments.find(id).await,
                        Ok(Some(a)) if a.status == Status::Open && a.attempt.as_deref() == Some(locked.lock_id.as_str())
                    );
                    if !landed {
                        self.untake(agent_id, department.as_deref(), &hold, &policies)
                            .await;
                    }
                }
                Err(e)
            }
        }
    }

    /// Gives back a take that will not be recorded; a failure is left to
    /// the repair, which finds the hold.
    async fn untake(
        &self,
        agent_id: &str,
        department: Option<&str>,
        hold: &Hold,
        policies: &Policies,
    ) {
        if let Err(e) = self
            .release(agent_id, department, hold, false, policies)
            .await
        {
            tracing::warn!(error = %crate::error::error_chain_fmt(&e), "giving back a manual take failed; the repair frees it");
        }
    }

    /// The department the agent serves this chat in: the one it asked for,
    /// else the first backup on its chain that the agent belongs to;
    /// `None` for a chat that asked for no department.
    async fn department_for(
        &self,
        waiting: &Assignment,
        agent_id: &str,
        policies: &Policies,
    ) -> Result<Option<String>, Error> {
        let Some(requested) = waiting.requested_department_id.as_deref() else {
            return Ok(None);
        };
        let links = self
            .store
            .department_agents()
            .of_agent(agent_id, false)
            .await?;
        backup_path(requested, |d| policies.for_department(d).backups)
            .into_iter()
            .find(|d| links.iter().any(|l| &l.department_id == d))
            .map(Some)
            .ok_or_else(|| {
                Error::meteor(
                    "error-not-allowed",
                    "Not allowed: the agent is not in the chat's department",
                )
            })
    }

    /// Locks the chat for this take, waiting briefly for a drainer that
    /// holds it; refused once the chat is no longer waiting.
    async fn lock_for_take(&self, waiting: &Assignment) -> Result<Locked, Error> {
        let assignments = self.store.assignments();
        let scope = QueueScope::of(waiting);
        for _ in 0..LOCK_TRIES {
            if let Some(locked) = assignments
                .lock_queued(&scope, Some(&waiting.id), None)
                .await?
            {
                return Ok(locked);
            }
            match assignments.find(&waiting.id).await? {
                Some(a) if a.status == Status::Queued => tokio::time::sleep(LOCK_PAUSE).await,
                _ => break,
            }
        }
        Err(taken())
    }

    /// Reserves the agent's slot (and its link's, in a department), with
    /// the limits unless the configuration lets agents take chats over
    /// them; undoes the link's part when the agent's is refused.
    async fn claim(
        &self,
        agent_id: &str,
        department: Option<&str>,
        hold: &Hold,
        policies: &Policies,
    ) -> Result<(), Error> {
        let within_limit = !policies.manual_over_limit();
        let routing = self.store.routing();
        if let Some(d) = department {
            let limit = match within_limit {
                true => self
                    .department(d)
                    .await?
                    .and_then(|r| r.max_chats_per_agent),
                false => None,
            };
            if !routing.claim_link(d, agent_id, limit, hold).await? {
                return Err(full());
            }
        }
        let claimed = routing
            .claim_agent(
                agent_id,
                policies.global_limit,
                self.settings.routing.exclude_away,
                within_limit,
                department.is_none(),
                hold,
            )
            .await?;
        match claimed {
            Some(reserved) => {
                self.publish_if_read(policies, agent_id, reserved, true)
                    .await
            }
            None => {
                if let Some(d) = department {
                    routing.untake_link(d, agent_id, hold).await?;
                }
                Err(full())
            }
        }
    }
}

impl Distribution {
    /// The waiting chats this agent may take, oldest first: those of its
    /// enabled departments (or only `department`, when it is one of them)
    /// and those that asked for no department.
    pub async fn waiting_for_agent(
        &self,
        agent_id: &str,
        department: Option<&str>,
        page: crate::domain::pagination::Page,
    ) -> Result<(Vec<Assignment>, u64), Error> {
        let links = self
            .store
            .department_agents()
            .of_agent(agent_id, true)
            .await?;
        let mut departments: Vec<String> = links.into_iter().map(|l| l.department_id).collect();
        if let Some(only) = department {
            departments.retain(|d| d == only);
        }
        self.store
            .assignments()
            .waiting_in(&departments, department.is_none(), page)
            .await
    }
}
