//! Decisions for one department that waited for their turn, taken
//! together: the best links read once, the chats dealt to them in the
//! method's order (`domain::batch`), the takes and the reservations written
//! in one command each. With one decision waiting, it is taken alone, as
//! ever. Each chat keeps its own holds, so everything after the take (the
//! record, a give-back, the repair) is the same as for a decision taken
//! alone.

use super::Distribution;
use crate::domain::assignment::Hold;
use crate::domain::batch::{self, Candidate, Wanted};
use crate::domain::routing::{Method, Pick};
use crate::error::Error;
use crate::store::routing::{DepartmentRules, Share, TakeFilter};

/// One decision waiting for its department's turn: its hold and the
/// agents it must pass over.
pub(super) struct Seat {
    pub hold: Hold,
    pub skip: Vec<String>,
}

impl Seat {
    pub fn new(hold: &Hold, skip: &[String]) -> Seat {
        Seat {
            hold: hold.clone(),
            skip: skip.to_vec(),
        }
    }
}

/// What a batch did for one decision.
pub(super) enum Seated {
    /// Taken and reserved.
    Placed(Pick),
    /// No agent of the department can take it.
    NoAgent,
    /// Not placed by the batch (its agent filled up meanwhile): the
    /// decision tries alone.
    Alone,
}

impl Distribution {
    /// Takes and reserves an agent of the department for this decision,
    /// together with the decisions for it that wait at the same time.
    pub(super) async fn take_in_turn(
        &self,
        department: &DepartmentRules,
        method: Method,
        seat: Seat,
    ) -> Result<Seated, Error> {
        let engine = self.clone();
        let rules = department.clone();
        self.takes
            .submit(&department.id, seat, move |seats| {
                let engine = engine.clone();
                let rules = rules.clone();
                async move { engine.take_batch(&rules, method, seats).await }
            })
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    async fn take_batch(
        &self,
        department: &DepartmentRules,
        method: Method,
        seats: Vec<Seat>,
    ) -> Vec<Result<Seated, Error>> {
        let n = seats.len();
        let outcome = if let [seat] = seats.as_slice() {
            self.take_alone(department, method, &seat.skip, &seat.hold)
                .await
                .map(|p| vec![p.map(Seated::Placed).unwrap_or(Seated::NoAgent)])
        } else {
            self.take_many(department, method, &seats).await
        };
        match outcome {
            Ok(seated) => seated.into_iter().map(Ok).collect(),
            Err(e) => (0..n).map(|_| Err(e.shared())).collect(),
        }
    }

    async fn take_many(
        &self,
        department: &DepartmentRules,
        method: Method,
        seats: &[Seat],
    ) -> Result<Vec<Seated>, Error> {
        let policies = self.policies().await?;
        let routing = self.store.routing();
        let exclude_away = self.settings.routing.exclude_away;
        let filter = TakeFilter {
            exclude_away,
            department_limit: department.max_chats_per_agent,
            skip_agents: &[],
            only_agent: None,
        };
        let most_skipped = seats.iter().map(|s| s.skip.len()).max().unwrap_or(0);
        let candidates = routing
            .candidates(
                &department.id,
                method,
                &filter,
                (seats.len() + most_skipped) as i64,
            )
            .await?;
        if candidates.is_empty() {
            return Ok(seats.iter().map(|_| Seated::NoAgent).collect());
        }
        let wanted: Vec<Wanted> = seats
            .iter()
            .map(|s| Wanted {
                skip: s.skip.clone(),
            })
            .collect();
        let planned = batch::plan(
            method,
            &candidates,
            &wanted,
            department.max_chats_per_agent,
            chrono::Utc::now(),
        );
        let groups = by_candidate(&planned, candidates.len());
        let shares = shares_of(&groups, &candidates, seats);
        if shares.is_empty() {
            return Ok(seats.iter().map(|_| Seated::Alone).collect());
        }
        let taken = routing
            .take_links(&department.id, method, &filter, &shares)
            .await?;
        let kept: Vec<usize> = (0..groups.len()).filter(|g| taken[*g]).collect();
        let to_reserve = shares_of(
            &kept.iter().map(|g| groups[*g].clone()).collect::<Vec<_>>(),
            &candidates,
            seats,
        );
        let reserved = match to_reserve.is_empty() {
            true => Ok(Vec::new()),
            false => {
                routing
                    .reserve_agents(&to_reserve, policies.global_limit, exclude_away)
                    .await
            }
        };
        let reserved = match reserved {
            Ok(r) => r,
            Err(e) => {
                for share in &to_reserve {
                    self.give_back_share(&department.id, share).await;
                }
                return Err(e);
            }
        };
        let mut seated: Vec<Seated> = (0..seats.len()).map(|_| Seated::Alone).collect();
        let mut placed_agents = Vec::new();
        for (share, ok) in to_reserve.iter().zip(&reserved) {
            if !ok {
                self.give_back_share(&department.id, share).await;
                continue;
            }
            placed_agents.push(share.agent_id.to_string());
        }
        for (k, g) in kept.iter().enumerate() {
            if !reserved[k] {
                continue;
            }
            for seat in &groups[*g].1 {
                if let Some((_, pick)) = &planned[*seat] {
                    seated[*seat] = Seated::Placed(pick.clone());
                }
            }
        }
        // The agents' loads after their reservations, published on their
        // links where something reads them (see `publish_if_read`), and
        // their limits for the picks' explanations.
        for (agent, load) in routing
            .loads_of(&placed_agents, policies.global_limit)
            .await?
        {
            self.publish_if_read(&policies, &agent, load, true).await?;
            for s in seated.iter_mut() {
                if let Seated::Placed(p) = s
                    && p.agent_id == agent
                {
                    p.limit = load.limit;
                }
            }
        }
        Ok(seated)
    }

    /// Gives back a share whose agent could not be reserved; a failure is
    /// left to the repair, which finds the holds.
    async fn give_back_share(&self, department_id: &str, share: &Share<'_>) {
        let routing = self.store.routing();
        for hold in &share.holds {
            if let Err(e) = routing
                .untake_link(department_id, share.agent_id, hold)
                .await
            {
                tracing::warn!(error = %crate::error::error_chain_fmt(&e), "giving back a take failed; the repair frees it");
            }
        }
    }
}

/// The seats each candidate takes: (candidate, seats), in candidate order.
fn by_candidate(planned: &[Option<(usize, Pick)>], candidates: usize) -> Vec<(usize, Vec<usize>)> {
    let mut seats_of = vec![Vec::new(); candidates];
    for (seat, p) in planned.iter().enumerate() {
        if let Some((c, _)) = p {
            seats_of[*c].push(seat);
        }
    }
    seats_of
        .into_iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

fn shares_of<'a>(
    groups: &[(usize, Vec<usize>)],
    candidates: &'a [Candidate],
    seats: &'a [Seat],
) -> Vec<Share<'a>> {
    groups
        .iter()
        .map(|(c, taken_by)| Share {
            agent_id: &candidates[*c].pick.agent_id,
            holds: taken_by.iter().map(|s| &seats[*s].hold).collect(),
        })
        .collect()
}

fn stopped() -> Error {
    Error::Unexpected(anyhow::anyhow!("the batch of decisions stopped"))
}
