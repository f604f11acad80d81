//! Verifies signed requests exactly as the gateways do, by recomputing the signature with the very
//! functions the clients sign with (`crate::signing`): ACS3-HMAC-SHA256 and ACS v1 for Alibaba,
//! SDK-HMAC-SHA256 and V11-HMAC-SHA256 for Huawei. Also the clock window (15 minutes) and the
//! Alibaba nonce memory (15 minutes). Knows nothing about the services behind the gateway.
//!
//! Wire-format tolerance (what the official SDKs send): Alibaba queries and form bodies are decoded
//! with `+` as space (the Python SDK sends `+` and signs `%20`) and re-canonicalised; Huawei
//! queries are decoded with `+` kept literal (the Huawei SDK sends the canonical string verbatim).

use super::errors::ApiError;
use crate::credentials::Secret;
use crate::signing::{acs1, acs3, huawei, pct_decode, sha256_hex, signatures_equal};
use axum::http::HeaderMap;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::macros::format_description;

/// Maximum distance between the request's clock and ours (both clouds document 15 minutes).
pub(crate) const CLOCK_WINDOW: time::Duration = time::Duration::minutes(15);
/// How long an Alibaba signature nonce stays used.
pub(crate) const NONCE_MEMORY: Duration = Duration::from_secs(15 * 60);

/// The request as it arrived, before anything is decoded.
#[derive(Debug, Clone)]
pub(crate) struct WireRequest {
    pub method: String,
    /// Path exactly as sent (percent-encoded).
    pub path: String,
    /// Query exactly as sent, without `?` (may be empty).
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: axum::body::Bytes,
}

impl WireRequest {
    /// Every value of a header joined by `,` (how both signers canonicalise repeats).
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let mut values = self
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok());
        // Every request reads a dozen headers, nearly all single-valued: no Vec, one String.
        let mut joined = values.next()?.to_string();
        for value in values {
            joined.push(',');
            joined.push_str(value);
        }
        Some(joined)
    }

    /// The `Host` header (what the client signed), for error bodies.
    pub(crate) fn host(&self) -> String {
        self.header("host").unwrap_or_default()
    }
}

/// Splits `a=b&c=d` and decodes names and values.
pub(crate) fn parse_pairs(raw: &str, plus_is_space: bool) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
            (
                pct_decode(name, plus_is_space),
                pct_decode(value, plus_is_space),
            )
        })
        .collect()
}

/// The role session behind temporary credentials (what GetCallerIdentity reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleSession {
    /// `acs:ram::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// The role's id.
    pub role_id: String,
    /// `RoleSessionName`.
    pub session: String,
}

/// One Alibaba AccessKey the simulator accepts.
#[derive(Debug, Clone)]
pub(crate) struct AlibabaKey {
    pub id: String,
    pub secret: Secret,
    /// STS keys require this `SecurityToken` / `x-acs-security-token`.
    pub sts_token: Option<Secret>,
    /// The account the key acts in (temporary credentials: the role's account), an index.
    pub account: usize,
    /// Temporary credentials are refused from this instant on.
    pub expires: Option<OffsetDateTime>,
    /// The role session of temporary credentials.
    pub session: Option<std::sync::Arc<RoleSession>>,
}

/// One Huawei AK/SK pair the simulator accepts.
#[derive(Debug, Clone)]
pub(crate) struct HuaweiKey {
    pub ak: String,
    pub sk: Secret,
    /// The account the key belongs to, an index.
    pub account: usize,
}

/// An authenticated Alibaba RPC call.
#[derive(Debug, Clone)]
pub(crate) struct AlibabaCall {
    /// The key that signed it.
    pub key: AlibabaKey,
    pub action: String,
    pub version: String,
    /// Query and form parameters, decoded (form wins on a clash).
    pub params: BTreeMap<String, String>,
}

/// Action and version, before authentication (for routing errors and the error's product).
pub(crate) fn alibaba_action_version(req: &WireRequest) -> (Option<String>, Option<String>) {
    if req.headers.contains_key("x-acs-action") || req.headers.contains_key("authorization") {
        (req.header("x-acs-action"), req.header("x-acs-version"))
    } else {
        let params = alibaba_params(req);
        (
            params.get("Action").cloned(),
            params.get("Version").cloned(),
        )
    }
}

