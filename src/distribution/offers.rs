//! Offers: an agent whose Comm100 `ifAutoAcceptChat` is false is offered
//! each chat (status `offered`, holding one of its slots) and accepts it
//! (open) or declines it. A declined offer — or one unanswered within
//! `routing.offer_timeout_ms` — goes back to its queue in its old place and
//! is handed at once to the next eligible agent, never to one that
//! declined it; with none left it waits.
//!
//! Accept, decline and time-out are each one conditional update on the
//! offer as it stands (same agent, same attempt), so of two instances
//! timing one offer out, or an accept racing a decline, exactly one wins.
//! The declined agent's slot is freed after that update; if that release
//! fails, its hold no longer matches the chat and the repair frees it.

use super::queue::Next;
use super::{Distribution, Policies};
use crate::domain::assignment::{Assignment, Hold, Status};
use crate::error::{Error, error_chain_fmt};
use crate::store::assignments::QueueScope;
use crate::telemetry::metrics;

fn not_offered() -> Error {
    Error::meteor(
        "error-not-allowed",
        "Not allowed: the chat is not offered to this agent",
    )
}

impl Distribution {
    /// The agent accepts the chat offered to it.
    pub async fn accept(&self, id: &str, agent_id: &str) -> Result<Assignment, Error> {
        let accepted = self
            .store
            .assignments()
            .accept(id, agent_id)
            .await?
            .ok_or_else(not_offered)?;
        metrics::record_offer("accepted");
        self.publish_room(&accepted).await;
        Ok(accepted)
    }

    /// The agent declines the chat offered to it: handed on at once, or
    /// queued. Runs to its end even if the caller stops waiting.
    pub async fn decline(&self, id: &str, agent_id: &str) -> Result<Assignment, Error> {
        let engine = self.clone();
        let (id, agent_id) = (id.to_string(), agent_id.to_string());
        super::background::to_end(async move {
            let offered = engine
                .store
                .assignments()
                .find(&id)
                .await?
                .filter(|a| a.status == Status::Offered && a.agent_id.as_deref() == Some(&agent_id))
                .ok_or_else(not_offered)?;
            engine
                .take_back(&offered, false)
                .await?
                .ok_or_else(not_offered)
        })
        .await
    }

    /// Takes an offer back from its agent (declined or timed out), frees
    /// the agent's slot, hands the chat on and lets the freed slot serve
    /// the queue. `None` when the offer had already changed.
    async fn take_back(
        &self,
        offered: &Assignment,
        timed_out: bool,
    ) -> Result<Option<Assignment>, Error> {
        let (Some(agent), Some(hold)) = (offered.agent_id.as_deref(), Hold::of(offered)) else {
            return Ok(None);
        };
        let policies = self.policies().await?;
        let Some(queued) = self.store.assignments().decline(offered, timed_out).await? else {
            return Ok(None);
        };
        metrics::record_offer(if timed_out { "timed_out" } else { "declined" });
        // Not routed to this agent after all: its `count` increment goes too.
        self.release(
            agent,
            offered.department_id.as_deref(),
            &hold,
            false,
            &policies,
        )
        .await?;
        let answer = self.hand_on(&queued, &policies).await?.unwrap_or(queued);
        self.publish_room(&answer).await;
        self.drain_for_agent(agent, &policies).await;
        Ok(Some(answer))
    }

    /// Tries the declined chat again at once with everyone else.
    async fn hand_on(
        &self,
        queued: &Assignment,
        policies: &Policies,
    ) -> Result<Option<Assignment>, Error> {
        if !policies.enabled() {
            return Ok(None);
        }
        match self
            .serve_next(&QueueScope::of(queued), Some(&queued.id), None, policies)
            .await?
        {
            Next::Served(a) => Ok(Some(*a)),
            _ => Ok(None),
        }
    }

    /// Times out the offers unanswered for `routing.offer_timeout_ms`;
    /// answers how many. Every instance runs this; each offer times out
    /// once.
    pub async fn expire_offers(&self) -> Result<usize, Error> {
        let timeout = self.settings.routing.offer_timeout_ms;
        if timeout == 0 {
            return Ok(0);
        }
        let cutoff = chrono::Utc::now() - chrono::Duration::milliseconds(timeout as i64);
        let mut expired = 0;
        for offer in self.store.assignments().offers_before(cutoff).await? {
            match self.take_back(&offer, true).await {
                Ok(Some(_)) => expired += 1,
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %error_chain_fmt(&e), "timing out an offer failed; retrying next tick")
                }
            }
        }
        Ok(expired)
    }
}
