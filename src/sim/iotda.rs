//! Huawei Cloud IoTDA v5 device certificates (huawei.md §1.1): list (marker paging, descending
//! record ids), show, update status, delete. Up to millions of rows: a row is a function of its
//! index (record id, certificate id, common name, status, dates), only status changes and
//! deletions are stored, and the PEM (hence the fingerprint) is generated when a row is shown.

use super::data::{self, Inventory, compact};
use super::errors::ApiError;
use super::pki::{CertInfo, CertSpec};
use axum::http::StatusCode;
use rcgen::DnType;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use time::Duration;

/// Kinds of device, for believable common names.
const KINDS: [&str; 6] = ["sensor", "meter", "gateway", "camera", "tracker", "lock"];

/// The docs give no error code for a missing device certificate (only the 404 status); this one
/// is the simulator's own.
pub(crate) const NOT_FOUND_CODE: &str = "IOTDA.000404";

/// Mutable part of the IoTDA inventory.
pub(crate) struct IotdaState {
    count: u64,
    record_prefix: u32,
    deleted: HashSet<u64>,
    status: HashMap<u64, bool>,
    /// SHA-256 and SHA-1 fingerprint → index of every certificate generated in this run (for the
    /// list filter).
    fingerprints: HashMap<String, u64>,
}

/// What a request asks the IoTDA state for.
pub(crate) enum IotdaOp {
    List(Vec<(String, String)>),
    Show(String),
    Update(String, Vec<u8>),
    Delete(String),
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(
        400,
        "IOTDA.000006",
        format!("Invalid input data. {message}"),
    )
}

fn not_found() -> ApiError {
    ApiError::new(
        404,
        NOT_FOUND_CODE,
        "The device certificate does not exist.",
    )
}

impl IotdaState {
    pub(crate) fn new(inv: &Inventory) -> IotdaState {
        IotdaState {
            count: inv.counts.iot as u64,
            // Eight hex digits, never starting with 0 or f, so every record id has 24 digits
            // and the default marker (all f) is above them all.
            record_prefix: 0x1000_0000 | (data::mix(inv.seed, "iot-rec", 0) as u32 & 0x0fff_ffff),
            deleted: HashSet::new(),
            status: HashMap::new(),
            fingerprints: HashMap::new(),
        }
    }

    pub(crate) fn live_count(&self) -> usize {
        (self.count as usize).saturating_sub(self.deleted.len())
    }

    fn record_id(&self, i: u64) -> String {
        format!("{:08x}{:016x}", self.record_prefix, i)
    }

    /// `certificate_id`: UUID-shaped, the index in its last group.
    pub(crate) fn certificate_id(inv_seed: u64, i: u64) -> String {
        let h = data::hex_digits(inv_seed, "iot-cert", i, 20);
        let variant = ["8", "9", "a", "b"][(data::mix(inv_seed, "iot-var", i) % 4) as usize];
        format!(
            "{}-{}-4{}-{}{}-{:012x}",
            &h[0..8],
            &h[8..12],
            &h[12..15],
            variant,
            &h[15..18],
            i
        )
    }

    fn index_of(&self, seed: u64, id: &str) -> Option<u64> {
        let last = id.rsplit('-').next()?;
        if last.len() != 12 {
            return None;
        }
        let i = u64::from_str_radix(last, 16).ok()?;
        (i < self.count && !self.deleted.contains(&i) && Self::certificate_id(seed, i) == id)
            .then_some(i)
    }

    fn common_name(seed: u64, i: u64) -> String {
        let kind = KINDS[(data::mix(seed, "iot-kind", i) % KINDS.len() as u64) as usize];
        format!("{kind}-{i:07}")
    }

    fn active(&self, seed: u64, i: u64) -> bool {
        match self.status.get(&i) {
            Some(active) => *active,
            // Row 0 active, row 1 inactive, then ~12% inactive.
            None => i != 1 && (i == 0 || data::mix(seed, "iot-status", i) % 100 >= 12),
        }
    }

    fn spec(seed: u64, anchor: time::OffsetDateTime, i: u64) -> CertSpec {
        let h = data::mix(seed, "iot-dates", i);
        let not_before = anchor - Duration::days((h % 500) as i64 + 20);
        CertSpec {
            subject: vec![
                (DnType::CountryName, "CN".into()),
                (DnType::OrganizationName, "certdesk demo devices".into()),
                (DnType::CommonName, Self::common_name(seed, i)),
            ],
            serial: data::serial(seed, "iot", i),
            not_before,
            not_after: not_before + Duration::days([365, 730, 1095][(h >> 16) as usize % 3]),
            dns_names: Vec::new(),
            is_ca: false,
            client_auth: true,
            server_auth: false,
        }
    }

