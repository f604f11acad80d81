//! Every signing vector produced by the official SDKs (copied from shared/vectors into
//! tests/vectors), asserted step by step so a failure names the first string that diverges.

// Helpers outside #[test] fns unwrap too: in a test, a failed unwrap is a failed assertion.
#![allow(clippy::unwrap_used)]

use certdesk::signing::{acs1, acs3, huawei, pct, pct_decode, sha256_hex};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let p = p.as_array().unwrap();
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("missing {key}"))
}

fn check_acs3(id: &str, inputs: &Value, headers: &Value, expected: &Value) -> usize {
    let query = pairs(&inputs["query"]);
    let headers = pairs(headers);
    let body = s(inputs, "body_utf8");
    let hashed_payload = sha256_hex(body.as_bytes());
    let req = acs3::SignableRequest {
        method: s(inputs, "method"),
        canonical_uri: s(inputs, "canonical_uri"),
        query: &query,
        headers: &headers,
        hashed_payload: &hashed_payload,
    };
    let sig = acs3::sign(&req, s(inputs, "access_key_id"), s(inputs, "secret"));
    let mut checked = 0;
    let steps: [(&str, &str); 6] = [
        ("canonical_query_string", &sig.canonical_query_string),
        ("signed_headers", &sig.signed_headers),
        ("canonical_request", &sig.canonical_request),
        ("hashed_canonical_request", &sig.hashed_canonical_request),
        ("string_to_sign", &sig.string_to_sign),
        ("signature", &sig.signature),
    ];
    for (key, actual) in steps {
        if let Some(exp) = expected[key].as_str() {
            assert_eq!(actual, exp, "{id}: {key} diverges");
            checked += 1;
        }
    }
    if let Some(exp) = expected["hashed_payload"].as_str() {
        assert_eq!(hashed_payload, exp, "{id}: hashed_payload diverges");
    }
    assert_eq!(
        sig.authorization,
        s(expected, "authorization"),
        "{id}: authorization diverges"
    );
    let parsed = acs3::parse_authorization(&sig.authorization).unwrap();
    assert_eq!(parsed.signature, sig.signature);
    assert_eq!(parsed.credential, s(inputs, "access_key_id"));
    checked + 1
}

#[test]
fn alibaba_percent_encoding_table() {
    for (raw, encoded) in [
        (" ", "%20"),
        ("*", "%2A"),
        ("~", "~"),
        ("é", "%C3%A9"),
        ("\n", "%0A"),
    ] {
        assert_eq!(pct(raw), encoded);
    }
}

#[test]
fn alibaba_v1_vectors() {
    let doc = load("alibaba.json");
    let mut n = 0;
    for v in doc["vectors"].as_array().unwrap() {
        if s(v, "algorithm") != "ACS-V1-HMAC-SHA1" {
            continue;
        }
        let id = s(v, "id");
        let inputs = &v["inputs"];
        let params = pairs(&inputs["params"]);
        let sig = acs1::sign(s(inputs, "method"), &params, s(inputs, "secret"));
        if let Some(exp) = v["canonicalized_query_string"].as_str() {
            assert_eq!(
                sig.canonicalized_query_string, exp,
                "{id}: canonicalized query diverges"
            );
        }
        assert_eq!(
            sig.string_to_sign,
            s(v, "string_to_sign"),
            "{id}: string to sign diverges"
        );
        assert_eq!(sig.signature, s(v, "signature"), "{id}: signature diverges");
        if let Some(exp) = v["signature_query_encoded"].as_str() {
            assert_eq!(pct(&sig.signature), exp, "{id}: encoded signature diverges");
        }
        // The E2E vectors also pin the wire URL the SDK sent: decoding it must give back exactly
        // the signed parameters plus the signature.
        if let Some(url) = v["wire_url_as_sent_by_sdk"].as_str() {
            let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
            let mut wire: Vec<(String, String)> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (pct_decode(k, true), pct_decode(v, true))
                })
                .collect();
            if let Some(body) = v["body_as_sent"].as_str() {
                wire.extend(body.split('&').filter(|p| !p.is_empty()).map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (pct_decode(k, true), pct_decode(v, true))
                }));
            }
            let signature = wire
                .iter()
                .find(|(k, _)| k == "Signature")
                .map(|(_, v)| v.clone());
            assert_eq!(
                signature.as_deref(),
                Some(sig.signature.as_str()),
                "{id}: wire signature"
            );
            let re = acs1::sign(s(inputs, "method"), &wire, s(inputs, "secret"));
            assert_eq!(
                re.signature, sig.signature,
                "{id}: wire parameters re-sign differently"
            );
        }
        n += 1;
    }
    assert_eq!(n, 7, "expected 7 v1 vectors");
}

