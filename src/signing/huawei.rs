//! Huawei Cloud AK/SK signing: SDK-HMAC-SHA256 (shared endpoints) and V11-HMAC-SHA256, the
//! "derived AK/SK" that IoTDA standard/enterprise instance endpoints require (reference: huawei.md §4).

use super::{
    EMPTY_SHA256, canonical_query, header_block, hmac_sha256, pct, pct_decode, sha256_hex,
};
use std::sync::OnceLock;

/// Algorithm name of the basic signature.
pub const BASIC: &str = "SDK-HMAC-SHA256";
/// Algorithm name of the derived-key signature.
pub const DERIVED: &str = "V11-HMAC-SHA256";
/// The derived-auth service name IoTDA's SDK client uses.
pub const IOTDA_DERIVED_SERVICE: &str = "iotdm";
/// Payload hash used (and header value sent) when the content type is neither JSON nor BSON.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Which of the two signatures to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Algorithm {
    /// SDK-HMAC-SHA256 keyed with the SK itself.
    Basic,
    /// V11-HMAC-SHA256 keyed with a key derived (HKDF) from AK, SK, date, region and service.
    Derived {
        /// Region id, e.g. `cn-north-4`.
        region: String,
        /// Derived-auth service name, `iotdm` for IoTDA.
        service: String,
    },
}

/// What gets signed.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path as sent on the wire (percent-encoded), without the query.
    pub path: &'a str,
    /// Query pairs, unencoded. The wire query must be [`super::canonical_query`] of the same pairs.
    pub query: &'a [(String, String)],
    /// Every header that will be sent and signed, including `Host` and `X-Sdk-Date`.
    pub headers: &'a [(String, String)],
    /// The exact body bytes.
    pub body: &'a [u8],
}

/// Every intermediate string of a Huawei signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuaweiSignature {
    /// The canonical request.
    pub canonical_request: String,
    /// Sorted lower-case names of the signed headers joined by `;`.
    pub signed_headers: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// Lowercase hex signature.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The request carries no `X-Sdk-Date` header (or it is not `YYYYMMDDTHHMMSSZ`).
    #[error("the request has no valid X-Sdk-Date header")]
    MissingDate,
}

/// `true` when a `Content-Type` requires the `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` header.
pub fn needs_unsigned_payload(content_type: &str) -> bool {
    !(content_type.starts_with("application/json") || content_type.starts_with("application/bson"))
}

/// The canonical URI: decode the path, re-encode every segment, always end with `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = pct_decode(path, false);
    let mut uri = decoded.split('/').map(pct).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Signs `request` with the AK/SK pair.
pub fn sign(
    request: &SignableRequest<'_>,
    ak: &str,
    sk: &str,
    algorithm: &Algorithm,
) -> Result<HuaweiSignature, SignError> {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .filter(|(n, _)| !n.contains('_'))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));

    let sdk_date = headers
        .iter()
        .find(|(n, _)| n == "x-sdk-date")
        .map(|(_, v)| v.clone())
        .filter(|d| d.len() == 16 && d.is_char_boundary(8))
        .ok_or(SignError::MissingDate)?;

    let (canonical_headers, signed_headers) = header_block(&headers);

    let payload_hash = if request.body.is_empty() {
        EMPTY_SHA256.to_string()
    } else if let Some((_, v)) = headers.iter().find(|(n, _)| n == "x-sdk-content-sha256") {
        v.clone()
    } else {
        sha256_hex(request.body)
    };

    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_uri(request.path),
        canonical_query(request.query),
        canonical_headers,
        signed_headers,
        payload_hash
    );
    let hashed = sha256_hex(canonical_request.as_bytes());

    let (string_to_sign, signature, authorization) = match algorithm {
        Algorithm::Basic => {
            let sts = format!("{BASIC}\n{sdk_date}\n{hashed}");
            let sig = hex::encode(hmac_sha256(sk.as_bytes(), sts.as_bytes()));
            let auth =
                format!("{BASIC} Access={ak}, SignedHeaders={signed_headers}, Signature={sig}");
            (sts, sig, auth)
        }
        Algorithm::Derived { region, service } => {
            let info = format!("{}/{region}/{service}", &sdk_date[..8]);
            let key = derived_signing_key(ak, sk, &info);
            let sts = format!("{DERIVED}\n{sdk_date}\n{info}\n{hashed}");
            let sig = hex::encode(hmac_sha256(key.as_bytes(), sts.as_bytes()));
            let auth = format!(
                "{DERIVED} Credential={ak}/{info}, SignedHeaders={signed_headers}, Signature={sig}"
            );
            (sts, sig, auth)
        }
    };
    Ok(HuaweiSignature {
        canonical_request,
        signed_headers,
        string_to_sign,
        signature,
        authorization,
    })
}

