//! Rate limits shared by every instance.
//!
//! Rate limits are counted in the shared database (`store::rate_limits`),
//! so N instances behind a balancer allow the configured rate, not N times
//! it; a limited request costs one database round trip.

use crate::config::RateLimitSettings;
use crate::error::Error;
use crate::store::Store;

/// A per-key limit of `n` requests a minute (a burst of `n`, refilled
/// evenly), shared by every instance. Zero means no limit.
pub struct SharedLimiter {
    name: &'static str,
    per_minute: u32,
}

impl SharedLimiter {
    pub fn per_minute(name: &'static str, per_minute: u32) -> SharedLimiter {
        SharedLimiter { name, per_minute }
    }

    /// Counts one request for `key`: `Error::TooManyRequests` (429 with
    /// `Retry-After`) once the key is over its limit.
    pub async fn check(&self, store: &Store, key: &str) -> Result<(), Error> {
        if self.per_minute == 0 {
            return Ok(());
        }
        match store
            .rate_limits()
            .hit(self.name, key, self.per_minute)
            .await?
        {
            None => Ok(()),
            Some(wait_ms) => Err(Error::TooManyRequests {
                retry_after_seconds: wait_ms.div_ceil(1000).max(1),
            }),
        }
    }
}

/// The limiters, held in [`AppState`].
pub struct Limits {
    /// Login attempts per client address and username.
    pub login: SharedLimiter,
    /// Public routing calls (`GET /api/v1/livechat/agent.next/{token}`)
    /// per client address.
    pub agent_next: SharedLimiter,
}

impl Limits {
    pub fn new(settings: &RateLimitSettings) -> Limits {
        Limits {
            login: SharedLimiter::per_minute("login", settings.login_per_minute),
            agent_next: SharedLimiter::per_minute("agent.next", settings.agent_next_per_minute),
        }
    }
}
