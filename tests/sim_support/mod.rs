//! Signed-request helpers for the simulator tests, built on `certdesk::signing` directly (not on
//! `certdesk::cloud`), so the simulator is tested against the reference signers only.
#![allow(dead_code, clippy::unwrap_used)]

use certdesk::signing::{acs1, acs3, canonical_query, huawei, pct, sha256_hex};
use certdesk::sim::{self, RunningSimulator, SimOptions, SimTuning};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::format_description;

pub const KMS: &str = "2016-01-20";
pub const CAS: &str = "2020-06-30";
pub const ESA: &str = "2024-09-10";
pub const VOD: &str = "2017-03-21";

pub async fn start_small() -> RunningSimulator {
    sim::start(SimOptions::default()).await.unwrap()
}

pub async fn start_with(options: SimOptions, tuning: SimTuning) -> RunningSimulator {
    sim::start_tuned(options, tuning).await.unwrap()
}

/// The certdesk CLI against the simulator at `endpoint` with its demo Alibaba key in the SDK
/// environment variables (the CLI then names the account `env`), data and config under `data_dir`.
/// stdin is closed; the caller adds the command and its output handling.
pub fn certdesk_cli(endpoint: &str, data_dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_certdesk"));
    cmd.arg("--endpoint")
        .arg(endpoint)
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            sim::DEMO_ALIBABA_ACCESS_KEY_ID,
        )
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            sim::DEMO_ALIBABA_ACCESS_KEY_SECRET,
        )
        .env("CERTDESK_DATA_DIR", data_dir)
        .env("CERTDESK_CONFIG_DIR", data_dir.join("config"))
        .stdin(std::process::Stdio::null());
    cmd
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// One answer: status, a few headers, JSON body (Null when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub request_id_header: Option<String>,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["Code"]
            .as_str()
            .or(self.body["error_code"].as_str())
            .unwrap_or("")
    }
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let request_id_header = header("x-acs-request-id").or(header("x-request-id"));
    let retry_after = header("x-acs-retry-after");
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    Answer {
        status,
        body,
        request_id_header,
        retry_after,
    }
}

fn alibaba_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap()
}

/// An ACS3 request with every knob a test may turn.
#[derive(Debug, Clone)]
pub struct V3 {
    pub method: &'static str,
    pub version: String,
    pub action: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub key_id: String,
    pub secret: String,
    pub token: Option<String>,
    pub date: OffsetDateTime,
    pub nonce: String,
    /// Send `+` for spaces on the wire (like the official Python SDK) while signing `%20`.
    pub plus_for_space: bool,
    /// Lie in x-acs-content-sha256.
    pub wrong_body_hash: bool,
    /// Sign these extra headers too (the SDK signs accept and user-agent).
    pub extra_headers: Vec<(String, String)>,
}

impl V3 {
    pub fn new(version: &str, action: &str, params: &[(&str, &str)]) -> V3 {
        V3 {
            method: "POST",
            version: version.to_string(),
            action: action.to_string(),
            query: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            form: Vec::new(),
            key_id: sim::DEMO_ALIBABA_ACCESS_KEY_ID.to_string(),
            secret: sim::DEMO_ALIBABA_ACCESS_KEY_SECRET.to_string(),
            token: None,
            date: OffsetDateTime::now_utc(),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            plus_for_space: false,
            wrong_body_hash: false,
            extra_headers: Vec::new(),
        }
    }

    pub fn get(mut self) -> V3 {
        self.method = "GET";
        self
    }

    pub async fn send(&self, sim: &RunningSimulator) -> Answer {
        let host = sim.addr().to_string();
        let body = if self.form.is_empty() {
            String::new()
        } else {
            canonical_query(&self.form)
        };
        let body_hash = if self.wrong_body_hash {
            sha256_hex(b"something else")
        } else {
            sha256_hex(body.as_bytes())
        };
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host.clone()),
            ("x-acs-action".into(), self.action.clone()),
            ("x-acs-version".into(), self.version.clone()),
            ("x-acs-date".into(), alibaba_time(self.date)),
            ("x-acs-signature-nonce".into(), self.nonce.clone()),
            ("x-acs-content-sha256".into(), body_hash.clone()),
        ];
        if !self.form.is_empty() {
            headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        if let Some(token) = &self.token {
            headers.push(("x-acs-security-token".into(), token.clone()));
        }
        headers.extend(self.extra_headers.iter().cloned());
        let sig = acs3::sign(
            &acs3::SignableRequest {
                method: self.method,
                canonical_uri: "/",
                query: &self.query,
                headers: &headers,
                hashed_payload: &body_hash,
            },
            &self.key_id,
            &self.secret,
        );
        let wire_query = if self.plus_for_space {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(self.query.iter())
                .finish()
        } else {
            sig.canonical_query_string.clone()
        };
        let url = if wire_query.is_empty() {
            format!("{}/", sim.endpoint())
        } else {
            format!("{}/?{wire_query}", sim.endpoint())
        };
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut req = http().request(method, url);
        for (name, value) in &headers {
            if name != "host" {
                req = req.header(name, value);
            }
        }
        req = req.header("authorization", sig.authorization);
        if !body.is_empty() {
            req = req.body(body);
        }
        answer(req.send().await.unwrap()).await
    }
}