/// HKDF-SHA256 (salt = AK, IKM = SK, one 32-byte block of `info`), returned as the lowercase hex
/// string the SDK then uses, as ASCII bytes, for the HMAC key.
pub fn derived_signing_key(ak: &str, sk: &str, info: &str) -> String {
    let prk = hmac_sha256(ak.as_bytes(), sk.as_bytes());
    let mut msg = info.as_bytes().to_vec();
    msg.push(0x01);
    hex::encode(hmac_sha256(&prk, &msg))
}

/// The SDK's default derived predicate: V11 unless the host looks like a shared Huawei endpoint
/// (`iotda.cn-north-4.myhuaweicloud.com` → basic; `x.st1.iotda-app.…` and loopback → derived).
pub fn default_derived_predicate(host: &str) -> bool {
    static SHARED: OnceLock<Option<regex::Regex>> = OnceLock::new();
    // The SDK's own pattern, anchored at the start only (Python re.match); the unescaped '.' before
    // (com|cn) is kept as is, to match byte for byte what the SDK decides.
    let shared = SHARED.get_or_init(|| {
        regex::Regex::new(
            r"^[a-z][a-z0-9-]+(\.[a-z]{2,}-[a-z]+-\d{1,2})?\.(my)?(huaweicloud|myhwclouds).(com|cn)",
        )
        .ok()
    });
    match shared {
        Some(re) => !re.is_match(host),
        None => true,
    }
}

/// Parsed `Authorization` header of either Huawei algorithm, for the verifying side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// `SDK-HMAC-SHA256` or `V11-HMAC-SHA256`.
    pub algorithm: String,
    /// The AK.
    pub access_key: String,
    /// For V11: `YYYYMMDD/region/service`.
    pub derivation_info: Option<String>,
    /// Lower-case signed header names.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
}

/// Parses an `Authorization` header value of either algorithm.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let (algorithm, rest) = value.trim().split_once(' ')?;
    if algorithm != BASIC && algorithm != DERIVED {
        return None;
    }
    let mut access_key = None;
    let mut derivation_info = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Access" => access_key = Some(val.to_string()),
            "Credential" => {
                let (ak, info) = val.split_once('/')?;
                access_key = Some(ak.to_string());
                derivation_info = Some(info.to_string());
            }
            "SignedHeaders" => {
                signed_headers = Some(val.split(';').map(|s| s.to_ascii_lowercase()).collect())
            }
            "Signature" => signature = Some(val.to_string()),
            _ => {}
        }
    }
    Some(ParsedAuthorization {
        algorithm: algorithm.to_string(),
        access_key: access_key?,
        derivation_info,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_predicate_matches_the_sdk_table() {
        let table = [
            ("iotda.cn-north-4.myhuaweicloud.com", false),
            ("iotda.ap-southeast-1.myhuaweicloud.com", false),
            ("iotda.cn-north-4.myhuaweicloud.com:443", false),
            ("iam.myhuaweicloud.com", false),
            (
                "abc123def4.st1.iotda-app.cn-north-4.myhuaweicloud.com",
                true,
            ),
            (
                "804692a552.st1.iotda-app.cn-north-4.myhuaweicloud.com",
                true,
            ),
            ("localhost:8080", true),
            ("127.0.0.1", true),
        ];
        for (host, derived) in table {
            assert_eq!(default_derived_predicate(host), derived, "{host}");
        }
    }

    #[test]
    fn missing_date_is_an_error() {
        let req = SignableRequest {
            method: "GET",
            path: "/",
            query: &[],
            headers: &[("Host".into(), "h".into())],
            body: b"",
        };
        assert_eq!(
            sign(&req, "a", "s", &Algorithm::Basic),
            Err(SignError::MissingDate)
        );
    }
}
