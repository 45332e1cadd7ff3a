//! One decision: choose an agent (the department, then its backups, or any
//! agent without a department), reserve its slot, record the assignment.
//!
//! On the hot path — a department with a free agent, configuration and
//! department cached — a decision is four database commands: the take of a
//! link, the reservation on the agent, the publication of its load on its
//! links, and the insert of the assignment. The visitor's live assignment
//! is not read first: the unique index on live assignments refuses a
//! second one, and only then is the reservation given back.

use tokio::time::{Instant, timeout, timeout_at};

use super::queue::Next;
use super::together::{Seat, Seated};
use super::{Distribution, Policies, Policy, RouteRequest, Routed};
use crate::domain::assignment::{Hold, Status};
use crate::domain::routing::{Method, Pick, backup_path, explain_last_chatted, has_room};
use crate::error::{Error, error_chain_fmt};
use crate::store::assignments::{NewAssignment, Outcome, QueueScope, Recorded, Served};
use crate::store::routing::{DepartmentRules, Reserved, TakeFilter, UserFilter};
use crate::telemetry::metrics;

/// How many agents one decision may try before it queues the chat (each
/// failed try was an agent that filled up between its take and its
/// reservation).
const MAX_TRIES: usize = 64;

/// How long a failed decision waits to learn whether its record landed.
const FENCE_BOUND: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) struct Chosen {
    pub pick: Pick,
    pub department_id: Option<String>,
    pub method: Method,
    pub reason: String,
    /// The agent does not accept chats automatically: it is offered.
    pub offered: bool,
}

impl Chosen {
    /// The record's view of this choice.
    pub fn served(&self) -> Served {
        Served {
            agent_id: self.pick.agent_id.clone(),
            username: self.pick.username.clone(),
            department_id: self.department_id.clone(),
            method: self.method.as_str().to_string(),
            reason: self.reason.clone(),
            offered: self.offered,
            manual: false,
        }
    }
}

fn timed_out() -> Error {
    Error::Unavailable(anyhow::anyhow!(
        "the decision could not be recorded within its bound"
    ))
}

impl Distribution {
    pub(super) async fn decide(
        &self,
        request: RouteRequest,
        deadline: Instant,
    ) -> Result<Routed, Error> {
        // A second round only when the visitor's live chat closed between
        // our insert and our read of it.
        for _ in 0..2 {
            if let Some(routed) = self.decide_once(&request, deadline).await? {
                return Ok(routed);
            }
        }
        Err(Error::Unexpected(anyhow::anyhow!(
            "the visitor's live assignment kept changing during the decision"
        )))
    }

    async fn decide_once(
        &self,
        request: &RouteRequest,
        deadline: Instant,
    ) -> Result<Option<Routed>, Error> {
        let policies = self.policies().await?;
        let requested = match &request.department_id {
            Some(id) => Some(self.department(id).await?.ok_or_else(|| {
                Error::meteor("error-department-not-found", "Department not found")
            })?),
            None => None,
        };
        let hold = Hold::fresh(&request.visitor_token);
        let token = &request.visitor_token;
        let skip = match policies.enabled() {
            true => self.excluded(&policies, &[]).await?,
            false => Vec::new(),
        };
        let chosen = match &requested {
            _ if !policies.enabled() => None,
            Some(department) => {
                self.choose_in_chain(&policies, department, token, &skip, &hold)
                    .await?
            }
            None => {
                self.choose_without_department(&policies, token, &skip, &hold)
                    .await?
            }
        };
        let policy_method = match &requested {
            Some(d) => policies.for_department(&d.id).method,
            None => Method::LeastServed,
        };
        let label = match (&chosen, request.record_queued) {
            (Some(_), _) => "open",
            (None, true) => "queued",
            (None, false) => "no_agent",
        };
        let method = chosen.as_ref().map(|c| c.method).unwrap_or(policy_method);
        metrics::record_routing_decision(method.as_str(), label);
        if chosen.is_none() && !request.record_queued {
            let live = self.store.assignments().live_for_visitor(token).await?;
            return Ok(Some(live.map(Routed::Existing).unwrap_or(Routed::NoAgent)));
        }
        let outcome = match &chosen {
            Some(c) => Outcome::Served(c.served()),
            None => Outcome::Queued {
                method: policy_method.as_str().to_string(),
                reason: match &requested {
                    _ if !policies.enabled() => "queued: auto distribution is disabled".to_string(),
                    Some(d) => format!(
                        "queued: no eligible agent with room in department {} or its backups",
                        d.name
                    ),
                    None => "queued: no eligible agent with room".to_string(),
                },
            },
        };
        let record = NewAssignment {
            id: hold.assignment_id.clone(),
            attempt: hold.attempt.clone(),
            visitor_token: token.clone(),
            room_id: request.room_id.clone(),
            requested_department_id: request.department_id.clone(),
            channel: request.channel,
            outcome,
        };
        if Instant::now() >= deadline {
            self.give_back(chosen.as_ref(), &hold, &policies).await;
            return Err(timed_out());
        }
        let recorded = timeout_at(deadline, self.record(record))
            .await
            .unwrap_or_else(|_| Err(timed_out()));
        match recorded {
            Ok(Recorded::New(a)) => {
                if a.status == Status::Offered {
                    metrics::record_offer("offered");
                }
                Ok(Some(Routed::New(*a)))
            }
            Ok(Recorded::VisitorHasLive) => {
                self.give_back(chosen.as_ref(), &hold, &policies).await;
                self.existing(token, &policies).await
            }
            Ok(Recorded::RoomHasLive) => {
                self.give_back(chosen.as_ref(), &hold, &policies).await;
                Err(Error::invalid_room())
            }
            Ok(Recorded::Fenced) => {
                self.give_back(chosen.as_ref(), &hold, &policies).await;
                Err(timed_out())
            }
            Err(e) => self.unrecorded(chosen, hold, policies, e).await,
        }
    }

