//! Jittered exponential backoff that honours the server's retry-after.

use rand::Rng;
use std::time::Duration;

/// When and how often to retry a retryable error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay scale of the first retry.
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1` (attempt counts from 1): "full jitter" over an
    /// exponentially growing window, so retries of many items spread out instead of marching in
    /// step; never shorter than what the server asked for.
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
        let policy = RetryPolicy::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let first = policy.delay(1, None, &mut rng);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let tenth = policy.delay(10, None, &mut rng);
        assert!(tenth <= policy.max_delay && tenth >= policy.max_delay / 2);
        let asked = policy.delay(1, Some(Duration::from_secs(3)), &mut rng);
        assert!(asked >= Duration::from_secs(3));
    }
}
