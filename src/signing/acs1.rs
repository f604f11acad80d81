//! ACS v1 (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`), the legacy RPC signature that the
//! gateways still accept (reference: alibaba.md §6.2).

use super::{canonical_query, pct};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Every intermediate string of a v1 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs1Signature {
    /// Sorted, RFC 3986 encoded parameters.
    pub canonicalized_query_string: String,
    /// `METHOD&%2F&` + pct(canonicalized query string).
    pub string_to_sign: String,
    /// Base64 HMAC-SHA1, as it goes into the `Signature` parameter before encoding.
    pub signature: String,
}

/// Signs every query and form-body parameter except `Signature` itself.
pub fn sign(method: &str, params: &[(String, String)], secret: &str) -> Acs1Signature {
    let without_signature: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| name != "Signature")
        .cloned()
        .collect();
    let canonicalized_query_string = canonical_query(&without_signature);
    let string_to_sign = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        pct("/"),
        pct(&canonicalized_query_string)
    );
    let key = format!("{secret}&");
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(string_to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    Acs1Signature {
        canonicalized_query_string,
        string_to_sign,
        signature,
    }
}
