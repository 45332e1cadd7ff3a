//! The waiting queue: a chat no agent could take is stored `queued`, and
//! is handed to an agent as soon as one has room — when a chat closes,
//! when an agent becomes available or gets a higher limit, when the
//! visitor asks again, when the configuration changes, and on every
//! instance's periodic sweep (`routing.queue_interval_ms`), oldest first
//! within each queue.
//!
//! Several drainers (requests and instances) may work one queue at the
//! same moment: each locks the chat it is placing (Rocket.Chat's inquiry
//! lock). The lock id is also the attempt id of the holds the placement
//! leaves, so the repair can revoke a lock whose drainer died and free
//! what it reserved.

use super::decide::Chosen;
use super::{Distribution, Policies};
use crate::domain::assignment::{Assignment, Status};
use crate::error::Error;
use crate::store::assignments::{Locked, QueueScope, Served};
use crate::store::routing::HoldKey;
use crate::telemetry::metrics;

/// Most chats one drain places in one queue before it lets others go.
const DRAIN_BATCH: usize = 100;

/// What one attempt on a queue found.
pub(super) enum Next {
    /// The oldest waiting chat now has an agent.
    Served(Box<Assignment>),
    /// It still waits: no agent has room.
    NoAgent,
    /// Another drainer holds it, or it was closed meanwhile.
    Lost,
    /// Nothing waits (unlocked) in this queue.
    Empty,
}

impl Distribution {
    /// Tries to place the oldest waiting chat of `scope` (or, with `only`,
    /// that one chat).
    pub(super) async fn serve_next(
        &self,
        scope: &QueueScope,
        only: Option<&str>,
        policies: &Policies,
    ) -> Result<Next, Error> {
        let assignments = self.store.assignments();
        let Some(locked) = assignments.lock_queued(scope, only).await? else {
            return Ok(if only.is_some() {
                Next::Lost
            } else {
                Next::Empty
            });
        };
        let waiting = &locked.assignment;
        let hold = HoldKey {
            assignment_id: &waiting.id,
            attempt: &locked.lock_id,
            visitor_token: &waiting.visitor_token,
        };
        let chosen = match scope {
            QueueScope::Department(id) => match self.department(id).await? {
                Some(department) => {
                    self.choose_in_chain(policies, &department, &waiting.visitor_token, &hold)
                        .await?
                }
                None => None,
            },
            QueueScope::NoDepartment => {
                self.choose_without_department(policies, &waiting.visitor_token, &hold)
                    .await?
            }
        };
        let Some(chosen) = chosen else {
            assignments.unlock(&locked).await?;
            return Ok(Next::NoAgent);
        };
        let waited = (chrono::Utc::now() - waiting.created_at)
            .num_seconds()
            .max(0);
        let served = Served {
            reason: format!("{}; taken from the queue after {waited} s", chosen.reason),
            ..chosen.served()
        };
        match assignments.serve_locked(&locked, served).await {
            Ok(Some(doc)) => {
                metrics::record_routing_decision(chosen.method.as_str(), "dequeued");
                self.publish_room(&doc).await;
                Ok(Next::Served(Box::new(doc)))
            }
            Ok(None) => {
                self.give_back(Some(&chosen), &hold, policies).await;
                Ok(Next::Lost)
            }
            Err(e) => {
                self.unserved(&locked, &chosen, policies).await;
                Err(e)
            }
        }
    }

    /// The placement's write failed and may still land: revoke the lock
    /// so it never can, then give the slot back unless it landed.
    async fn unserved(&self, locked: &Locked, chosen: &Chosen, policies: &Policies) {
        let assignments = self.store.assignments();
        let id = &locked.assignment.id;
        if assignments.revoke_lock(id, &locked.lock_id).await.is_err() {
            return; // the repair settles it
        }
        let landed = matches!(
            assignments.find(id).await,
            Ok(Some(a)) if a.status == Status::Open && a.attempt.as_deref() == Some(locked.lock_id.as_str())
        );
        if !landed {
            let hold = HoldKey {
                assignment_id: id,
                attempt: &locked.lock_id,
                visitor_token: &locked.assignment.visitor_token,
            };
            self.give_back(Some(chosen), &hold, policies).await;
        }
    }

    /// Places waiting chats of one queue, oldest first, until one cannot
    /// be placed; answers how many were placed.
    pub(super) async fn drain(
        &self,
        scope: &QueueScope,
        policies: &Policies,
    ) -> Result<usize, Error> {
        if !policies.enabled() {
            return Ok(0);
        }
        let mut placed = 0;
        for _ in 0..DRAIN_BATCH {
            match self.serve_next(scope, None, policies).await? {
                Next::Served(_) => placed += 1,
                Next::Lost => {}
                Next::NoAgent | Next::Empty => break,
            }
        }
        Ok(placed)
    }

    /// Drains every queue that has waiting chats.
    pub(super) async fn drain_all(&self, policies: &Policies) -> Result<usize, Error> {
        if !policies.enabled() {
            return Ok(0);
        }
        let mut placed = 0;
        for scope in self.store.assignments().queued_scopes().await? {
            placed += self.drain(&scope, policies).await?;
        }
        Ok(placed)
    }

    /// After a close freed an agent: the queue of the department it served
    /// in, then chats that asked for no department.
    pub(super) async fn drain_after_close(&self, closed: &Assignment, policies: &Policies) {
        let department = closed.department_id.clone().map(QueueScope::Department);
        let scopes = department.into_iter().chain([QueueScope::NoDepartment]);
        self.drain_after_change(scopes.collect(), "a close", policies)
            .await;
    }

    /// After an agent gained room: the queues of its enabled departments,
    /// then chats that asked for no department.
    pub(super) async fn drain_for_agent(&self, agent_id: &str, policies: &Policies) {
        if !policies.enabled() {
            return;
        }
        let links = match self
            .store
            .department_agents()
            .of_agent(agent_id, true)
            .await
        {
            Ok(links) => links,
            Err(e) => return super::warn_undrained("an agent gained room", &e),
        };
        let departments = links
            .into_iter()
            .map(|l| QueueScope::Department(l.department_id));
        let scopes = departments.chain([QueueScope::NoDepartment]);
        self.drain_after_change(scopes.collect(), "an agent gained room", policies)
            .await;
    }

    /// Drains these queues in order. The change that made room has
    /// succeeded, so a failure here is logged and left to the next sweep.
    async fn drain_after_change(&self, scopes: Vec<QueueScope>, change: &str, policies: &Policies) {
        for scope in &scopes {
            if let Err(e) = self.drain(scope, policies).await {
                return super::warn_undrained(change, &e);
            }
        }
    }
}
