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

use super::choose::Chosen;
use super::queue::Next;
use super::{Distribution, Policies, RouteRequest, Routed};
use crate::domain::assignment::{Hold, Status};
use crate::domain::routing::Method;
use crate::error::Error;
use crate::store::assignments::{NewAssignment, Outcome, QueueScope, Recorded};
use crate::telemetry::metrics;

/// How long a failed decision waits to learn whether its record landed.
const FENCE_BOUND: std::time::Duration = std::time::Duration::from_secs(1);

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
                method: policy_method,
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
}
