//! Fault injection: a seeded RNG decides, per request and before anything else happens, whether
//! the request gets a fault and which one. Because it runs first, a faulted request never changes
//! state (a real cloud may apply a change and then fail; the simulator documents the simpler rule).
//! Knows nothing about HTTP: the server turns a [`Fault`] into a response or a dropped connection.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// HTTP 500 `InternalError`.
    InternalError,
    /// HTTP 503 `ServiceUnavailable`.
    ServiceUnavailable,
    /// The connection is dropped (with a TCP reset) without any response.
    ConnectionReset,
    /// No answer for longer than any client timeout, then 503.
    Delay,
}

/// Seeded fault dice.
pub(crate) struct FaultInjector {
    rate: f64,
    rng: Mutex<ChaCha8Rng>,
}

impl FaultInjector {
    pub(crate) fn new(rate: f64, seed: u64) -> FaultInjector {
        FaultInjector {
            rate,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0xfa17_fa17_fa17_fa17)),
        }
    }

    /// The fault for the next request, if any.
    pub(crate) fn roll(&self) -> Option<Fault> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut rng = match self.rng.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if rng.r#gen::<f64>() >= self.rate {
            return None;
        }
        Some(match rng.gen_range(0..4) {
            0 => Fault::InternalError,
            1 => Fault::ServiceUnavailable,
            2 => Fault::ConnectionReset,
            _ => Fault::Delay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_zero_never_faults_and_one_always_does() {
        let none = FaultInjector::new(0.0, 1);
        assert!((0..1000).all(|_| none.roll().is_none()));
        let all = FaultInjector::new(1.0, 1);
        let faults: Vec<Fault> = (0..200).filter_map(|_| all.roll()).collect();
        assert_eq!(faults.len(), 200);
        for kind in [
            Fault::InternalError,
            Fault::ServiceUnavailable,
            Fault::ConnectionReset,
            Fault::Delay,
        ] {
            assert!(faults.contains(&kind), "{kind:?} never chosen");
        }
    }

    #[test]
    fn same_seed_same_faults() {
        let a = FaultInjector::new(0.3, 9);
        let b = FaultInjector::new(0.3, 9);
        let sa: Vec<_> = (0..100).map(|_| a.roll()).collect();
        let sb: Vec<_> = (0..100).map(|_| b.roll()).collect();
        assert_eq!(sa, sb);
        let hits = sa.iter().filter(|f| f.is_some()).count();
        assert!((10..60).contains(&hits), "{hits}");
    }
}
