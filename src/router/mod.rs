//! The routing engine: which agent takes this chat. It applies the rules
//! of `domain::routing` through the atomic steps of `store::routing` and
//! records every decision as an assignment.

mod queue;

pub use queue::spawn_drainer;

use crate::config::RoutingSettings;
use crate::domain::auto_distribution::AutoDistributionConfig;
use crate::domain::routing::{Method, Pick, backup_path, explain_last_chatted};
use crate::error::Error;
use crate::store::Store;
use crate::store::assignments::{
    AssignmentDoc, NewAssignment, Outcome, QUEUED, QueueScope, Served,
};
use crate::store::routing::{DepartmentRules, TakeFilter};
use crate::telemetry::metrics;

/// How many agents one decision may try before it queues the chat (each
/// failed try was an agent that filled up between its take and its
/// reservation).
const MAX_TRIES: usize = 64;

/// How one department distributes chats.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub method: Method,
    pub last_chatted_preferred: bool,
    /// Backup departments, in ascending order.
    pub backups: Vec<String>,
}

/// The distribution settings in force for one decision: the stored Auto
/// Distribution configuration, read fresh for each decision so a change
/// applies on every instance at once.
#[derive(Debug, Clone)]
pub struct Policies {
    config: AutoDistributionConfig,
    /// Chat limit for agents without their own; 0 = none.
    pub global_limit: u32,
}

impl Policies {
    /// The stored configuration, read fresh so a change on any instance
    /// applies to the next decision everywhere.
    pub async fn load(store: &Store, settings: &RoutingSettings) -> Result<Policies, Error> {
        let config = store.auto_distribution().load().await?;
        Ok(Policies::from_config(config, settings))
    }

    /// Switchboard's defaults: least-served, no preference, no backups,
    /// the configured global limit.
    pub fn defaults(settings: &RoutingSettings) -> Policies {
        Policies::from_config(AutoDistributionConfig::default(), settings)
    }

    /// The stored configuration; its global limit, when set, replaces the
    /// configured default.
    pub fn from_config(config: AutoDistributionConfig, settings: &RoutingSettings) -> Policies {
        let global_limit = config.global_limit().unwrap_or(settings.global_max_chats);
        Policies {
            config,
            global_limit,
        }
    }

    /// Whether chats are distributed automatically at all.
    pub fn enabled(&self) -> bool {
        self.config.is_enabled()
    }

    pub fn for_department(&self, id: &str) -> Policy {
        let d = self.config.for_department(id);
        Policy {
            method: d.method,
            last_chatted_preferred: d.last_chatted_preferred,
            backups: d.backups,
        }
    }

    /// Without a department: the global preference applies.
    pub fn last_chatted_preferred(&self) -> bool {
        self.config.last_chatted_preferred
    }
}

/// A request to route a new chat.
#[derive(Debug, Clone)]
pub struct RouteRequest {
    pub visitor_token: String,
    pub department_id: Option<String>,
    pub room_id: Option<String>,
    /// Whether a decision that found no agent is stored as `queued`.
    pub record_queued: bool,
}

/// The answer: a new decision, or the visitor's live (open or queued)
/// assignment.
#[derive(Debug, Clone)]
pub enum Routed {
    New(AssignmentDoc),
    Existing(AssignmentDoc),
    /// No agent could take it and the request asked not to queue it.
    NoAgent,
}

/// What a reservation undoes when the taken agent has no room.
enum Taken<'x> {
    /// The take of this department link.
    Link(&'x str),
    /// The take of the agent's user document (no department).
    User,
}

struct Chosen {
    pick: Pick,
    department_id: Option<String>,
    method: Method,
    reason: String,
}

impl Chosen {
    /// The record's view of this choice.
    fn served(&self) -> Served {
        Served {
            agent_id: self.pick.agent_id.clone(),
            username: self.pick.username.clone(),
            department_id: self.department_id.clone(),
            method: self.method.as_str().to_string(),
            reason: self.reason.clone(),
        }
    }
}

pub struct Router<'a> {
    store: &'a Store,
    settings: &'a RoutingSettings,
    policies: Policies,
}

impl<'a> Router<'a> {
    pub fn new(store: &'a Store, settings: &'a RoutingSettings, policies: Policies) -> Self {
        Router {
            store,
            settings,
            policies,
        }
    }