    /// The insert failed or did not answer in time, and may still land:
    /// take its id first so it never can, then give the slot back; if the
    /// record landed after all, answer it.
    async fn unrecorded(
        &self,
        chosen: Option<Chosen>,
        hold: Hold,
        policies: std::sync::Arc<Policies>,
        failure: Error,
    ) -> Result<Option<Routed>, Error> {
        let assignments = self.store.assignments();
        match timeout(
            FENCE_BOUND,
            assignments.fence(&hold.assignment_id, &hold.visitor_token),
        )
        .await
        {
            Ok(Ok(true)) => {
                // Off the request's path: the answer does not wait for it,
                // and the repair finishes it if it fails.
                let engine = self.clone();
                tokio::spawn(
                    async move { engine.give_back(chosen.as_ref(), &hold, &policies).await },
                );
                Err(failure)
            }
            Ok(Ok(false)) => match assignments.find(&hold.assignment_id).await {
                Ok(Some(a)) if a.status != Status::Abandoned => Ok(Some(Routed::New(a))),
                Ok(_) => Err(failure),
                Err(e) => {
                    self.withdraw(&hold.assignment_id, &hold.visitor_token);
                    Err(e)
                }
            },
            // The record may still land: take it back once the database
            // answers again (the repair frees the slot meanwhile).
            _ => {
                self.withdraw(&hold.assignment_id, &hold.visitor_token);
                Err(failure)
            }
        }
    }

    /// Records a decision, together with the decisions being recorded at
    /// the same time (one insert for all of them).
    async fn record(&self, record: NewAssignment) -> Result<Recorded, Error> {
        let store = self.store.clone();
        self.inserts
            .submit("assignments", record, move |mut batch| {
                let assignments = store.assignments();
                async move {
                    if batch.len() == 1
                        && let Some(one) = batch.pop()
                    {
                        return vec![assignments.insert(one).await];
                    }
                    let n = batch.len();
                    match assignments.insert_all(batch).await {
                        Ok(recorded) => recorded,
                        Err(e) => (0..n).map(|_| Err(e.shared())).collect(),
                    }
                }
            })
            .await
            .unwrap_or_else(|| Err(timed_out()))
    }

    /// The visitor's live assignment; a queued one is tried again now.
    /// `None` when it has none any more.
    async fn existing(&self, token: &str, policies: &Policies) -> Result<Option<Routed>, Error> {
        let Some(live) = self.store.assignments().live_for_visitor(token).await? else {
            return Ok(None);
        };
        if live.status == Status::Queued
            && policies.enabled()
            && let Next::Served(served) = self
                .serve_next(&QueueScope::of(&live), Some(&live.id), None, policies)
                .await?
        {
            return Ok(Some(Routed::Existing(*served)));
        }
        Ok(Some(Routed::Existing(live)))
    }

