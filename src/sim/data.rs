//! The seeded inventory every service draws from: sizes, the day everything is dated from, the
//! certificate authorities, cheap deterministic hashing for per-row metadata, the date formats the
//! APIs print, and a cache of generated certificates.
//!
//! Rows are functions of (seed, index): nothing per row is generated at start, so a million IoTDA
//! certificates start as fast as forty. A certificate is generated when an API first shows it and
//! is the same bytes every time (deterministic keys and signatures), so the cache is only for speed.

use super::SimSize;
use super::errors::ApiError;
use super::pki::{Authority, CertInfo, CertSpec, EcKey, PkiError};
use rcgen::DnType;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, Time};

/// How many rows each service has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub kms: usize,
    pub pca: usize,
    pub esa_sites: usize,
    pub esa_per_site: usize,
    pub vod: usize,
    pub iot: usize,
    pub cdn: usize,
    pub ssl: usize,
}

impl Counts {
    pub(crate) fn for_size(size: SimSize) -> Counts {
        match size {
            SimSize::Small => Counts {
                kms: 12,
                pca: 30,
                esa_sites: 3,
                esa_per_site: 8,
                vod: 6,
                iot: 40,
                cdn: 8,
                ssl: 8,
            },
            SimSize::Medium => Counts {
                kms: 100,
                pca: 1_000,
                esa_sites: 10,
                esa_per_site: 100,
                vod: 50,
                iot: 5_000,
                cdn: 100,
                ssl: 60,
            },
            SimSize::Large => Counts {
                kms: 500,
                pca: 10_000,
                esa_sites: 20,
                esa_per_site: 500,
                vod: 200,
                iot: 200_000,
                cdn: 500,
                ssl: 300,
            },
            SimSize::Count(n) => Counts {
                kms: (n / 1_000).clamp(12, 1_000),
                pca: (n / 50).clamp(30, 20_000),
                esa_sites: (n / 20_000).clamp(3, 50),
                esa_per_site: (n / 2_000).clamp(8, 1_000),
                vod: (n / 2_000).clamp(6, 500),
                iot: n,
                cdn: (n / 2_000).clamp(8, 1_000),
                ssl: (n / 5_000).clamp(8, 500),
            },
        }
    }
}

/// SplitMix64 of (seed, label, index): fast, well-mixed metadata bits.
pub(crate) fn mix(seed: u64, label: &str, index: u64) -> u64 {
    let mut label_hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        label_hash = (label_hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = seed
        .wrapping_add(label_hash.rotate_left(17))
        .wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d2_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `n` lower-case hex digits derived from (seed, label, index).
pub(crate) fn hex_digits(seed: u64, label: &str, index: u64, n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    let mut round = 0u64;
    while out.len() < n {
        out.push_str(&format!("{:016x}", mix(seed, label, index ^ (round << 48))));
        round += 1;
    }
    out.truncate(n);
    out
}

/// A UUID-shaped id (version 4 layout) derived from (seed, label, index).
pub(crate) fn uuid_like(seed: u64, label: &str, index: u64) -> String {
    let h = hex_digits(seed, label, index, 32);
    let variant = ["8", "9", "a", "b"][(mix(seed, label, index) % 4) as usize];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        variant,
        &h[17..20],
        &h[20..32]
    )
}

/// A positive serial number of 16 bytes.
pub(crate) fn serial(seed: u64, label: &str, index: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&mix(seed, label, index).to_be_bytes());
    bytes.extend_from_slice(&mix(seed, label, index ^ 0x5555).to_be_bytes());
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    bytes
}

/// `yyyy-MM-ddTHH:mm:ssZ`.
pub(crate) fn iso(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt).unwrap_or_default()
}

/// `yyyy-MM-dd HH:mm:ss` (ESA).
pub(crate) fn spaced(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&fmt).unwrap_or_default()
}

/// `yyyyMMddTHHmmssZ` (IoTDA).
pub(crate) fn compact(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(&fmt).unwrap_or_default()
}

/// UNIX milliseconds (cas).
pub(crate) fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A certificate-authority subject.
pub(crate) fn ca_spec(cn: &str, org: &str, seed: u64, anchor: OffsetDateTime) -> CertSpec {
    CertSpec {
        subject: vec![
            (DnType::CountryName, "CN".into()),
            (DnType::OrganizationName, org.into()),
            (DnType::CommonName, cn.into()),
        ],
        serial: serial(seed, cn, 0),
        not_before: anchor - Duration::days(3 * 365),
        not_after: anchor + Duration::days(10 * 365),
        dns_names: Vec::new(),
        is_ca: true,
        client_auth: false,
        server_auth: false,
    }
}

/// Whose inventory and where: the account, the region it lives in, and the label that keeps its
/// domain names apart from every other account's and region's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The 16-digit Alibaba account id (ARNs, `UserId`).
    pub account_id: String,
    /// The region the inventory lives in.
    pub region: String,
    /// Prepended to the demo domains (`""` for the first account's home region, so its names are
    /// the ones the simulator always had; `"cn-shanghai.a2."` elsewhere).
    pub domain_tag: String,
}