fn is_form(req: &WireRequest) -> bool {
    req.header("content-type")
        .map(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

/// Decoded name/value pairs.
type Pairs = Vec<(String, String)>;

fn alibaba_query_and_form(req: &WireRequest) -> (Pairs, Pairs) {
    let query = parse_pairs(&req.raw_query, true);
    let form = if is_form(req) {
        parse_pairs(&String::from_utf8_lossy(&req.body), true)
    } else {
        Vec::new()
    };
    (query, form)
}

fn alibaba_params(req: &WireRequest) -> BTreeMap<String, String> {
    let (query, form) = alibaba_query_and_form(req);
    query.into_iter().chain(form).collect()
}

fn incomplete_signature() -> ApiError {
    ApiError::new(
        400,
        "IncompleteSignature",
        "The request signature does not conform to Aliyun standards.",
    )
}

fn illegal_timestamp(name: &str) -> ApiError {
    ApiError::new(
        400,
        "IllegalTimestamp",
        format!(
            "The input parameter \"{name}\" that is mandatory for processing this request is not supplied or is not within 15 minutes of the server time."
        ),
    )
}

fn signature_mismatch(string_to_sign: &str) -> ApiError {
    ApiError::new(
        403,
        "SignatureDoesNotMatch",
        format!(
            "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
        ),
    )
}

/// Parses `YYYY-MM-DDThh:mm:ssZ` (also tolerates fractional seconds / offsets via RFC 3339).
fn parse_alibaba_time(value: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(value, &fmt)
        .map(|t| t.assume_utc())
        .ok()
        .or_else(|| {
            OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).ok()
        })
}

/// Parses Huawei's `YYYYMMDDThhmmssZ`.
fn parse_sdk_date(value: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(value, &fmt)
        .map(|t| t.assume_utc())
        .ok()
}

fn within_window(t: OffsetDateTime, now: OffsetDateTime) -> bool {
    (t - now).abs() <= CLOCK_WINDOW
}

/// Remembers Alibaba signature nonces per AccessKey for [`NONCE_MEMORY`].
#[derive(Debug, Default)]
pub(crate) struct NonceStore {
    inner: Mutex<UsedNonces>,
}

/// The nonces in the window, and when each was used (oldest first).
#[derive(Debug, Default)]
struct UsedNonces {
    seen: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

impl NonceStore {
    /// `true` if the nonce is new (and records it), `false` if it was used in the window.
    pub(crate) fn use_nonce(&self, access_key_id: &str, nonce: &str, now: Instant) -> bool {
        let key = format!("{access_key_id}\n{nonce}");
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let UsedNonces { seen, order } = &mut *guard;
        while let Some((at, _)) = order.front() {
            if now.duration_since(*at) < NONCE_MEMORY {
                break;
            }
            if let Some((_, old)) = order.pop_front() {
                seen.remove(&old);
            }
        }
        if seen.contains(&key) {
            return false;
        }
        seen.insert(key.clone());
        order.push_back((now, key));
        true
    }
}

/// Finds the key with an AccessKey id (the simulator's accounts and the credentials STS issued).
pub(crate) type AlibabaKeys<'a> = &'a dyn Fn(&str) -> Option<AlibabaKey>;

/// Finds the key with an AK.
pub(crate) type HuaweiKeys<'a> = &'a dyn Fn(&str) -> Option<HuaweiKey>;

/// Authenticates an Alibaba RPC request (V3 when it has an `Authorization` header, else V1).
pub(crate) fn verify_alibaba(
    req: &WireRequest,
    keys: AlibabaKeys<'_>,
    nonces: &NonceStore,
    now: OffsetDateTime,
) -> Result<AlibabaCall, ApiError> {
    match req.header("authorization") {
        Some(value) => verify_acs3(req, &value, keys, nonces, now),
        // The official tea-openapi V1 path (`signature_algorithm='v2'`) also sends the
        // `x-acs-action`/`x-acs-version` headers: a `Signature` parameter makes it V1 (found by
        // the conformance suite). Only a V3-style request without any signature is incomplete.
        None if req.headers.contains_key("x-acs-action")
            && !alibaba_params(req).contains_key("Signature") =>
        {
            Err(incomplete_signature())
        }
        None => verify_acs1(req, keys, nonces, now),
    }
}

fn find_key(keys: AlibabaKeys<'_>, id: &str) -> Result<AlibabaKey, ApiError> {
    keys(id).ok_or_else(|| {
        ApiError::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    })
}

/// STS keys need their token and stop working when they expire; the codes are the gateway's
/// usual ones (not in our API docs).
fn check_sts(key: &AlibabaKey, token: Option<&str>, now: OffsetDateTime) -> Result<(), ApiError> {
    match (&key.sts_token, token) {
        (None, _) => Ok(()),
        (Some(expected), Some(got))
            if signatures_equal(expected.expose(), got)
                && key.expires.is_some_and(|at| now >= at) =>
        {
            Err(ApiError::new(
                400,
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            ))
        }
        (Some(_), None) => Err(ApiError::new(
            400,
            "MissingSecurityToken",
            "SecurityToken is mandatory for this action.",
        )),
        (Some(expected), Some(got)) if signatures_equal(expected.expose(), got) => Ok(()),
        (Some(_), Some(_)) => Err(ApiError::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
    }
}

fn verify_acs3(
    req: &WireRequest,
    authorization: &str,
    keys: AlibabaKeys<'_>,
    nonces: &NonceStore,
    now: OffsetDateTime,
) -> Result<AlibabaCall, ApiError> {
    let parsed = acs3::parse_authorization(authorization).ok_or_else(incomplete_signature)?;
    let required = |name: &str| {
        req.header(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ApiError::missing_parameter(name))
    };
    let action = required("x-acs-action")?;
    let version = required("x-acs-version")?;
    let date = required("x-acs-date")?;
    let nonce = required("x-acs-signature-nonce")?;
    let content_sha256 = required("x-acs-content-sha256")?;

    // The gateway insists on host, every x-acs-* header and content-type being signed.
    let is_signed = |name: &str| parsed.signed_headers.iter().any(|s| s == name);
    let unsigned = req
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-acs-") || *name == "content-type")
        .any(|name| !is_signed(name));
    if !is_signed("host") || unsigned {
        return Err(incomplete_signature());
    }

    let key = find_key(keys, &parsed.credential)?;
    let signed_at = parse_alibaba_time(&date).ok_or_else(|| illegal_timestamp("x-acs-date"))?;
    if !within_window(signed_at, now) {
        return Err(illegal_timestamp("x-acs-date"));
    }
    check_sts(&key, req.header("x-acs-security-token").as_deref(), now)?;

    let (query, form) = alibaba_query_and_form(req);
    let headers: Vec<(String, String)> = parsed
        .signed_headers
        .iter()
        .map(|name| (name.clone(), req.header(name).unwrap_or_default()))
        .collect();
    let expected = acs3::sign(
        &acs3::SignableRequest {
            method: &req.method,
            canonical_uri: &req.path,
            query: &query,
            headers: &headers,
            hashed_payload: &content_sha256,
        },
        &key.id,
        key.secret.expose(),
    );
    if !signatures_equal(&expected.signature, &parsed.signature) {
        return Err(signature_mismatch(&expected.string_to_sign));
    }
    // The payload hash is part of what was signed; the body must be what was hashed.
    if !signatures_equal(&sha256_hex(&req.body), &content_sha256.to_ascii_lowercase()) {
        return Err(ApiError::new(
            403,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation: x-acs-content-sha256 is not the SHA-256 of the request body.",
        ));
    }
    if !nonces.use_nonce(&key.id, &nonce, Instant::now()) {
        return Err(nonce_used());
    }
    Ok(AlibabaCall {
        key,
        action,
        version,
        params: query.into_iter().chain(form).collect(),
    })
}

fn nonce_used() -> ApiError {
    ApiError::new(
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    )
}

fn verify_acs1(
    req: &WireRequest,
    keys: AlibabaKeys<'_>,
    nonces: &NonceStore,
    now: OffsetDateTime,
) -> Result<AlibabaCall, ApiError> {
    let (query, form) = alibaba_query_and_form(req);
    let all: Vec<(String, String)> = query.into_iter().chain(form).collect();
    let params: BTreeMap<String, String> = all.iter().cloned().collect();
    let required = |name: &str| {
        params
            .get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| ApiError::missing_parameter(name))
    };
    let action = required("Action")?;
    let version = required("Version")?;
    let access_key_id = required("AccessKeyId")?;
    let signature = required("Signature")?;
    let nonce = required("SignatureNonce")?;
    let timestamp = params
        .get("Timestamp")
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| illegal_timestamp("Timestamp"))?;
    if params.get("SignatureMethod").map(String::as_str) != Some("HMAC-SHA1") {
        return Err(incomplete_signature());
    }
    if let Some(v) = params.get("SignatureVersion")
        && v != "1.0"
    {
        return Err(incomplete_signature());
    }

    let key = find_key(keys, &access_key_id)?;
    let signed_at = parse_alibaba_time(&timestamp).ok_or_else(|| illegal_timestamp("Timestamp"))?;
    if !within_window(signed_at, now) {
        return Err(illegal_timestamp("Timestamp"));
    }
    check_sts(&key, params.get("SecurityToken").map(String::as_str), now)?;

    let expected = acs1::sign(&req.method, &all, key.secret.expose());
    // A raw '+' of the base64 signature (not %2B-encoded) was decoded as a space: undo that.
    let received = signature.replace(' ', "+");
    if !signatures_equal(&expected.signature, &received) {
        return Err(signature_mismatch(&expected.string_to_sign));
    }
    if !nonces.use_nonce(&key.id, &nonce, Instant::now()) {
        return Err(nonce_used());
    }
    Ok(AlibabaCall {
        key,
        action,
        version,
        params,
    })
}

/// An authenticated Huawei call.
#[derive(Debug, Clone)]
pub(crate) struct HuaweiCall {
    /// The key's account, an index.
    pub account: usize,
    /// Query pairs, decoded with `+` literal.
    pub query: Vec<(String, String)>,
}

fn apig_auth(detail: &str) -> ApiError {
    ApiError::gateway(
        401,
        "APIG.0301",
        format!("Incorrect IAM authentication information: {detail}"),
    )
}

/// Authenticates a Huawei AK/SK request (SDK-HMAC-SHA256 or V11-HMAC-SHA256 for `region`).
pub(crate) fn verify_huawei(
    req: &WireRequest,
    keys: HuaweiKeys<'_>,
    region: &str,
    now: OffsetDateTime,
) -> Result<HuaweiCall, ApiError> {
    let authorization = req
        .header("authorization")
        .ok_or_else(|| apig_auth("Authorization header is missing"))?;
    let parsed = huawei::parse_authorization(&authorization)
        .ok_or_else(|| apig_auth("Authorization header is malformed"))?;
    let key = keys(&parsed.access_key).ok_or_else(|| {
        apig_auth(&format!(
            "Get secretKey failed,ak:{},err:ak not exist",
            parsed.access_key
        ))
    })?;
    let sdk_date = req
        .header("x-sdk-date")
        .ok_or_else(|| apig_auth("x-sdk-date is missing"))?;
    let signed_at =
        parse_sdk_date(&sdk_date).ok_or_else(|| apig_auth("x-sdk-date is not YYYYMMDDTHHMMSSZ"))?;
    if !within_window(signed_at, now) {
        return Err(apig_auth(
            "verify aksk signature fail, the request time is more than 15 minutes from the server time",
        ));
    }
    let fail = || apig_auth("verify aksk signature fail");
    if !parsed.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(fail());
    }
    let algorithm = if parsed.algorithm == huawei::DERIVED {
        let info = parsed.derivation_info.clone().unwrap_or_default();
        let mut parts = info.splitn(3, '/');
        let (date, info_region, service) = (parts.next(), parts.next(), parts.next());
        if date != sdk_date.get(..8) || info_region != Some(region) {
            return Err(fail());
        }
        huawei::Algorithm::Derived {
            region: region.to_string(),
            service: service.unwrap_or_default().to_string(),
        }
    } else {
        huawei::Algorithm::Basic
    };
    let query = parse_pairs(&req.raw_query, false);
    let headers: Vec<(String, String)> = parsed
        .signed_headers
        .iter()
        .map(|name| (name.clone(), req.header(name).unwrap_or_default()))
        .collect();
    let expected = huawei::sign(
        &huawei::SignableRequest {
            method: &req.method,
            path: &req.path,
            query: &query,
            headers: &headers,
            body: &req.body,
        },
        &key.ak,
        key.sk.expose(),
        &algorithm,
    )
    .map_err(|_| fail())?;
    if expected.signed_headers != parsed.signed_headers.join(";")
        || !signatures_equal(&expected.signature, &parsed.signature)
    {
        return Err(fail());
    }
    Ok(HuaweiCall {
        account: key.account,
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_plus_per_provider() {
        assert_eq!(
            parse_pairs("A=a+b%2Bc&Empty=&Flag", true),
            vec![
                ("A".to_string(), "a b+c".to_string()),
                ("Empty".to_string(), String::new()),
                ("Flag".to_string(), String::new())
            ]
        );
        assert_eq!(
            parse_pairs("A=a+b", false),
            vec![("A".to_string(), "a+b".to_string())]
        );
    }

    #[test]
    fn nonces_are_single_use_within_the_window() {
        let store = NonceStore::default();
        let t0 = Instant::now();
        assert!(store.use_nonce("k", "n1", t0));
        assert!(!store.use_nonce("k", "n1", t0 + Duration::from_secs(60)));
        assert!(store.use_nonce("other", "n1", t0), "nonces are per key");
        assert!(store.use_nonce("k", "n1", t0 + NONCE_MEMORY + Duration::from_secs(1)));
    }

    #[test]
    fn times_parse() {
        assert!(parse_alibaba_time("2024-05-06T07:08:09Z").is_some());
        assert!(parse_alibaba_time("2024-05-06 07:08:09").is_none());
        assert!(parse_sdk_date("20240506T070809Z").is_some());
        assert!(parse_sdk_date("2024-05-06").is_none());
    }
}
