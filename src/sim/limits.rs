//! Per-account, per-region, per-API rate limits as published (cas client-certificate APIs 10 QPS
//! per user, VOD domain-certificate APIs 30 QPS; CDN's SetCdnDomainSSLCertificate, whose limit is
//! not documented, as its VOD sibling), with a generous default for the others. Limits count per
//! account (flow control is per Alibaba account / Huawei account, whichever key or temporary
//! credential signs) and per region (each region has its own gateway). GCRA via `governor`;
//! bursts up to one second's quota are allowed, as a token bucket would. Knows nothing about how
//! a refusal is worded (the server answers like each gateway).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::time::Duration;

/// Which published limit applies to an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitClass {
    Default,
    CasClientCertificate,
    VodSsl,
    CdnSsl,
    Iotda,
}

/// The simulator's rate limiters.
pub(crate) struct Limits {
    enabled: bool,
    default: DefaultKeyedRateLimiter<String>,
    cas: DefaultKeyedRateLimiter<String>,
    vod: DefaultKeyedRateLimiter<String>,
    cdn: DefaultKeyedRateLimiter<String>,
    iotda: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn limiter(qps: u32) -> DefaultKeyedRateLimiter<String> {
    let qps = NonZeroU32::new(qps).unwrap_or(NonZeroU32::MIN);
    DefaultKeyedRateLimiter::keyed(Quota::per_second(qps))
}

impl Limits {
    pub(crate) fn new(enabled: bool, tuning: &super::SimTuning) -> Limits {
        Limits {
            enabled,
            default: limiter(tuning.default_qps),
            cas: limiter(tuning.cas_client_certificate_qps),
            vod: limiter(tuning.vod_ssl_qps),
            cdn: limiter(tuning.cdn_ssl_qps),
            iotda: limiter(tuning.iotda_qps),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` when `user` (an account and region, e.g. `1234567890123456/cn-hangzhou`) may call
    /// `api` now; otherwise how long until it may.
    pub(crate) fn check(&self, class: LimitClass, user: &str, api: &str) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let limiter = match class {
            LimitClass::Default => &self.default,
            LimitClass::CasClientCertificate => &self.cas,
            LimitClass::VodSsl => &self.vod,
            LimitClass::CdnSsl => &self.cdn,
            LimitClass::Iotda => &self.iotda,
        };
        limiter
            .check_key(&format!("{user}/{api}"))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_allows_ten_per_second_per_user_and_api() {
        let limits = Limits::new(true, &super::super::SimTuning::default());
        let allowed = (0..15)
            .filter(|_| {
                limits
                    .check(
                        LimitClass::CasClientCertificate,
                        "u",
                        "ListClientCertificate",
                    )
                    .is_ok()
            })
            .count();
        assert_eq!(allowed, 10);
        assert!(
            limits
                .check(
                    LimitClass::CasClientCertificate,
                    "other",
                    "ListClientCertificate"
                )
                .is_ok()
        );
        let wait = limits
            .check(
                LimitClass::CasClientCertificate,
                "u",
                "ListClientCertificate",
            )
            .unwrap_err();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
    }

    #[test]
    fn disabled_limits_allow_everything() {
        let limits = Limits::new(false, &super::super::SimTuning::default());
        assert!((0..1000).all(|_| limits.check(LimitClass::Iotda, "u", "x").is_ok()));
    }
}
