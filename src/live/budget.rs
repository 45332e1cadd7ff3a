//! A token bucket: `per_second` refilled evenly, holding at most as many.
//! A connection's frames and an address's subscription reads are counted
//! with one each.

use std::time::Instant;

pub(super) struct Budget {
    per_second: f64,
    left: f64,
    at: Instant,
}

impl Budget {
    pub fn new(per_second: u32) -> Budget {
        let per_second = f64::from(per_second.max(1));
        Budget {
            per_second,
            left: per_second,
            at: Instant::now(),
        }
    }

    /// Spends one, if there is one.
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.per_second;
        self.left = (self.left + refill).min(self.per_second);
        self.at = now;
        if self.left < 1.0 {
            return false;
        }
        self.left -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_allows_its_burst_then_refuses_until_it_refills() {
        let mut b = Budget::new(3);
        assert!(b.take() && b.take() && b.take());
        assert!(!b.take());
        b.at -= std::time::Duration::from_millis(400);
        assert!(b.take(), "0.4 s refills one of three per second");
        assert!(!b.take());
    }
}