    /// Routes one chat: reuses the visitor's open assignment, else decides
    /// and records a new one (`open` with an agent, or `queued`).
    pub async fn route(&self, request: RouteRequest) -> Result<Routed, Error> {
        let assignments = self.store.assignments();
        if let Some(live) = assignments.live_for_visitor(&request.visitor_token).await? {
            // Asking again while queued: try that chat again now.
            if live.status == QUEUED
                && self.policies.enabled()
                && let queue::Next::Served(served) = self
                    .serve_next(&QueueScope::of(&live), Some(&live.id))
                    .await?
            {
                return Ok(Routed::Existing(*served));
            }
            return Ok(Routed::Existing(live));
        }
        let requested = match &request.department_id {
            Some(id) => Some(self.store.routing().department(id).await?.ok_or_else(|| {
                Error::meteor("error-department-not-found", "Department not found")
            })?),
            None => None,
        };
        let chosen = match &requested {
            _ if !self.policies.enabled() => None,
            Some(department) => self.choose_in_chain(department, &request).await?,
            None => {
                self.choose_without_department(&request.visitor_token)
                    .await?
            }
        };
        let label = match (&chosen, request.record_queued) {
            (Some(_), _) => "open",
            (None, true) => "queued",
            (None, false) => "no_agent",
        };
        let policy_method = match &requested {
            Some(d) => self.policies.for_department(&d.id).method,
            None => Method::LeastServed,
        };
        metrics::record_routing_decision(
            chosen
                .as_ref()
                .map(|c| c.method)
                .unwrap_or(policy_method)
                .as_str(),
            label,
        );
        if chosen.is_none() && !request.record_queued {
            return Ok(Routed::NoAgent);
        }
        let outcome = match &chosen {
            Some(c) => Outcome::Served(c.served()),
            None => Outcome::Queued {
                method: policy_method.as_str().to_string(),
                reason: match &requested {
                    _ if !self.policies.enabled() => {
                        "queued: auto distribution is disabled".to_string()
                    }
                    Some(d) => format!(
                        "queued: no eligible agent with room in department {} or its backups",
                        d.name
                    ),
                    None => "queued: no eligible agent with room".to_string(),
                },
            },
        };
        let record = NewAssignment {
            visitor_token: request.visitor_token.clone(),
            room_id: request.room_id.clone(),
            requested_department_id: request.department_id.clone(),
            outcome,
        };
        if let Some(recorded) = assignments.insert(record).await? {
            return Ok(Routed::New(recorded));
        }
        // The same visitor was routed concurrently: give back this
        // decision's reservation and answer the other one.
        if let Some(c) = &chosen {
            self.cancel(c).await?;
        }
        match assignments.live_for_visitor(&request.visitor_token).await? {
            Some(live) => Ok(Routed::Existing(live)),
            None => Err(Error::Unexpected(anyhow::anyhow!(
                "assignment for visitor refused as duplicate but none is live"
            ))),
        }
    }

    /// Tries the department, then its backups in order.
    async fn choose_in_chain(
        &self,
        requested: &DepartmentRules,
        request: &RouteRequest,
    ) -> Result<Option<Chosen>, Error> {
        let path = backup_path(&requested.id, |d| self.policies.for_department(d).backups);
        let mut visited = Vec::new();
        for id in &path {
            // The requested department was read already; backups are read
            // only when the chain gets to them.
            let department = if *id == requested.id {
                requested.clone()
            } else {
                match self.store.routing().department(id).await? {
                    Some(d) => d,
                    None => continue,
                }
            };
            visited.push(department.name.clone());
            if !department.open {
                continue;
            }
            let policy = self.policies.for_department(id);
            if let Some(mut chosen) = self
                .choose_in_department(id, &policy, department.max_chats_per_agent, request)
                .await?
            {
                if visited.len() > 1 {
                    chosen.reason = format!(
                        "{}; served by backup department {} after {}",
                        chosen.reason,
                        department.name,
                        visited[..visited.len() - 1].join(" → ")
                    );
                }
                return Ok(Some(chosen));
            }
        }
        Ok(None)
    }

    async fn choose_in_department(
        &self,
        department_id: &str,
        policy: &Policy,
        department_limit: Option<u32>,
        request: &RouteRequest,
    ) -> Result<Option<Chosen>, Error> {
        let routing = self.store.routing();
        let exclude_away = self.settings.exclude_away;
        if policy.last_chatted_preferred
            && let Some(previous) = self
                .store
                .assignments()
                .last_served(&request.visitor_token)
                .await?
            && let Some(agent) = previous.agent_id.as_deref()
        {
            let filter = TakeFilter {
                exclude_away,
                department_limit,
                skip_agents: &[],
                only_agent: Some(agent),
            };
            if let Some(taken) = routing
                .take_link(department_id, policy.method, filter)
                .await?
                && let Some(pick) = self
                    .reserve(Taken::Link(&taken.link_id), taken.pick)
                    .await?
            {
                let reason = explain_last_chatted(&pick);
                return Ok(Some(Chosen {
                    pick,
                    department_id: Some(department_id.to_string()),
                    method: policy.method,
                    reason,
                }));
            }
        }
        let mut skipped: Vec<String> = Vec::new();
        for _ in 0..MAX_TRIES {
            let filter = TakeFilter {
                exclude_away,
                department_limit,
                skip_agents: &skipped,
                only_agent: None,
            };
            let Some(taken) = routing
                .take_link(department_id, policy.method, filter)
                .await?
            else {
                return Ok(None);
            };
            let agent = taken.pick.agent_id.clone();
            if let Some(pick) = self
                .reserve(Taken::Link(&taken.link_id), taken.pick)
                .await?
            {
                let reason = policy.method.explain(&pick);
                return Ok(Some(Chosen {
                    pick,
                    department_id: Some(department_id.to_string()),
                    method: policy.method,
                    reason,
                }));
            }
            skipped.push(agent);
        }
        Ok(None)
    }