    /// The certificate of row `i` (generated without holding the state lock).
    pub(crate) fn generate(inv: &Inventory, i: u64) -> Result<Arc<CertInfo>, ApiError> {
        inv.issue_cached(&format!("iot/{i}"), &inv.iot_ca, || {
            Self::spec(inv.seed, inv.anchor, i)
        })
        .map_err(|e| ApiError::new(500, "IOTDA.000500", e.message))
    }

    pub(crate) fn remember(&mut self, i: u64, cert: &CertInfo) {
        self.fingerprints.insert(cert.sha256.clone(), i);
        self.fingerprints.insert(cert.sha1.clone(), i);
    }

    /// Every live certificate as (id, status, expiry), for tests (no certificate is generated).
    pub(crate) fn listing(
        &self,
        seed: u64,
        anchor: time::OffsetDateTime,
    ) -> Vec<(String, String, Option<time::OffsetDateTime>)> {
        (0..self.count)
            .filter(|i| !self.deleted.contains(i))
            .map(|i| {
                (
                    Self::certificate_id(seed, i),
                    status_word(self.active(seed, i)).to_string(),
                    Some(Self::spec(seed, anchor, i).not_after),
                )
            })
            .collect()
    }

    pub(crate) fn status_text(&self, seed: u64, id: &str) -> Option<String> {
        let i = self.index_of(seed, id)?;
        Some(status_word(self.active(seed, i)).to_string())
    }

    /// Decides which rows a list request returns: `(indices, total count)`.
    pub(crate) fn plan_list(
        &self,
        seed: u64,
        query: &[(String, String)],
    ) -> Result<(Vec<u64>, usize), ApiError> {
        let get = |name: &str| {
            query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let limit = match get("limit") {
            None => 10,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=50).contains(&n) => n,
                _ => {
                    return Err(ApiError::new(
                        400,
                        "IOTDA.000017",
                        "Invalid input. The specified parameter 'limit' is out of range.",
                    ));
                }
            },
        };
        let offset = match get("offset") {
            None => 0,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n <= 500 => n,
                _ => return Err(invalid("offset must be an integer from 0 to 500.")),
            },
        };
        // Records with an id below the marker; the default marker is above every record.
        let upper = match get("marker") {
            None => self.count,
            Some(m) => {
                if m.len() != 24 || !m.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid("marker must be 24 hexadecimal characters."));
                }
                let m = m.to_ascii_lowercase();
                let ours = format!("{:08x}", self.record_prefix);
                match m[..8].cmp(&ours) {
                    std::cmp::Ordering::Greater => self.count,
                    std::cmp::Ordering::Less => 0,
                    std::cmp::Ordering::Equal => u64::from_str_radix(&m[8..], 16)
                        .map(|v| v.min(self.count))
                        .unwrap_or(0),
                }
            }
        };
        let common_name = get("common_name").filter(|v| !v.is_empty());
        if common_name.is_some_and(|c| c.chars().count() > 32) {
            return Err(invalid("common_name is longer than 32 characters."));
        }
        let fingerprint = get("fingerprint").filter(|v| !v.is_empty());
        if let Some(f) = fingerprint
            && (!(f.len() == 40 || f.len() == 64) || !f.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(invalid(
                "fingerprint must be 40 or 64 hexadecimal characters.",
            ));
        }

        if let Some(f) = fingerprint {
            // Only certificates generated in this run can be found by fingerprint.
            let hit = self
                .fingerprints
                .get(&f.to_ascii_uppercase())
                .copied()
                .filter(|i| !self.deleted.contains(i))
                .filter(|i| common_name.is_none_or(|c| Self::common_name(seed, *i).starts_with(c)));
            let total = usize::from(hit.is_some());
            let page = hit
                .filter(|i| *i < upper && offset == 0)
                .into_iter()
                .collect();
            return Ok((page, total));
        }

        let matches = |i: u64| {
            !self.deleted.contains(&i)
                && common_name.is_none_or(|c| Self::common_name(seed, i).starts_with(c))
        };
        let total = match common_name {
            None => self.live_count(),
            Some(_) => (0..self.count).filter(|i| matches(*i)).count(),
        };
        let page: Vec<u64> = (0..upper)
            .rev()
            .filter(|i| matches(*i))
            .skip(offset)
            .take(limit)
            .collect();
        Ok((page, total))
    }

    /// The list body for rows whose certificates are already generated.
    pub(crate) fn list_body(
        &self,
        seed: u64,
        rows: &[(u64, Arc<CertInfo>)],
        total: usize,
    ) -> Value {
        let items: Vec<Value> = rows
            .iter()
            .map(|(i, cert)| {
                let mut v = self.item(seed, *i, cert);
                if let Value::Object(m) = &mut v {
                    m.remove("certificate_pem");
                }
                v
            })
            .collect();
        let mut page = json!({"count": total});
        if let Some((last, _)) = rows.last() {
            page["marker"] = Value::String(self.record_id(*last));
        }
        json!({"device_certificates": items, "page": page})
    }

    fn item(&self, seed: u64, i: u64, cert: &CertInfo) -> Value {
        json!({
            "certificate_id": Self::certificate_id(seed, i),
            "common_name": cert.common_name,
            "expiry_date": compact(cert.not_after),
            "fingerprint": cert.sha256,
            "status": status_word(self.active(seed, i)),
            "certificate_pem": cert.pem,
        })
    }

    /// Index of a live certificate id, or 404.
    pub(crate) fn find(&self, seed: u64, id: &str) -> Result<u64, ApiError> {
        self.index_of(seed, id).ok_or_else(not_found)
    }

    /// Show / update answers.
    pub(crate) fn show_body(&self, seed: u64, i: u64, cert: &CertInfo) -> Value {
        self.item(seed, i, cert)
    }

    /// Validates an update body: `{"status": "ACTIVE"|"INACTIVE"}`.
    pub(crate) fn parse_update(body: &[u8]) -> Result<bool, ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| {
            ApiError::new(
                400,
                "IOTDA.000008",
                "Invalid input. Bad request, for more detail, refer to the error message.",
            )
        })?;
        match value.get("status").and_then(Value::as_str) {
            Some("ACTIVE") => Ok(true),
            Some("INACTIVE") => Ok(false),
            _ => Err(invalid("status must be ACTIVE or INACTIVE.")),
        }
    }

    pub(crate) fn set_status(&mut self, i: u64, active: bool) {
        self.status.insert(i, active);
    }

    pub(crate) fn delete(&mut self, i: u64) {
        self.deleted.insert(i);
        self.status.remove(&i);
    }
}