#[test]
fn alibaba_v3_vectors() {
    let doc = load("alibaba.json");
    let mut n = 0;
    for v in doc["vectors"].as_array().unwrap() {
        if s(v, "algorithm") != "ACS3-HMAC-SHA256" {
            continue;
        }
        let id = s(v, "id");
        let inputs = &v["inputs"];
        assert!(check_acs3(id, inputs, &inputs["headers"], v) >= 3);
        if let Some(minimal) = v.get("minimal_headers_variant") {
            let label = format!("{id} (minimal headers)");
            assert!(check_acs3(&label, inputs, &minimal["headers"], minimal) >= 3);
        }
        n += 1;
    }
    assert_eq!(n, 10, "expected 10 v3 vectors");
}

/// The Huawei vectors record the HTTP request the SDK sent; signing exactly that request (minus
/// its Authorization header) must reproduce every intermediate string.
#[test]
fn huawei_vectors() {
    let doc = load("huawei.json");
    let mut n = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let id = s(v, "name");
        let inputs = &v["inputs"];
        let http = &v["http"];
        let (path, query) = s(http, "path_sent")
            .split_once('?')
            .unwrap_or((s(http, "path_sent"), ""));
        let query: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (pct_decode(k, false), pct_decode(v, false))
            })
            .collect();
        // The SDK sends the canonical query verbatim on the wire.
        let wire_query = s(http, "path_sent")
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("");
        assert_eq!(
            certdesk::signing::canonical_query(&query),
            wire_query,
            "{id}: wire query"
        );
        let headers: Vec<(String, String)> = http["headers_sent"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.as_str() != "Authorization")
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let derived =
            inputs["derived"].as_bool().unwrap_or(false) || inputs.get("derived_region").is_some();
        let algorithm = if derived {
            huawei::Algorithm::Derived {
                region: inputs["region_id"]
                    .as_str()
                    .or(inputs["derived_region"].as_str())
                    .unwrap()
                    .to_string(),
                service: inputs["derived_service"]
                    .as_str()
                    .unwrap_or("iotdm")
                    .to_string(),
            }
        } else {
            huawei::Algorithm::Basic
        };
        let body = s(http, "body_utf8");
        let req = huawei::SignableRequest {
            method: s(http, "method"),
            path,
            query: &query,
            headers: &headers,
            body: body.as_bytes(),
        };
        let sig = huawei::sign(&req, s(inputs, "ak"), s(inputs, "sk"), &algorithm).unwrap();
        assert_eq!(
            sig.canonical_request,
            s(v, "canonical_request"),
            "{id}: canonical request diverges"
        );
        assert_eq!(
            sig.signed_headers,
            s(v, "signed_headers"),
            "{id}: signed headers diverge"
        );
        assert_eq!(
            sig.string_to_sign,
            s(v, "string_to_sign"),
            "{id}: string to sign diverges"
        );
        if let (Some(info), Some(key)) = (
            v["derivation_info"].as_str(),
            v["derived_signing_key"].as_str(),
        ) {
            assert_eq!(
                huawei::derived_signing_key(s(inputs, "ak"), s(inputs, "sk"), info),
                key,
                "{id}: derived key"
            );
        }
        assert_eq!(sig.signature, s(v, "signature"), "{id}: signature diverges");
        assert_eq!(
            sig.authorization,
            s(v, "authorization"),
            "{id}: authorization diverges"
        );
        let parsed = huawei::parse_authorization(&sig.authorization).unwrap();
        assert_eq!(parsed.signature, sig.signature);
        n += 1;
    }
    assert_eq!(n, 15, "expected 15 huawei vectors");
}

#[test]
fn huawei_derived_predicate_table() {
    let doc = load("huawei.json");
    for (host, algo) in doc["derived_predicate"].as_object().unwrap() {
        let expect_derived = algo.as_str().unwrap().starts_with("V11");
        assert_eq!(
            huawei::default_derived_predicate(host),
            expect_derived,
            "{host}"
        );
    }
}
