//! A job's own request rate, fed by the service's answers: a token bucket (GCRA) whose rate falls
//! multiplicatively when the service throttles (and pauses every sender for the retry-after the
//! service asked for) and climbs back additively while requests go through — AIMD, like TCP's
//! congestion control. Started at the configured rate (the published limit, a profile's or the
//! user's), it never goes above it; started unlimited, it limits itself from the first throttled
//! answer on. Knows nothing of clouds, the journal or the UI.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Factor applied to the rate at a throttled answer.
const DECREASE: f64 = 0.7;
/// Throttled answers within this long after a decrease are the same congestion (requests that were
/// already on their way): one decrease per episode, not one per answer.
const DECREASE_HOLD: Duration = Duration::from_millis(500);
/// No increase for this long after a decrease: let the service's bucket refill first.
const INCREASE_HOLD: Duration = Duration::from_secs(1);
/// The rate never falls below this (one request every five seconds).
const FLOOR: f64 = 0.2;

struct State {
    /// Requests per second now; `None`: unlimited.
    rate: Option<f64>,
    /// GCRA's theoretical arrival time of the next request.
    tat: Instant,
    /// Nobody sends before this (the service's retry-after).
    paused_until: Option<Instant>,
    /// Bumped whenever the rate falls or a pause starts: a reservation of an older epoch is
    /// re-made at the new rate.
    epoch: u64,
    last_decrease: Option<Instant>,
    throttled: u32,
    /// Requests let through, and since when (the rate an unlimited job had when first throttled).
    granted: u64,
    since: Instant,
}

/// A rate several jobs draw from: the jobs of one account in a job that spans accounts and
/// regions. A service's limits are per account (its regions draw from the same allowance, as far
/// as the contracts say), so the jobs of one account's regions share one limiter, and a throttled
/// answer in one region slows all of them down.
#[derive(Clone)]
pub struct SharedRate(pub(crate) Arc<AdaptiveRate>);

impl SharedRate {
    /// A limiter that starts at `qps` requests per second (`None`: unlimited until throttled).
    pub fn new(qps: Option<std::num::NonZeroU32>) -> SharedRate {
        SharedRate(Arc::new(AdaptiveRate::new(qps.map(|q| f64::from(q.get())))))
    }
}

impl std::fmt::Debug for SharedRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedRate")
            .field(&self.0.current())
            .finish()
    }
}

/// The adaptive limiter of one job (or of the jobs of one account, see [`SharedRate`]).
pub(crate) struct AdaptiveRate {
    ceiling: Option<f64>,
    state: Mutex<State>,
}