    /// Tries the department, then its backups in order.
    pub(super) async fn choose_in_chain(
        &self,
        policies: &Policies,
        requested: &DepartmentRules,
        token: &str,
        skip: &[String],
        hold: &Hold,
    ) -> Result<Option<Chosen>, Error> {
        let path = backup_path(&requested.id, |d| policies.for_department(d).backups);
        let mut visited = Vec::new();
        for id in &path {
            let department = if *id == requested.id {
                requested.clone()
            } else {
                match self.department(id).await? {
                    Some(d) => d,
                    None => continue,
                }
            };
            visited.push(department.name.clone());
            if !department.open {
                continue;
            }
            let policy = policies.for_department(id);
            if let Some(mut chosen) = self
                .choose_in_department(policies, &department, &policy, token, skip, hold)
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
        policies: &Policies,
        department: &DepartmentRules,
        policy: &Policy,
        token: &str,
        skip: &[String],
        hold: &Hold,
    ) -> Result<Option<Chosen>, Error> {
        let chosen = |pick: Pick, reason: String| Chosen {
            offered: policies.offers_to(&pick.agent_id),
            pick,
            department_id: Some(department.id.clone()),
            method: policy.method,
            reason,
        };
        let filter = |only_agent| TakeFilter {
            exclude_away: self.settings.routing.exclude_away,
            department_limit: department.max_chats_per_agent,
            skip_agents: &[],
            only_agent,
        };
        let mut previous = None;
        if policy.last_chatted_preferred {
            previous = self.store.assignments().last_served(token).await?;
        }
        if let Some(agent) = previous.as_ref().and_then(|p| p.agent_id.as_deref())
            && !skip.iter().any(|s| s == agent)
            && let Some(pick) = self
                .take_link(&department.id, policy.method, filter(Some(agent)), hold)
                .await?
            && let Some(pick) = self.reserve(policies, &department.id, pick, hold).await?
        {
            let reason = explain_last_chatted(&pick);
            return Ok(Some(chosen(pick, reason)));
        }
        match self
            .take_in_turn(department, policy.method, Seat::new(hold, skip))
            .await?
        {
            Seated::Placed(pick) => {
                let reason = policy.method.explain(&pick);
                Ok(Some(chosen(pick, reason)))
            }
            Seated::NoAgent => Ok(None),
            Seated::Alone => Ok(self
                .choose_alone(department, policy.method, skip, hold)
                .await?
                .map(|pick| {
                    let reason = policy.method.explain(&pick);
                    chosen(pick, reason)
                })),
        }
    }

    /// Takes the best link and reserves its agent, trying the next agent
    /// when one filled up in between.
    pub(super) async fn choose_alone(
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
    async fn take_link(
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
    async fn reserve(
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

    /// Without a department: the visitor's last agent when the global
    /// preference says so and it can take the chat, else the agent with
    /// room and the lowest `livechatCount`, taken and reserved in one step.
    pub(super) async fn choose_without_department(
        &self,
        policies: &Policies,
        token: &str,
        skip: &[String],
        hold: &Hold,
    ) -> Result<Option<Chosen>, Error> {
        let routing = self.store.routing();
        let filter = |only_agent| UserFilter {
            exclude_away: self.settings.routing.exclude_away,
            global: policies.global_limit,
            skip_agents: skip,
            only_agent,
        };
        let mut preferred = None;
        if policies.last_chatted_preferred()
            && let Some(previous) = self.store.assignments().last_served(token).await?
        {
            preferred = previous.agent_id.filter(|a| !skip.contains(a));
        }
        let mut taken = None;
        if let Some(agent) = preferred.as_deref() {
            let _turn = self.gate.enter(None).await;
            taken = routing
                .take_user(filter(Some(agent)), hold)
                .await?
                .map(|t| (t, true));
        }
        if taken.is_none() {
            let _turn = self.gate.enter(None).await;
            taken = routing
                .take_user(filter(None), hold)
                .await?
                .map(|t| (t, false));
        }
        let Some(((pick, reserved), last_chatted)) = taken else {
            return Ok(None);
        };
        self.publish_if_read(policies, &pick.agent_id, reserved, true)
            .await?;
        let reason = if last_chatted {
            explain_last_chatted(&pick)
        } else {
            format!(
                "least served without a department: {} had the lowest livechatCount ({})",
                pick.username, pick.count_before
            )
        };
        Ok(Some(Chosen {
            offered: policies.offers_to(&pick.agent_id),
            pick,
            department_id: None,
            method: Method::LeastServed,
            reason,
        }))
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

    /// Agents a decision must pass over: those that declined this chat,
    /// and, when the configuration says so, those holding an audio/video
    /// chat.
    pub(super) async fn excluded(
        &self,
        policies: &Policies,
        declined: &[String],
    ) -> Result<Vec<String>, Error> {
        let mut skip = declined.to_vec();
        if policies.spares_audio_video() {
            skip.extend(self.store.assignments().agents_in_audio_video().await?);
        }
        Ok(skip)
    }

    /// Takes back a decision that will not be recorded. A failure here is
    /// left to the repair, which finds the hold.
    pub(super) async fn give_back(
        &self,
        chosen: Option<&Chosen>,
        hold: &Hold,
        policies: &Policies,
    ) {
        let Some(c) = chosen else { return };
        let released = self
            .release(
                &c.pick.agent_id,
                c.department_id.as_deref(),
                hold,
                false,
                policies,
            )
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %error_chain_fmt(&e), "giving back a reservation failed; the repair frees it");
        }
    }
}
