//! Several decisions for one department planned together.
//!
//! Under load, decisions for one department that arrive while another batch
//! of them is at the database wait and are then taken together: the best
//! links are read once, the chats are dealt to them here in the method's
//! order (each chat bumps its agent as the take would), and the takes and
//! reservations are written in one command each. The plan gives every chat
//! the agent that the same decisions made one after another would give it.

use super::routing::{Method, Pick};

/// A link that may take chats, as read before the batch.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub pick: Pick,
    /// Open chats on this link (what the department limit counts).
    pub department_open: i64,
}

/// One chat of the batch: the agents it must pass over.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub skip: Vec<String>,
}

/// Which candidate each chat goes to (by index), with the pick as it
/// describes the agent just before that chat; `None` where no candidate
/// has room (the chat is then decided alone).
pub fn plan(
    method: Method,
    candidates: &[Candidate],
    wanted: &[Wanted],
    department_limit: Option<u32>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Option<(usize, Pick)>> {
    let mut taken = vec![0i64; candidates.len()];
    wanted
        .iter()
        .map(|w| {
            let best = candidates
                .iter()
                .enumerate()
                .filter(|(i, c)| {
                    let t = taken[*i];
                    !w.skip.contains(&c.pick.agent_id)
                        && department_limit.is_none_or(|l| c.department_open + t < i64::from(l))
                        && c.pick
                            .limit
                            .is_none_or(|l| c.pick.open_before + t < i64::from(l))
                })
                .min_by(|(i, a), (j, b)| {
                    rank(method, a, taken[*i])
                        .partial_cmp(&rank(method, b, taken[*j]))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .map(|(i, _)| i)?;
            let before = bumped(&candidates[best].pick, taken[best], now);
            taken[best] += 1;
            Some((best, before))
        })
        .collect()
}

/// The pick as it stands after `t` earlier chats of this batch.
fn bumped(pick: &Pick, t: i64, now: chrono::DateTime<chrono::Utc>) -> Pick {
    Pick {
        count_before: pick.count_before + t,
        open_before: pick.open_before + t,
        last_assigned: if t > 0 { Some(now) } else { pick.last_assigned },
        ..pick.clone()
    }
}

/// The method's ranking of a candidate after `t` chats of this batch: the
/// fields of [`Method::ranking`], in its order (lower first; a link never
/// routed to sorts first, one routed to in this batch last).
fn rank(method: Method, c: &Candidate, t: i64) -> (f64, f64, &str) {
    let p = &c.pick;
    let last = if t > 0 {
        f64::INFINITY
    } else {
        p.last_assigned
            .map(|at| at.timestamp_millis() as f64)
            .unwrap_or(f64::NEG_INFINITY)
    };
    let open = (p.open_before + t) as f64;
    match method {
        Method::LeastServed => ((p.count_before + t) as f64, p.order as f64, &p.username),
        Method::LoadBalancing => (open, last, &p.username),
        Method::RoundRobin => (last, p.order as f64, &p.username),
        Method::CapabilityWeighted => {
            let ratio = match p.limit {
                Some(l) if l > 0 => open / f64::from(l),
                _ => 0.0,
            };
            (ratio, last, &p.username)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str, count: i64, open: i64, limit: Option<u32>) -> Candidate {
        Candidate {
            pick: Pick {
                agent_id: name.to_string(),
                username: name.to_string(),
                count_before: count,
                order: 0,
                open_before: open,
                limit,
                last_assigned: None,
            },
            department_open: open,
        }
    }

    fn names(planned: &[Option<(usize, Pick)>]) -> Vec<String> {
        planned
            .iter()
            .map(|p| {
                p.as_ref()
                    .map(|(_, p)| p.username.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn least_served_deals_as_one_decision_after_another_would() {
        let c = [candidate("a", 0, 0, None), candidate("b", 2, 0, None)];
        let planned = plan(
            Method::LeastServed,
            &c,
            &vec![Wanted::default(); 4],
            None,
            chrono::Utc::now(),
        );
        // a serves until its count reaches b's; then a tie goes by username.
        assert_eq!(names(&planned), ["a", "a", "a", "b"]);
        let counts: Vec<i64> = planned
            .iter()
            .map(|p| p.as_ref().unwrap().1.count_before)
            .collect();
        assert_eq!(counts, [0, 1, 2, 2]);
    }

    #[test]
    fn limits_and_skips_are_kept_and_the_rest_is_left_alone() {
        let c = [candidate("a", 0, 1, Some(2)), candidate("b", 5, 0, None)];
        let wanted = [
            Wanted::default(),
            Wanted {
                skip: vec!["b".into()],
            },
            Wanted::default(),
        ];
        let planned = plan(
            Method::LeastServed,
            &c,
            &wanted,
            Some(3),
            chrono::Utc::now(),
        );
        // a has one slot left under its own limit; the second chat may not
        // go to b, so nothing is left for it; the third goes to b.
        assert_eq!(names(&planned), ["a", "", "b"]);
    }

    #[test]
    fn round_robin_and_load_balancing_move_a_routed_agent_to_the_back() {
        let c = [candidate("a", 0, 0, None), candidate("b", 0, 0, None)];
        let w = vec![Wanted::default(); 3];
        let now = chrono::Utc::now();
        assert_eq!(
            names(&plan(Method::RoundRobin, &c, &w, None, now)),
            ["a", "b", "a"]
        );
        assert_eq!(
            names(&plan(Method::LoadBalancing, &c, &w, None, now)),
            ["a", "b", "a"]
        );
    }
}
