//! The repair: every instance, every `routing.repair_interval_ms`, judges
//! the holds older than `routing.repair_after_ms` against the assignments
//! (`domain::assignment::hold_fate`) and frees the slots of chats that do
//! not exist or have closed, and puts counters that drifted from their
//! holds right. It is what makes a decision or a close that failed half-way
//! (a failed write, an instance killed, a database restarted) cost capacity
//! only until the next pass, never for good.
//!
//! It is safe against a decision still running, however late: before a
//! hold whose assignment is missing is judged, the assignment's id is taken
//! by a tombstone (so the late insert fails), and a queued chat's lock is
//! revoked (so the late placement fails). Every release is guarded by its
//! hold, so two instances repairing at once free a slot once.

use std::collections::HashMap;

use super::{Distribution, Policies};
use crate::domain::assignment::{Assignment, HeldSlot, HoldFate, hold_fate};
use crate::domain::routing::has_room;
use crate::error::Error;
use crate::store::routing::HeldBetween;
use crate::telemetry::metrics;

/// What one pass repaired.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Repaired {
    /// Slots held for chats that were never served by their decision.
    pub abandoned: u64,
    /// Slots of closed chats whose close did not free them.
    pub closed: u64,
    /// Counters that differed from their holds.
    pub drifted: u64,
}

impl Repaired {
    pub fn any(&self) -> bool {
        *self != Repaired::default()
    }
}

/// How far back a regular pass looks: every hold is judged by several
/// passes of every instance while it is this young; older ones only by a
/// full pass.
const WINDOW: chrono::Duration = chrono::Duration::seconds(60);

/// One pass in this many is full: every hold of any age, every counter.
pub const FULL_EVERY: u64 = 30;

impl Distribution {
    /// One repair pass. A regular pass judges the holds made in the last
    /// minute (before `routing.repair_after_ms`) and finishes closes that
    /// stopped half-way; a `full` one judges every hold, corrects counters
    /// that drifted from their holds and republishes agents wrongly marked
    /// full — a safety net for passes that could not run.
    pub async fn repair(&self, full: bool) -> Result<Repaired, Error> {
        let policies = self.policies().await?;
        let routing = self.store.routing();
        let age = chrono::Duration::milliseconds(self.settings.routing.repair_after_ms as i64);
        let until = chrono::Utc::now() - age;
        let window = HeldBetween {
            since: (!full).then(|| until - WINDOW),
            until,
        };
        let users = routing.users_with_holds_between(window).await?;
        let links = routing.links_with_holds_between(window).await?;
        let mut judged: Vec<(&HeldSlot, &str, Option<&str>)> = Vec::new();
        for u in &users {
            judged.extend(u.holds.iter().map(|h| (h, u.agent_id.as_str(), None)));
        }
        for l in &links {
            judged.extend(
                l.holds
                    .iter()
                    .map(|h| (h, l.agent_id.as_str(), Some(l.department_id.as_str()))),
            );
        }
        let mut repaired = Repaired::default();
        if !judged.is_empty() {
            let known = self.fence_and_read(&judged).await?;
            for (hold, agent, department) in judged {
                let fate = hold_fate(
                    &hold.hold,
                    agent,
                    department,
                    known.get(&hold.hold.assignment_id),
                );
                let routed = match fate {
                    HoldFate::Settled | HoldFate::Fence => continue,
                    HoldFate::Served => true,
                    HoldFate::Abandoned => false,
                };
                let freed = match department {
                    Some(d) => {
                        routing
                            .release_link_hold(d, agent, &hold.hold, routed)
                            .await?
                    }
                    None => {
                        let undo_served = !routed && hold.counted;
                        let after = routing
                            .release_agent_hold(
                                agent,
                                policies.global_limit,
                                &hold.hold,
                                undo_served,
                            )
                            .await?;
                        if let Some(reserved) = after {
                            routing.publish_load(agent, reserved, false).await?;
                        }
                        after.is_some()
                    }
                };
                if freed {
                    match routed {
                        true => repaired.closed += 1,
                        false => repaired.abandoned += 1,
                    }
                }
            }
        }
        // Closes that stopped before freeing the slot: finish them (each
        // release is guarded by its hold, so a finished part is not redone).
        for closed in self.store.assignments().unreleased_before(until).await? {
            if self.release_closed(&closed, &policies).await? {
                repaired.closed += 1;
            }
            // Also when the slot was freed but the load not published.
            if let Some(agent) = closed.agent_id.as_deref()
                && let Some(reserved) = routing.load_of(agent, policies.global_limit).await?
            {
                routing.publish_load(agent, reserved, false).await?;
            }
        }
        if full {
            self.correct_counters(&policies, &mut repaired).await?;
        }
        metrics::record_repairs(repaired.abandoned, repaired.closed, repaired.drifted);
        if repaired.any() {
            // Room appeared: the oldest waiting chats take it now.
            self.drain_all(&policies).await?;
        }
        Ok(repaired)
    }

    /// Counters that differ from their holds (data written before holds
    /// existed, or edited by hand), and links saying an agent with room is
    /// full.
    async fn correct_counters(
        &self,
        policies: &Policies,
        repaired: &mut Repaired,
    ) -> Result<(), Error> {
        let routing = self.store.routing();
        for agent in routing.fix_user_drift().await? {
            repaired.drifted += 1;
            if let Some(reserved) = routing.load_of(&agent, policies.global_limit).await? {
                routing.publish_load(&agent, reserved, false).await?;
            }
        }
        repaired.drifted += routing.fix_link_drift().await?;
        let marked_full = routing.agents_marked_full().await?;
        for (agent, reserved) in routing
            .loads_of(&marked_full, policies.global_limit)
            .await?
        {
            if has_room(reserved.load.open, reserved.limit) {
                routing.publish_load(&agent, reserved, false).await?;
                repaired.drifted += 1;
            }
        }
        Ok(())
    }

    /// The assignments of these holds, after fencing off those a decision
    /// could still be writing.
    async fn fence_and_read(
        &self,
        judged: &[(&HeldSlot, &str, Option<&str>)],
    ) -> Result<HashMap<String, Assignment>, Error> {
        let assignments = self.store.assignments();
        let mut ids: Vec<String> = judged
            .iter()
            .map(|(h, _, _)| h.hold.assignment_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        let read = |found: Vec<Assignment>| -> HashMap<String, Assignment> {
            found.into_iter().map(|a| (a.id.clone(), a)).collect()
        };
        let known = read(assignments.find_many(&ids).await?);
        let mut fenced = false;
        for (hold, agent, department) in judged {
            let assignment = known.get(&hold.hold.assignment_id);
            if hold_fate(&hold.hold, agent, *department, assignment) != HoldFate::Fence {
                continue;
            }
            match assignment {
                None => {
                    assignments
                        .fence(&hold.hold.assignment_id, &hold.hold.visitor_token)
                        .await?;
                }
                Some(a) => {
                    assignments.revoke_lock(&a.id, &hold.hold.attempt).await?;
                }
            }
            fenced = true;
        }
        if !fenced {
            return Ok(known);
        }
        Ok(read(assignments.find_many(&ids).await?))
    }
}
