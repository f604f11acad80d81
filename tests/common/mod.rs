//! A tiny loopback HTTP server for tests: it records every raw request, re-verifies its signature
//! from the WIRE with `certdesk::signing` (Alibaba ACS3 and v1, Huawei SDK-HMAC-SHA256 and V11) and
//! answers with whatever the test scripts. A request whose signature does not verify gets a 403
//! `SignatureDoesNotMatch` naming the reason, so a broken client fails loudly.
#![allow(dead_code)] // each test crate uses a different part of the fixture
#![allow(clippy::unwrap_used)] // test-only server: a failure here must abort the test loudly

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use certdesk::signing::{
    acs1, acs3, canonical_query, huawei, pct_decode, sha256_hex, signatures_equal,
};
use std::sync::{Arc, Mutex};

/// Alibaba AccessKey the fixture accepts.
pub const ALIBABA_ID: &str = "testid";
/// Alibaba secret.
pub const ALIBABA_SECRET: &str = "testsecret";
/// STS token used by STS tests.
pub const STS_TOKEN: &str = "teststs/Token+abc==";
/// Huawei AK.
pub const HUAWEI_AK: &str = "testak";
/// Huawei SK.
pub const HUAWEI_SK: &str = "testsk";

/// A value with everything that breaks naive encoders: space, `*`, `~`, `/`, `+`, `=`, `&`,
/// non-ASCII letters and newlines (a PEM-like body).
pub const TRICKY: &str =
    "a b*c~d/e+f=g&hé中\n-----BEGIN CERTIFICATE-----\nMIIB+/=\n-----END CERTIFICATE-----\n";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// HTTP method.
    pub method: String,
    /// Raw (still encoded) path.
    pub path: String,
    /// Raw (still encoded) query.
    pub raw_query: String,
    /// Decoded query pairs (no `+` → space: certdesk always sends `%20`).
    pub params: Vec<(String, String)>,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Alibaba action (`x-acs-action` or `Action`), or `METHOD path` for Huawei.
    pub action: String,
    /// `Ok` when the signature verified; the reason otherwise.
    pub verified: Result<String, String>,
}

impl Seen {
    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the script answers.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON (or other) body.
    pub body: String,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            headers: vec![],
            body: body.into(),
        }
    }

    /// An arbitrary status with a body.
    pub fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A running fixture server.
pub struct Fixture {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Every request received, in order.
    pub log: Arc<Mutex<Vec<Seen>>>,
}

impl Fixture {
    /// Starts a server on 127.0.0.1 (free port) answering with `script`.
    pub async fn start(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fixture {
        let log = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let sink = log.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let sink = sink.clone();
            let script = script.clone();
            async move {
                let seen = capture(req).await;
                let reply = match &seen.verified {
                    Ok(_) => script(&seen),
                    Err(reason) => Reply::status(
                        403,
                        serde_json::json!({"Code": "SignatureDoesNotMatch", "Message": reason, "RequestId": "FIXTURE",
                                           "error_code": "APIG.0301", "error_msg": reason})
                        .to_string(),
                    ),
                };
                sink.lock().unwrap().push(seen);
                let mut headers = HeaderMap::new();
                headers.insert("content-type", HeaderValue::from_static("application/json"));
                for (k, v) in reply.headers {
                    headers.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(&v).unwrap());
                }
                (StatusCode::from_u16(reply.status).unwrap(), headers, reply.body)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fixture {
            base: format!("http://{addr}"),
            log,
        }
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// Panics unless every request verified.
    pub fn assert_all_verified(&self) {
        let seen = self.seen();
        assert!(!seen.is_empty(), "no request reached the fixture");
        for s in &seen {
            assert!(
                s.verified.is_ok(),
                "{} {}: {:?}",
                s.method,
                s.action,
                s.verified
            );
        }
    }
}

fn decode_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k, false), pct_decode(v, false))
        })
        .collect()
}

