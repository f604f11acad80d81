//! The one retry policy: how often a request that failed for a reason waiting can fix (throttled,
//! transient) is sent again, and how long to wait before each attempt — jittered exponential
//! backoff that honours the server's retry-after.
//!
//! Who retries: each request is retried in exactly one place. The transport retries the calls of
//! clients built with a retrying policy (listing, describing, single changes from the window or the
//! CLI); the bulk engine builds its clients with [`RetryPolicy::none`] and retries each item itself,
//! because it journals every attempt and re-reads an item before sending a change again.

use rand::Rng;
use std::time::Duration;

/// When and how often to retry a retryable error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (`1`: never retry).
    pub max_attempts: u32,
    /// Delay scale of the first retry.
    pub base_delay: Duration,
    /// Upper bound of one delay (also of a server-requested wait).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::for_calls()
    }
}

impl RetryPolicy {
    /// Interactive calls (a page, a describe, a button): three attempts within a few seconds, so
    /// a throttled or flaky call recovers without the user waiting long for a failure.
    pub const fn for_calls() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }

    /// Items of a bulk job: more patience, since a job must not leave items failed that a wait
    /// would have fixed.
    pub const fn for_jobs() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(20),
        }
    }

    /// Never retry (the caller retries, or must not).
    pub const fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// Whether attempt `attempt` (counting from 1) may be followed by another.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// Delay before attempt `attempt + 1` (attempt counts from 1): "full jitter" over an
    /// exponentially growing window, so retries of many items spread out instead of marching in
    /// step; never shorter than what the server asked for (up to `max_delay`).
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let jittered = Duration::from_secs_f64(exp.as_secs_f64() * rng.gen_range(0.5..=1.0));
        match retry_after {
            Some(wait) => jittered.max(wait.min(self.max_delay)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn delays_grow_are_capped_and_honour_retry_after() {
        let policy = RetryPolicy::for_jobs();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let first = policy.delay(1, None, &mut rng);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let tenth = policy.delay(10, None, &mut rng);
        assert!(tenth <= policy.max_delay && tenth >= policy.max_delay / 2);
        let asked = policy.delay(1, Some(Duration::from_secs(3)), &mut rng);
        assert!(asked >= Duration::from_secs(3));
        let capped = RetryPolicy::for_calls().delay(1, Some(Duration::from_secs(60)), &mut rng);
        assert_eq!(capped, Duration::from_secs(10));
    }

    #[test]
    fn attempts_are_bounded() {
        assert!(!RetryPolicy::none().allows_another(1));
        let calls = RetryPolicy::for_calls();
        assert!(calls.allows_another(2) && !calls.allows_another(3));
    }
}