/// Shortcut: a signed V3 POST with query parameters.
pub async fn v3(
    sim: &RunningSimulator,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> Answer {
    V3::new(version, action, params).send(sim).await
}

/// Shortcut: a signed V3 GET (ESA).
pub async fn v3_get(
    sim: &RunningSimulator,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> Answer {
    V3::new(version, action, params).get().send(sim).await
}

/// An ACS v1 request (everything in the query, as the tea SDK sends it).
#[derive(Debug, Clone)]
pub struct V1 {
    pub method: &'static str,
    pub params: Vec<(String, String)>,
    pub secret: String,
}

impl V1 {
    pub fn new(version: &str, action: &str, params: &[(&str, &str)]) -> V1 {
        let mut all: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), version.into()),
            ("Format".into(), "json".into()),
            ("Timestamp".into(), alibaba_time(OffsetDateTime::now_utc())),
            (
                "SignatureNonce".into(),
                uuid::Uuid::new_v4().simple().to_string(),
            ),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("AccessKeyId".into(), sim::DEMO_ALIBABA_ACCESS_KEY_ID.into()),
        ];
        all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        V1 {
            method: "POST",
            params: all,
            secret: sim::DEMO_ALIBABA_ACCESS_KEY_SECRET.into(),
        }
    }

    pub fn set(mut self, name: &str, value: &str) -> V1 {
        self.params.retain(|(k, _)| k != name);
        self.params.push((name.into(), value.into()));
        self
    }

    pub async fn send(&self, sim: &RunningSimulator) -> Answer {
        let sig = acs1::sign(self.method, &self.params, &self.secret);
        let url = format!(
            "{}/?{}&Signature={}",
            sim.endpoint(),
            sig.canonicalized_query_string,
            pct(&sig.signature)
        );
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        answer(http().request(method, url).send().await.unwrap()).await
    }
}

/// Huawei request knobs.
#[derive(Debug, Clone)]
pub struct Hw {
    pub method: &'static str,
    /// Path after `/v5/iot/{project_id}/`.
    pub rest: String,
    pub project_id: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub ak: String,
    pub sk: String,
    pub date: OffsetDateTime,
    pub derived: bool,
}

impl Hw {
    pub fn new(method: &'static str, rest: &str) -> Hw {
        Hw {
            method,
            rest: rest.to_string(),
            project_id: sim::DEMO_HUAWEI_PROJECT_ID.to_string(),
            query: Vec::new(),
            body: Vec::new(),
            ak: sim::DEMO_HUAWEI_AK.to_string(),
            sk: sim::DEMO_HUAWEI_SK.to_string(),
            date: OffsetDateTime::now_utc(),
            derived: false,
        }
    }

    pub fn query(mut self, name: &str, value: &str) -> Hw {
        self.query.push((name.into(), value.into()));
        self
    }

    pub async fn send(&self, sim: &RunningSimulator) -> Answer {
        let path = format!("/v5/iot/{}/{}", self.project_id, self.rest);
        let sdk_date = self
            .date
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap();
        let headers: Vec<(String, String)> = vec![
            ("Host".into(), sim.addr().to_string()),
            ("X-Sdk-Date".into(), sdk_date),
            ("Content-Type".into(), "application/json".into()),
            ("X-Project-Id".into(), self.project_id.clone()),
        ];
        let algorithm = if self.derived {
            huawei::Algorithm::Derived {
                region: sim::DEMO_HUAWEI_REGION.into(),
                service: huawei::IOTDA_DERIVED_SERVICE.into(),
            }
        } else {
            huawei::Algorithm::Basic
        };
        let sig = huawei::sign(
            &huawei::SignableRequest {
                method: self.method,
                path: &path,
                query: &self.query,
                headers: &headers,
                body: &self.body,
            },
            &self.ak,
            &self.sk,
            &algorithm,
        )
        .unwrap();
        let q = canonical_query(&self.query);
        let url = if q.is_empty() {
            format!("{}{path}", sim.endpoint())
        } else {
            format!("{}{path}?{q}", sim.endpoint())
        };
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut req = http().request(method, url);
        for (name, value) in &headers {
            if name != "Host" {
                req = req.header(name, value);
            }
        }
        req = req.header("Authorization", sig.authorization);
        if !self.body.is_empty() {
            req = req.body(self.body.clone());
        }
        answer(req.send().await.unwrap()).await
    }
}
