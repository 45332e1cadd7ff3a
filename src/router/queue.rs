//! The waiting queue: a chat no agent could take is stored `queued`, and
//! is handed to an agent as soon as one has room — when a chat closes,
//! when an agent becomes available or gets a higher limit,
//! when the visitor asks again, and on every instance's periodic sweep
//! (`routing.queue_interval_ms`), oldest first within each queue.
//!
//! Several drainers (requests and instances) may work one queue at the
//! same moment: each locks the chat it is placing (Rocket.Chat's inquiry
//! lock), and the lock goes stale after a while so a drainer that died
//! mid-decision cannot strand a chat.

use std::time::Duration;

use super::{Policies, RouteRequest, Router};
use crate::config::Settings;
use crate::error::{Error, error_chain_fmt};
use crate::store::Store;
use crate::store::assignments::{AssignmentDoc, QueueScope, Served};
use crate::telemetry::metrics;

/// Most chats one drain places in one queue before it lets others go.
const DRAIN_BATCH: usize = 100;

/// What one attempt on a queue found.
pub(super) enum Next {
    /// The oldest waiting chat now has an agent.
    Served(Box<AssignmentDoc>),
    /// It still waits: no agent has room.
    NoAgent,
    /// Another drainer holds it, or it was closed meanwhile.
    Lost,
    /// Nothing waits (unlocked) in this queue.
    Empty,
}

impl Router<'_> {
    /// Tries to place the oldest waiting chat of `scope` (or, with `only`,
    /// that one chat).
    pub(super) async fn serve_next(
        &self,
        scope: &QueueScope,
        only: Option<&str>,
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
        let request = RouteRequest {
            visitor_token: waiting.visitor_token.clone(),
            department_id: waiting.requested_department_id.clone(),
            room_id: waiting.room_id.clone(),
            record_queued: true,
        };
        let chosen = match scope {
            QueueScope::Department(id) => match self.store.routing().department(id).await? {
                Some(department) => self.choose_in_chain(&department, &request).await?,
                None => None,
            },
            QueueScope::NoDepartment => {
                self.choose_without_department(&waiting.visitor_token)
                    .await?
            }
        };
        let Some(chosen) = chosen else {
            assignments.unlock(&locked).await?;
            return Ok(Next::NoAgent);
        };
        let waited = (chrono::Utc::now() - waiting.created_at.to_chrono())
            .num_seconds()
            .max(0);
        let served = Served {
            reason: format!("{}; taken from the queue after {waited} s", chosen.reason),
            ..chosen.served()
        };
        match assignments.serve_locked(&locked, served).await? {
            Some(doc) => {
                metrics::record_routing_decision(chosen.method.as_str(), "dequeued");
                Ok(Next::Served(Box::new(doc)))
            }
            None => {
                self.cancel(&chosen).await?;
                Ok(Next::Lost)
            }
        }
    }

    /// Places waiting chats of one queue, oldest first, until one cannot
    /// be placed; answers how many were placed.
    pub async fn drain(&self, scope: &QueueScope) -> Result<usize, Error> {
        if !self.policies.enabled() {
            return Ok(0);
        }
        let mut placed = 0;
        for _ in 0..DRAIN_BATCH {
            match self.serve_next(scope, None).await? {
                Next::Served(_) => placed += 1,
                Next::Lost => {}
                Next::NoAgent | Next::Empty => break,
            }
        }
        Ok(placed)
    }

    /// Drains every queue that has waiting chats.
    pub async fn drain_all(&self) -> Result<usize, Error> {
        if !self.policies.enabled() {
            return Ok(0);
        }
        let mut placed = 0;
        for scope in self.store.assignments().queued_scopes().await? {
            placed += self.drain(&scope).await?;
        }
        Ok(placed)
    }

    /// After a close freed an agent: the queue of the department it served
    /// in, then chats that asked for no department.
    pub(super) async fn drain_after_close(&self, closed: &AssignmentDoc) {
        let department = closed.department_id.clone().map(QueueScope::Department);
        let scopes = department.into_iter().chain([QueueScope::NoDepartment]);
        self.drain_after_change(scopes.collect(), "a close").await;
    }

    /// After an agent gained room (came online, became available, got a
    /// higher limit): the queues of its enabled departments, then chats
    /// that asked for no department.
    pub async fn drain_for_agent(&self, agent_id: &str) {
        if !self.policies.enabled() {
            return;
        }
        let links = match self
            .store
            .department_agents()
            .of_agent(agent_id, true)
            .await
        {
            Ok(links) => links,
            Err(e) => return warn_undrained("an agent gained room", &e),
        };
        let departments = links
            .into_iter()
            .map(|l| QueueScope::Department(l.department_id));
        let scopes = departments.chain([QueueScope::NoDepartment]);
        self.drain_after_change(scopes.collect(), "an agent gained room")
            .await;
    }

    /// Drains these queues in order. The change that made room has
    /// succeeded, so a failure here is logged and left to the next sweep.
    async fn drain_after_change(&self, scopes: Vec<QueueScope>, change: &str) {
        for scope in &scopes {
            if let Err(e) = self.drain(scope).await {
                return warn_undrained(change, &e);
            }
        }
    }
}

fn warn_undrained(change: &str, e: &Error) {
    tracing::warn!(error = %error_chain_fmt(e), change, "placing waiting chats failed; the sweep retries");
}

/// Starts this instance's periodic sweep of the waiting queue; `None`
/// when `routing.queue_interval_ms` is 0.
pub fn spawn_drainer(store: Store, settings: Settings) -> Option<tokio::task::JoinHandle<()>> {
    let every = settings.routing.queue_interval_ms;
    if every == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let swept = async {
                let policies = Policies::load(&store, &settings.routing).await?;
                Router::new(&store, &settings.routing, policies)
                    .drain_all()
                    .await
            };
            match swept.await {
                Ok(0) => {}
                Ok(placed) => tracing::info!(placed, "placed waiting chats"),
                Err(e) => {
                    tracing::debug!(error = %error_chain_fmt(&e), "queue sweep failed; retrying next tick")
                }
            }
        }
    }))
}
