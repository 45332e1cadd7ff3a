//! Taking and releasing slots: the take of a department link, the
//! reservation on its agent (or the undoing of the take when the agent
//! filled up meanwhile), the release of a hold, the publication of an
//! agent's load where the ranking reads it, and of a chat's routing state
//! onto its room. Every slot is taken and freed with its hold
//! (`domain::assignment::Hold`) in the same update.

use super::{Distribution, Policies};
use crate::domain::assignment::{Assignment, Hold};
use crate::domain::routing::{Method, Pick, has_room};
use crate::error::{Error, error_chain_fmt};
use crate::store::routing::{DepartmentRules, Reserved, TakeFilter};

/// How many agents one decision may try before it queues the chat (each
/// failed try was an agent that filled up between its take and its
/// reservation).
const MAX_TRIES: usize = 64;

impl Distribution {
    /// Takes the best link of the department and reserves its agent,
    /// trying the next agent when one filled up in between.
    pub(super) async fn take_alone(
        &self,
        department: &DepartmentRules,
        method: Method,
        skip: &[String],
        hold: &Hold,
    ) -> Result<Option<Pick>, Error> {
        let policies = self.policies().await?;
        let mut skipped: Vec<String> = skip.to_vec();
        for _ in 0..MAX_TRIES {
            let filter = TakeFilter {
                exclude_away: self.settings.routing.exclude_away,
                department_limit: department.max_chats_per_agent,
                skip_agents: &skipped,
                only_agent: None,
            };
            let Some(pick) = self.take_link(&department.id, method, filter, hold).await? else {
                return Ok(None);
            };
            let agent = pick.agent_id.clone();
            if let Some(pick) = self.reserve(&policies, &department.id, pick, hold).await? {
                return Ok(Some(pick));
            }
            skipped.push(agent);
        }
        Ok(None)
    }

    /// The take itself, one per department at a time on this instance.
    pub(super) async fn take_link(
        &self,
        department_id: &str,
        method: Method,
        filter: TakeFilter<'_>,
        hold: &Hold,
    ) -> Result<Option<Pick>, Error> {
        let _turn = self.gate.enter(Some(department_id)).await;
        self.store
            .routing()
            .take_link(department_id, method, filter, hold)
            .await
    }

    /// Reserves the taken agent's slot, or undoes the take.
    pub(super) async fn reserve(
        &self,
        policies: &Policies,
        department_id: &str,
        mut pick: Pick,
        hold: &Hold,
    ) -> Result<Option<Pick>, Error> {
        let routing = self.store.routing();
        let global = policies.global_limit;
        let exclude_away = self.settings.routing.exclude_away;
        match routing
            .reserve_agent(&pick.agent_id, global, exclude_away, hold)
            .await?
        {
            Some(reserved) => {
                self.publish_if_read(policies, &pick.agent_id, reserved, true)
                    .await?;
                pick.limit = reserved.limit;
                Ok(Some(pick))
            }
            None => {
                routing
                    .untake_link(department_id, &pick.agent_id, hold)
                    .await?;
                // Make the agent's real load visible so later decisions
                // skip it without trying.
                if let Some(reserved) = routing.load_of(&pick.agent_id, global).await? {
                    routing
                        .publish_load(&pick.agent_id, reserved, false)
                        .await?;
                }
                Ok(None)
            }
        }
    }

    /// Frees the slot this hold reserved on the agent (and on its link in
    /// the department), once; answers whether this call freed the agent's.
    /// `routed`: the chat was served, so its `count` increment stays.
    pub(super) async fn release(
        &self,
        agent_id: &str,
        department_id: Option<&str>,
        hold: &Hold,
        routed: bool,
        policies: &Policies,
    ) -> Result<bool, Error> {
        let routing = self.store.routing();
        if let Some(d) = department_id {
            routing.release_link_hold(d, agent_id, hold, routed).await?;
        }
        let undo_served = !routed && department_id.is_none();
        let Some(reserved) = routing
            .release_agent_hold(agent_id, policies.global_limit, hold, undo_served)
            .await?
        else {
            return Ok(false);
        };
        self.publish_if_read(policies, agent_id, reserved, false)
            .await?;
        Ok(true)
    }

    /// Copies the agent's load onto its links when something reads it
    /// there: a department ranking by load or last assignment, or the
    /// `agentFull` flag changing (the agent has just filled up, or had
    /// been full before this release). With least-served everywhere and
    /// room to spare, a decision skips this write.
    pub(super) async fn publish_if_read(
        &self,
        policies: &Policies,
        agent_id: &str,
        reserved: Reserved,
        assigned_now: bool,
    ) -> Result<(), Error> {
        let open = reserved.load.open;
        let full_changed = if assigned_now {
            !has_room(open, reserved.limit)
        } else {
            !has_room(open + 1, reserved.limit)
        };
        if policies.ranks_by_agent_load() || full_changed {
            self.store
                .routing()
                .publish_load(agent_id, reserved, assigned_now)
                .await?;
        }
        Ok(())
    }

    /// Frees the slot a closed chat held, once, and says so on its record;
    /// answers whether this call freed the agent's slot.
    pub(super) async fn release_closed(
        &self,
        closed: &Assignment,
        policies: &Policies,
    ) -> Result<bool, Error> {
        let mut freed = false;
        if let (Some(agent), Some(hold)) = (closed.agent_id.as_deref(), Hold::of(closed)) {
            freed = self
                .release(
                    agent,
                    closed.department_id.as_deref(),
                    &hold,
                    true,
                    policies,
                )
                .await?;
        }
        self.store.assignments().released(&closed.id).await?;
        Ok(freed)
    }

    /// Writes a livechat room's routing fields (`servedBy`, its inquiry)
    /// from its assignment as just recorded — after a decision, a placement
    /// from the queue and a close alike — so the room never says other than
    /// its assignment. A failure is logged: Switchboard's own answers read
    /// the assignment, and the next publication writes the room again.
    pub async fn publish_room(&self, a: &Assignment) {
        if a.room_id.is_none() {
            return;
        }
        if let Err(e) = self.store.rooms().publish(a).await {
            tracing::warn!(error = %error_chain_fmt(&e), room = ?a.room_id, "publishing a room's routing state failed");
        }
    }
}