    /// Reserves the taken agent's slot, or undoes the take.
    async fn reserve(&self, taken: Taken<'_>, mut pick: Pick) -> Result<Option<Pick>, Error> {
        let routing = self.store.routing();
        let global = self.policies.global_limit;
        match routing
            .reserve_agent(&pick.agent_id, global, self.settings.exclude_away)
            .await?
        {
            Some(reserved) => {
                // Every link of the agent carries its agent-wide load, so
                // departments with any method see it on their next decision.
                routing.publish_load(&pick.agent_id, reserved, true).await?;
                pick.limit = reserved.limit;
                Ok(Some(pick))
            }
            None => {
                match taken {
                    Taken::Link(id) => routing.untake_link(id).await?,
                    Taken::User => routing.untake_user(&pick.agent_id).await?,
                }
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

    /// Without a department: the visitor's last agent when the global
    /// preference says so and it can take the chat, else the agent with
    /// the lowest `livechatCount`.
    async fn choose_without_department(
        &self,
        visitor_token: &str,
    ) -> Result<Option<Chosen>, Error> {
        let routing = self.store.routing();
        let exclude_away = self.settings.exclude_away;
        let chosen = |pick: Pick, reason: String| Chosen {
            pick,
            department_id: None,
            method: Method::LeastServed,
            reason,
        };
        if self.policies.last_chatted_preferred()
            && let Some(previous) = self.store.assignments().last_served(visitor_token).await?
            && let Some(agent) = previous.agent_id.as_deref()
            && let Some(pick) = routing.take_user(exclude_away, &[], Some(agent)).await?
            && let Some(pick) = self.reserve(Taken::User, pick).await?
        {
            let reason = explain_last_chatted(&pick);
            return Ok(Some(chosen(pick, reason)));
        }
        let mut skipped: Vec<String> = Vec::new();
        for _ in 0..MAX_TRIES {
            let Some(pick) = routing.take_user(exclude_away, &skipped, None).await? else {
                return Ok(None);
            };
            let agent = pick.agent_id.clone();
            if let Some(pick) = self.reserve(Taken::User, pick).await? {
                let reason = format!(
                    "least served without a department: {} had the lowest livechatCount ({})",
                    pick.username, pick.count_before
                );
                return Ok(Some(chosen(pick, reason)));
            }
            skipped.push(agent);
        }
        Ok(None)
    }

    /// Frees the agent's slot (and its department slot).
    async fn release(&self, agent_id: &str, department_id: Option<&str>) -> Result<(), Error> {
        let routing = self.store.routing();
        if let Some(d) = department_id {
            routing.release_link(d, agent_id).await?;
        }
        if let Some(reserved) = routing
            .release_agent(agent_id, self.policies.global_limit)
            .await?
        {
            routing.publish_load(agent_id, reserved, false).await?;
        }
        Ok(())
    }

    /// Takes back a decision that lost the race to record it: the slot is
    /// freed and the `count` increment undone, so increments keep equal the
    /// chats actually routed.
    async fn cancel(&self, chosen: &Chosen) -> Result<(), Error> {
        let routing = self.store.routing();
        match chosen.department_id.as_deref() {
            Some(d) => routing.untake_agent_link(d, &chosen.pick.agent_id).await?,
            None => routing.untake_user(&chosen.pick.agent_id).await?,
        }
        if let Some(reserved) = routing
            .release_agent(&chosen.pick.agent_id, self.policies.global_limit)
            .await?
        {
            routing
                .publish_load(&chosen.pick.agent_id, reserved, false)
                .await?;
        }
        Ok(())
    }

    /// Closes an assignment; the first close of an open one frees the
    /// agent's slot and hands it the oldest chat waiting for it, a repeated
    /// close changes nothing.
    pub async fn close(&self, id: &str) -> Result<Option<AssignmentDoc>, Error> {
        let assignments = self.store.assignments();
        if let Some(closed) = assignments.close(id).await? {
            if let Some(agent) = closed.agent_id.as_deref() {
                self.release(agent, closed.department_id.as_deref()).await?;
                self.drain_after_close(&closed).await;
            }
            return Ok(Some(closed));
        }
        assignments.find(id).await
    }
}
