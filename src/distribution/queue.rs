//! The waiting queue: a chat no agent could take is stored `queued`, and
//! is handed to an agent as soon as one has room — whenever room may have
//! appeared (a close, a declined or timed-out offer, an agent becoming
//! available or coming online, a higher limit, a new link, a department
//! saved, the configuration changed, the visitor asking again) and on
//! every instance's periodic sweep (`routing.queue_interval_ms`), oldest
//! first within each queue and the longest-waiting queue first.
//!
//! Several drainers (requests and instances) may work one queue at the
//! same moment: each locks the chat it is placing (Rocket.Chat's inquiry
//! lock). The lock id is also the attempt id of the holds the placement
//! leaves, so the repair can revoke a lock whose drainer died and free
//! what it reserved.

use super::choose::Chosen;
use super::{Distribution, Policies};
use crate::domain::assignment::{Assignment, Hold, Status};
use crate::error::Error;
use crate::store::assignments::{Locked, QueueScope, Served};
use crate::telemetry::metrics;

/// Most chats one drain places in one queue before it lets others go.
const DRAIN_BATCH: usize = 100;

/// One queue's waiting chats, oldest first.
#[derive(Debug, Clone)]
pub struct WaitingQueue {
    /// `None`: chats that asked for no department.
    pub department_id: Option<String>,
    pub department_name: Option<String>,
    /// How many wait in it.
    pub total: u64,
    /// The first of them, oldest first (at most [`QUEUE_SHOWN`]).
    pub chats: Vec<Assignment>,
}

