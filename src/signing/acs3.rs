//! ACS3-HMAC-SHA256, the signature of the current Alibaba Cloud SDKs (reference: alibaba.md §6.3).

use super::{canonical_query, header_block, hmac_sha256, sha256_hex};

/// Name of the algorithm as it appears in the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// What gets signed: the request exactly as it will travel.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// Path; `/` for every RPC-style API.
    pub canonical_uri: &'a str,
    /// Query parameters, unencoded.
    pub query: &'a [(String, String)],
    /// The headers to sign (any case; trimmed and lower-cased here). Must include `host`, every
    /// `x-acs-*` header sent and `content-type` when a body is sent.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the exact body bytes (the value of `x-acs-content-sha256`).
    pub hashed_payload: &'a str,
}

/// Every intermediate string of an ACS3 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Signature {
    /// Sorted, RFC 3986 encoded query.
    pub canonical_query_string: String,
    /// Sorted lowercase header names joined by `;`.
    pub signed_headers: String,
    /// The canonical request.
    pub canonical_request: String,
    /// Hex SHA-256 of the canonical request.
    pub hashed_canonical_request: String,
    /// `ACS3-HMAC-SHA256\n` + hashed canonical request.
    pub string_to_sign: String,
    /// Lowercase hex HMAC-SHA256 of the string to sign.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

/// Signs `request` with `access_key_id` / `secret`.
pub fn sign(request: &SignableRequest<'_>, access_key_id: &str, secret: &str) -> Acs3Signature {
    let canonical_query_string = canonical_query(request.query);

    // Lower-case names, trim values, join duplicates with ',' and sort by name.
    let mut headers: Vec<(String, String)> = Vec::with_capacity(request.headers.len());
    for (name, value) in request.headers {
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            None => headers.push((name, value.to_string())),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));

    let (canonical_headers, signed_headers) = header_block(&headers);

    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        request.canonical_uri,
        canonical_query_string,
        canonical_headers,
        signed_headers,
        request.hashed_payload
    );
    let hashed_canonical_request = sha256_hex(canonical_request.as_bytes());
    let string_to_sign = format!("{ALGORITHM}\n{hashed_canonical_request}");
    let signature = hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    );
    Acs3Signature {
        canonical_query_string,
        signed_headers,
        canonical_request,
        hashed_canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// The parts of an `Authorization: ACS3-HMAC-SHA256 ...` header, for the verifying side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The AccessKey id.
    pub credential: String,
    /// Lower-case header names the client signed.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

/// Parses an ACS3 `Authorization` header value; `None` when it is not one.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(val.to_string()),
            "SignedHeaders" => {
                signed_headers = Some(val.split(';').map(|s| s.to_ascii_lowercase()).collect())
            }
            "Signature" => signature = Some(val.to_string()),
            _ => {}
        }
    }
    Some(ParsedAuthorization {
        credential: credential?,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}