fn status_word(active: bool) -> &'static str {
    if active { "ACTIVE" } else { "INACTIVE" }
}

/// Routes `/v5/iot/{project_id}/device-certificates[/{id}]`; `None` for any other path.
pub(crate) fn route(
    method: &str,
    rest: &str,
    query: Vec<(String, String)>,
    body: &[u8],
) -> Option<IotdaOp> {
    let rest = rest.strip_prefix("device-certificates")?;
    let id = rest.strip_prefix('/').map(|s| s.trim_end_matches('/'));
    match (method, id) {
        ("GET", None) | ("GET", Some("")) => Some(IotdaOp::List(query)),
        ("GET", Some(id)) if !id.contains('/') => Some(IotdaOp::Show(id.to_string())),
        ("PUT", Some(id)) if !id.is_empty() && !id.contains('/') => {
            Some(IotdaOp::Update(id.to_string(), body.to_vec()))
        }
        ("DELETE", Some(id)) if !id.is_empty() && !id.contains('/') => {
            Some(IotdaOp::Delete(id.to_string()))
        }
        _ => None,
    }
}

/// The success status of each operation.
pub(crate) fn success_status(op: &IotdaOp) -> StatusCode {
    match op {
        IotdaOp::Delete(_) => StatusCode::NO_CONTENT,
        _ => StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_ids_encode_their_index() {
        let id = IotdaState::certificate_id(42, 123_456);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert!(id.ends_with("00000001e240"), "{id}");
    }

    #[test]
    fn routes() {
        assert!(matches!(
            route("GET", "device-certificates", vec![], b""),
            Some(IotdaOp::List(_))
        ));
        assert!(matches!(
            route("GET", "device-certificates/abc", vec![], b""),
            Some(IotdaOp::Show(_))
        ));
        assert!(matches!(
            route("DELETE", "device-certificates/abc", vec![], b""),
            Some(IotdaOp::Delete(_))
        ));
        assert!(route("POST", "device-certificates", vec![], b"").is_none());
        assert!(route("GET", "devices", vec![], b"").is_none());
    }

    #[test]
    fn update_bodies() {
        assert!(IotdaState::parse_update(br#"{"status": "ACTIVE"}"#).unwrap());
        assert!(!IotdaState::parse_update(br#"{"status":"INACTIVE"}"#).unwrap());
        assert_eq!(
            IotdaState::parse_update(br#"{"status":"REVOKED"}"#)
                .unwrap_err()
                .code,
            "IOTDA.000006"
        );
        assert_eq!(
            IotdaState::parse_update(b"{").unwrap_err().code,
            "IOTDA.000008"
        );
    }
}
