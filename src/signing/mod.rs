//! Request signing for Alibaba Cloud (ACS3-HMAC-SHA256, ACS v1 HMAC-SHA1) and Huawei Cloud
//! (SDK-HMAC-SHA256, V11-HMAC-SHA256).
//!
//! Everything here is a pure function: the clock, the nonce and the credentials are arguments, and
//! nothing touches the network or the disk. The cloud clients use these functions to sign what they
//! send, and the simulator uses the very same functions to verify what it receives, so the two can
//! never drift apart. Every intermediate string (canonical request, string to sign) is returned so
//! tests can say exactly where a signature diverges from the official SDKs' vectors.

pub mod acs1;
pub mod acs3;
pub mod huawei;
mod pct;

pub use pct::{pct, pct_decode};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// SHA-256 of the empty string, the payload hash of every request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Raw HMAC-SHA256.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Constant-time comparison of two signatures, for the verifying side (simulator).
pub fn signatures_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The canonical header block (`name:value\n` per header) and the signed-header list (`a;b;c`) of
/// headers already lower-cased, trimmed and sorted — the part ACS3 and the Huawei signers share.
pub(crate) fn header_block(sorted: &[(String, String)]) -> (String, String) {
    let mut canonical = String::new();
    for (name, value) in sorted {
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(value);
        canonical.push('\n');
    }
    let signed = sorted
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (canonical, signed)
}

/// Sorted `pct(name)=pct(value)` pairs joined by `&`, the canonical query string of ACS3 and ACS v1
/// (and the exact wire query certdesk sends, so the wire and the signature cannot disagree).
///
/// Pairs are sorted by raw name bytes, then by raw value (Huawei sorts name/value tuples; for
/// Alibaba names are unique so the value order never matters).
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
    let mut out = String::new();
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&pct(name));
        out.push('=');
        out.push_str(&pct(value));
    }
    out
}