/// The immutable part of one account's inventory in one region: sizes, dates, CAs and the
/// certificate cache.
pub(crate) struct Inventory {
    pub seed: u64,
    pub place: Place,
    /// Midnight UTC of the day the simulator started (or of `SimOptions::anchor_day`); every
    /// seeded date is relative to it.
    pub anchor: OffsetDateTime,
    pub counts: Counts,
    pub kms_ca: Authority,
    pub pca_root: Authority,
    pub pca_sub: Authority,
    pub esa_ca: Authority,
    pub vod_ca: Authority,
    pub iot_ca: Authority,
    cache: Mutex<HashMap<String, Arc<CertInfo>>>,
}

/// Generated certificates kept at most; beyond it the cache starts over (regeneration is exact).
const CACHE_LIMIT: usize = 50_000;

impl Inventory {
    /// `anchor_day`: see [`super::SimOptions::anchor_day`] (`None`: today).
    pub(crate) fn new(
        seed: u64,
        size: SimSize,
        place: Place,
        anchor_day: Option<time::Date>,
    ) -> Result<Inventory, PkiError> {
        let anchor = match anchor_day {
            Some(day) => day.midnight().assume_utc(),
            None => OffsetDateTime::now_utc().replace_time(Time::MIDNIGHT),
        };
        let org = "certdesk demo";
        let ca =
            |cn: &str| Authority::root(&ca_spec(cn, org, seed, anchor), &EcKey::derive(seed, cn));
        let pca_root = ca("certdesk Demo Private Root CA")?;
        let sub_cn = "certdesk Demo Private Issuing CA";
        let pca_sub = pca_root.subordinate(
            &ca_spec(sub_cn, org, seed, anchor),
            &EcKey::derive(seed, sub_cn),
        )?;
        Ok(Inventory {
            seed,
            place,
            anchor,
            counts: Counts::for_size(size),
            kms_ca: ca("certdesk Demo KMS CA")?,
            pca_root,
            pca_sub,
            esa_ca: ca("ESA Client Certificate CA (certdesk demo)")?,
            vod_ca: ca("certdesk Demo TLS CA")?,
            iot_ca: ca("certdesk Demo IoT Device CA")?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The certificate cached under `key`, generated with `issuer` from `spec` and the key derived
    /// from `key` when missing.
    pub(crate) fn issue_cached(
        &self,
        key: &str,
        issuer: &Authority,
        spec: impl FnOnce() -> CertSpec,
    ) -> Result<Arc<CertInfo>, ApiError> {
        if let Some(hit) = self.lock_cache().get(key) {
            return Ok(Arc::clone(hit));
        }
        let cert = issuer
            .issue(&spec(), &EcKey::derive(self.seed, key))
            .map(Arc::new)
            .map_err(|e| {
                ApiError::new(500, "InternalError", format!("certificate generation: {e}"))
            })?;
        let mut cache = self.lock_cache();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key.to_string(), Arc::clone(&cert));
        Ok(cert)
    }

    /// `base` (e.g. `certdesk-demo.com`) under this inventory's domain tag.
    pub(crate) fn domain(&self, base: &str) -> String {
        format!("{}{base}", self.place.domain_tag)
    }

    /// The private key behind a seeded certificate (same derivation as [`Self::issue_cached`]).
    pub(crate) fn key_for(&self, key: &str) -> EcKey {
        EcKey::derive(self.seed, key)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<CertInfo>>> {
        match self.cache.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Parameters for pagination: a positive integer or the default; anything else is invalid.
pub(crate) fn page_param(
    params: &std::collections::BTreeMap<String, String>,
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_parameter(
                name,
                &format!(
                    "It must be an integer from {} to {}.",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

/// Alibaba parameters after authentication.
pub(crate) type Params = std::collections::BTreeMap<String, String>;

/// A required, non-empty parameter, or 400 `MissingParameter`.
pub(crate) fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(|v| v.as_str())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::missing_parameter(name))
}

/// An optional parameter; empty counts as absent.
pub(crate) fn optional<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(|v| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// The object inside a `json!({...})` literal.
pub(crate) fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// `ceil(total / size)`.
pub(crate) fn page_count(total: usize, size: usize) -> usize {
    if size == 0 { 0 } else { total.div_ceil(size) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_shaped() {
        assert_eq!(uuid_like(1, "x", 5), uuid_like(1, "x", 5));
        assert_ne!(uuid_like(1, "x", 5), uuid_like(1, "x", 6));
        assert_ne!(uuid_like(1, "x", 5), uuid_like(2, "x", 5));
        let id = uuid_like(42, "kms", 0);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_eq!(hex_digits(1, "a", 2, 40).len(), 40);
        assert!(serial(1, "s", 1)[0] & 0x80 == 0);
    }

    #[test]
    fn sizes_scale() {
        assert_eq!(Counts::for_size(SimSize::Count(1_000_000)).iot, 1_000_000);
        assert_eq!(Counts::for_size(SimSize::Count(10)).kms, 12);
        assert!(Counts::for_size(SimSize::Small).pca >= 20);
    }

    #[test]
    fn formats() {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(iso(t), "2023-11-14T22:13:20Z");
        assert_eq!(spaced(t), "2023-11-14 22:13:20");
        assert_eq!(compact(t), "20231114T221320Z");
        assert_eq!(millis(t), 1_700_000_000_000);
    }
}