/// Most waiting chats one queue answers in the queue overview.
pub const QUEUE_SHOWN: u64 = 100;

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
    /// Every queue with waiting chats (or only this department's), the
    /// longest-waiting first.
    pub async fn waiting_queues(
        &self,
        department_id: Option<&str>,
    ) -> Result<Vec<WaitingQueue>, Error> {
        let assignments = self.store.assignments();
        let mut out = Vec::new();
        for (scope, _) in assignments.queue_heads().await? {
            let id = match &scope {
                QueueScope::Department(d) => Some(d.clone()),
                QueueScope::NoDepartment => None,
            };
            if department_id.is_some() && department_id != id.as_deref() {
                continue;
            }
            let page = crate::domain::pagination::Page {
                offset: 0,
                count: QUEUE_SHOWN,
            };
            let (chats, total) = assignments.waiting(Some(&scope), page).await?;
            let department_name = match &id {
                Some(d) => self.department(d).await?.map(|r| r.name),
                None => None,
            };
            out.push(WaitingQueue {
                department_id: id,
                department_name,
                total,
                chats,
            });
        }
        Ok(out)
    }

    /// Tries to place the oldest waiting chat of `scope` (or, with `only`,
    /// that one chat; with `for_agent`, the oldest that agent did not
    /// decline).
    pub(super) async fn serve_next(
        &self,
        scope: &QueueScope,
        only: Option<&str>,
        for_agent: Option<&str>,
        policies: &Policies,
    ) -> Result<Next, Error> {
        let assignments = self.store.assignments();
        let Some(locked) = assignments.lock_queued(scope, only, for_agent).await? else {
            return Ok(if only.is_some() {
                Next::Lost
            } else {
                Next::Empty
            });
        };
        let waiting = &locked.assignment;
        let hold = Hold::under_lock(waiting, &locked.lock_id);
        let skip = match self.excluded(policies, &waiting.declined_by).await {
            Ok(skip) => skip,
            Err(e) => {
                assignments.unlock(&locked).await?;
                return Err(e);
            }
        };
        let token = &waiting.visitor_token;
        let chosen = match scope {
            QueueScope::Department(id) => match self.department(id).await? {
                Some(department) => {
                    self.choose_in_chain(policies, &department, token, &skip, &hold)
                        .await?
                }
                None => None,
            },
            QueueScope::NoDepartment => {
                self.choose_without_department(policies, token, &skip, &hold)
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
                if chosen.offered {
                    metrics::record_offer("offered");
                }
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
            Ok(Some(a)) if matches!(a.status, Status::Open | Status::Offered) && a.attempt.as_deref() == Some(locked.lock_id.as_str())
        );
        if !landed {
            let hold = Hold::under_lock(&locked.assignment, &locked.lock_id);
            self.give_back(Some(chosen), &hold, policies).await;
        }
    }

    /// Places waiting chats of one queue, oldest first, until one cannot
    /// be placed; answers how many were placed.
    pub(super) async fn drain(
        &self,
        scope: &QueueScope,
        for_agent: Option<&str>,
        policies: &Policies,
    ) -> Result<usize, Error> {
        if !policies.enabled() {
            return Ok(0);
        }
        let mut placed = 0;
        for _ in 0..DRAIN_BATCH {
            match self.serve_next(scope, None, for_agent, policies).await? {
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
            placed += self.drain(&scope, None, policies).await?;
        }
        Ok(placed)
    }

    /// After a close freed an agent: every queue its room can serve.
    pub(super) async fn drain_after_close(&self, closed: &Assignment, policies: &Policies) {
        if let Some(agent) = closed.agent_id.as_deref() {
            let also = closed.department_id.clone();
            self.drain_for_agent_and(agent, also, "a close", policies)
                .await;
        }
    }

    /// After an agent gained room: every queue it may serve — those of its
    /// enabled departments, those that fall back to one of them, and chats
    /// that asked for no department — the longest-waiting first.
    pub(super) async fn drain_for_agent(&self, agent_id: &str, policies: &Policies) {
        self.drain_for_agent_and(agent_id, None, "an agent gained room", policies)
            .await;
    }

    async fn drain_for_agent_and(
        &self,
        agent_id: &str,
        also: Option<String>,
        change: &str,
        policies: &Policies,
    ) {
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
            Err(e) => return super::warn_undrained(change, &e),
        };
        let mut departments: Vec<String> = links.into_iter().map(|l| l.department_id).collect();
        departments.extend(also);
        self.drain_reaching(&departments, Some(agent_id), change, policies)
            .await;
    }

    /// A department gained room (an agent linked, a department opened):
    /// its own queue and those that fall back to it.
    pub(super) async fn drain_for_department(&self, department_id: &str, policies: &Policies) {
        if !policies.enabled() {
            return;
        }
        let departments = [department_id.to_string()];
        self.drain_reaching(&departments, None, "a department gained room", policies)
            .await;
    }

    /// Drains, longest-waiting head first, every queue that room in one of
    /// `departments` can serve: a department's own queue and those whose
    /// backup chain reaches it. With `for_agent` (room that agent made),
    /// also chats that asked for no department, passing over chats that
    /// agent declined.
    async fn drain_reaching(
        &self,
        departments: &[String],
        for_agent: Option<&str>,
        change: &str,
        policies: &Policies,
    ) {
        let no_department = for_agent.is_some();
        let heads = match self.store.assignments().queue_heads().await {
            Ok(heads) => heads,
            Err(e) => return super::warn_undrained(change, &e),
        };
        let backups_of = |d: &str| policies.for_department(d).backups;
        let scopes = heads
            .into_iter()
            .map(|(scope, _)| scope)
            .filter(|scope| match scope {
                QueueScope::Department(d) => {
                    crate::domain::routing::reaches(d, departments, backups_of)
                }
                QueueScope::NoDepartment => no_department,
            })
            .collect();
        self.drain_after_change(scopes, for_agent, change, policies)
            .await;
    }

    /// Drains these queues in order. The change that made room has
    /// succeeded, so a failure here is logged and left to the next sweep.
    async fn drain_after_change(
        &self,
        scopes: Vec<QueueScope>,
        for_agent: Option<&str>,
        change: &str,
        policies: &Policies,
    ) {
        for scope in &scopes {
            if let Err(e) = self.drain(scope, for_agent, policies).await {
                return super::warn_undrained(change, &e);
            }
        }
    }
}