impl AdaptiveRate {
    /// Starts at `qps` requests per second (`None`: unlimited until throttled), never above it.
    pub(crate) fn new(qps: Option<f64>) -> AdaptiveRate {
        let now = Instant::now();
        AdaptiveRate {
            ceiling: qps,
            state: Mutex::new(State {
                rate: qps,
                tat: now,
                paused_until: None,
                epoch: 0,
                last_decrease: None,
                throttled: 0,
                granted: 0,
                since: now,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until a request may be sent.
    pub(crate) async fn until_ready(&self) {
        loop {
            let (slot, epoch) = {
                let mut s = self.lock();
                let now = Instant::now();
                if let Some(paused) = s.paused_until
                    && paused > now
                {
                    (paused, None)
                } else {
                    match s.rate {
                        None => {
                            s.granted += 1;
                            return;
                        }
                        Some(rate) => {
                            // A burst of a tenth of a second's worth lets the job make up for a
                            // short stall without the average ever exceeding the rate.
                            let interval = Duration::from_secs_f64(1.0 / rate);
                            let burst = (rate / 10.0).ceil().max(1.0) - 1.0;
                            let tolerance = interval.mul_f64(burst);
                            let tat = s.tat.max(now);
                            let slot = (tat.checked_sub(tolerance).unwrap_or(now)).max(now);
                            s.tat = tat + interval;
                            s.granted += 1;
                            if slot <= now {
                                return;
                            }
                            (slot, Some(s.epoch))
                        }
                    }
                }
            };
            tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
            match epoch {
                // Reserved at a rate that still holds, and no pause began meanwhile.
                Some(e) if self.lock().epoch == e => return,
                // Re-reserve at the new rate (the old reservation is given back implicitly:
                // `tat` was reset when the epoch changed).
                Some(_) => {}
                None => {}
            }
        }
    }

    /// The service throttled a request: slow down (once per congestion episode) and pause every
    /// sender for `retry_after` when the service said how long.
    pub(crate) fn throttled(&self, retry_after: Option<Duration>) {
        let mut s = self.lock();
        let now = Instant::now();
        s.throttled += 1;
        let mut changed = false;
        if let Some(wait) = retry_after.filter(|w| !w.is_zero()) {
            let until = now + wait.min(Duration::from_secs(60));
            if s.paused_until.is_none_or(|p| p < until) {
                s.paused_until = Some(until);
                changed = true;
            }
        }
        let recent = s
            .last_decrease
            .is_some_and(|at| now.duration_since(at) < DECREASE_HOLD);
        if !recent {
            let current = match s.rate {
                Some(rate) => rate,
                None => {
                    // Unlimited until now: start from the rate the job actually reached.
                    let secs = now.duration_since(s.since).as_secs_f64().max(0.1);
                    (s.granted as f64 / secs).max(1.0)
                }
            };
            s.rate = Some((current * DECREASE).max(FLOOR));
            s.last_decrease = Some(now);
            changed = true;
        }
        if changed {
            s.epoch += 1;
            s.tat = s.paused_until.map_or(now, |p| p.max(now));
        }
    }

    /// A request went through: raise the rate a little (about 10 % of it per second of successes),
    /// up to the configured rate.
    pub(crate) fn succeeded(&self) {
        let mut s = self.lock();
        let Some(rate) = s.rate else {
            return;
        };
        if s.last_decrease
            .is_some_and(|at| at.elapsed() < INCREASE_HOLD)
        {
            return;
        }
        // +max(0.5, rate/10) per second, spread over the `rate` successes of a second.
        let step = (rate / 10.0).max(0.5) / rate;
        let raised = rate + step;
        s.rate = Some(match self.ceiling {
            Some(ceiling) => raised.min(ceiling),
            None => raised,
        });
    }

    /// Throttled answers so far.
    pub(crate) fn throttled_count(&self) -> u32 {
        self.lock().throttled
    }

    /// The rate the job allows itself now (`None`: unlimited).
    pub(crate) fn current(&self) -> Option<f64> {
        self.lock().rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttling_lowers_the_rate_once_per_episode_and_successes_raise_it_to_the_ceiling() {
        let rate = AdaptiveRate::new(Some(100.0));
        rate.throttled(None);
        rate.throttled(None);
        assert_eq!(rate.throttled_count(), 2);
        let after = rate.current().unwrap();
        assert!(
            (after - 70.0).abs() < 1e-9,
            "one decrease per episode: {after}"
        );
        // Right after a decrease nothing raises it.
        rate.succeeded();
        assert_eq!(rate.current(), Some(after));
        {
            let mut s = rate.lock();
            s.last_decrease = Some(Instant::now() - Duration::from_secs(2));
        }
        for _ in 0..10_000 {
            rate.succeeded();
        }
        assert_eq!(
            rate.current(),
            Some(100.0),
            "never above the configured rate"
        );
        let unlimited = AdaptiveRate::new(None);
        for _ in 0..50 {
            unlimited.until_ready().await;
        }
        unlimited.throttled(None);
        assert!(
            unlimited.current().is_some(),
            "limits itself once throttled"
        );
    }

    #[tokio::test]
    async fn retry_after_pauses_every_sender() {
        let rate = AdaptiveRate::new(Some(1000.0));
        rate.throttled(Some(Duration::from_millis(150)));
        let started = Instant::now();
        rate.until_ready().await;
        assert!(
            started.elapsed() >= Duration::from_millis(140),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn the_rate_is_kept() {
        let rate = AdaptiveRate::new(Some(200.0));
        let started = Instant::now();
        for _ in 0..60 {
            rate.until_ready().await;
        }
        // 60 at 200/s with a burst of 20: at least 40 intervals of 5 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(195),
            "{:?}",
            started.elapsed()
        );
    }
}