async fn capture(req: Request<Body>) -> Seen {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = to_bytes(req.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap_or_default()
        .to_vec();
    let params = decode_query(&raw_query);
    let mut seen = Seen {
        method,
        path,
        raw_query,
        params,
        headers,
        body,
        action: String::new(),
        verified: Err("not verified".into()),
    };
    seen.verified = verify(&mut seen);
    seen
}

/// Re-signs what arrived and compares. The wire query must also BE canonical (sorted RFC 3986),
/// so the bytes on the wire are exactly the bytes that were signed.
fn verify(seen: &mut Seen) -> Result<String, String> {
    if canonical_query(&seen.params) != seen.raw_query {
        return Err(format!("wire query is not canonical: {}", seen.raw_query));
    }
    let received = seen.headers.clone();
    let header = |name: &str| {
        received
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let signed_values = |names: &[String]| -> Result<Vec<(String, String)>, String> {
        names
            .iter()
            .map(|n| {
                header(n)
                    .map(|v| (n.clone(), v))
                    .ok_or_else(|| format!("signed header {n} was not sent"))
            })
            .collect()
    };
    if seen.path.starts_with("/v5/") {
        seen.action = format!("{} {}", seen.method, seen.path);
        let auth = header("authorization").ok_or("no Authorization header")?;
        let parsed = huawei::parse_authorization(&auth).ok_or("unparsable Authorization")?;
        if parsed.access_key != HUAWEI_AK {
            return Err(format!("unknown AK {}", parsed.access_key));
        }
        let algorithm = match &parsed.derivation_info {
            Some(info) => {
                let mut parts = info.split('/');
                let (_date, region, service) = (parts.next(), parts.next(), parts.next());
                huawei::Algorithm::Derived {
                    region: region.ok_or("no region in Credential")?.to_string(),
                    service: service.ok_or("no service in Credential")?.to_string(),
                }
            }
            None => huawei::Algorithm::Basic,
        };
        let headers = signed_values(&parsed.signed_headers)?;
        if !parsed.signed_headers.iter().any(|h| h == "host") {
            return Err("host is not signed".into());
        }
        let resigned = huawei::sign(
            &huawei::SignableRequest {
                method: &seen.method,
                path: &seen.path,
                query: &seen.params,
                headers: &headers,
                body: &seen.body,
            },
            HUAWEI_AK,
            HUAWEI_SK,
            &algorithm,
        )
        .map_err(|e| e.to_string())?;
        if !signatures_equal(&resigned.signature, &parsed.signature) {
            return Err(format!(
                "Huawei signature mismatch; server canonical request:\n{}",
                resigned.canonical_request
            ));
        }
        return Ok(parsed.algorithm);
    }
    if let Some(auth) = header("authorization") {
        let parsed = acs3::parse_authorization(&auth).ok_or("unparsable ACS3 Authorization")?;
        seen.action = header("x-acs-action").ok_or("no x-acs-action")?;
        let hashed = sha256_hex(&seen.body);
        if header("x-acs-content-sha256").as_deref() != Some(hashed.as_str()) {
            return Err("x-acs-content-sha256 does not match the body".into());
        }
        for required in [
            "host",
            "x-acs-action",
            "x-acs-version",
            "x-acs-date",
            "x-acs-signature-nonce",
        ] {
            if !parsed.signed_headers.iter().any(|h| h == required) {
                return Err(format!("{required} is not signed"));
            }
        }
        if header("x-acs-security-token").is_some()
            && header("x-acs-security-token").as_deref() != Some(STS_TOKEN)
        {
            return Err("wrong STS token".into());
        }
        let headers = signed_values(&parsed.signed_headers)?;
        let resigned = acs3::sign(
            &acs3::SignableRequest {
                method: &seen.method,
                canonical_uri: "/",
                query: &seen.params,
                headers: &headers,
                hashed_payload: &hashed,
            },
            &parsed.credential,
            ALIBABA_SECRET,
        );
        if parsed.credential != ALIBABA_ID
            || !signatures_equal(&resigned.signature, &parsed.signature)
        {
            return Err(format!(
                "ACS3 signature mismatch; server canonical request:\n{}",
                resigned.canonical_request
            ));
        }
        return Ok("ACS3-HMAC-SHA256".into());
    }
    // ACS v1: everything in the query.
    seen.action = seen
        .param("Action")
        .ok_or("no Action and no Authorization")?
        .to_string();
    let signature = seen.param("Signature").ok_or("no Signature")?.to_string();
    if seen.param("AccessKeyId") != Some(ALIBABA_ID) {
        return Err("unknown AccessKeyId".into());
    }
    if seen
        .param("SecurityToken")
        .is_some_and(|token| token != STS_TOKEN)
    {
        return Err("wrong SecurityToken".into());
    }
    let resigned = acs1::sign(&seen.method, &seen.params, ALIBABA_SECRET);
    if resigned.signature != signature {
        return Err(format!(
            "v1 signature mismatch; server string to sign: {}",
            resigned.string_to_sign
        ));
    }
    Ok("HMAC-SHA1".into())
}

/// A proxy on loopback that records every byte it receives and refuses every request.
pub struct RecordingProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl RecordingProxy {
    /// Starts it on a free loopback port.
    pub async fn start() -> RecordingProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (sink, count) = (received.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        let read = tokio::time::timeout(
                            std::time::Duration::from_secs(2),
                            socket.read(&mut buf),
                        )
                        .await;
                        match read {
                            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
                            _ => break,
                        }
                    }
                    sink.lock().unwrap().extend_from_slice(&seen);
                    let _ = socket
                        .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        RecordingProxy {
            url,
            received,
            connections,
        }
    }

    /// Everything received, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}
