//! The one error every cloud call returns: who answered (provider, service), what they said (code,
//! message, request id, HTTP status), whether waiting helps (retry-after) and what kind of failure
//! it is ([`ErrorClass`]). Parses both clouds' error bodies (alibaba.md §5, huawei.md §3).
//! Never carries a secret: messages come from the server or from us, never from credentials.

use crate::model::{Provider, Service};
use serde_json::Value;
use std::time::Duration;

/// What kind of failure, deciding whether a retry can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ErrorClass {
    /// Flow control (Alibaba `Throttling*`, HTTP 429, Huawei `APIG.0308`): wait and retry.
    Throttled,
    /// Temporary server or network trouble (5xx, 503 `ServiceUnavailable`, timeouts, resets).
    Transient,
    /// Credentials, signature or permissions (401/403, `InvalidAccessKeyId*`, `SignatureDoesNotMatch`).
    Auth,
    /// The addressed certificate/domain/site does not exist.
    NotFound,
    /// The request itself is wrong (400 `InvalidParameter`, `MissingParameter`, bad state...).
    InvalidInput,
    /// Anything else (unexpected response shapes, local problems).
    Other,
}

impl ErrorClass {
    /// `true` when the same request may succeed later (throttling, transient failures).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Throttled | ErrorClass::Transient)
    }
}

/// Codes certdesk itself uses for failures that never reached a provider's error body.
pub mod local_code {
    /// The endpoint URL was refused (plain http to a non-loopback host, malformed URL).
    pub const INVALID_ENDPOINT: &str = "InvalidEndpoint";
    /// The request timed out.
    pub const TIMEOUT: &str = "Timeout";
    /// No connection could be established (DNS, refused, TLS handshake).
    pub const CONNECT_FAILED: &str = "ConnectFailed";
    /// The connection broke while sending or receiving.
    pub const CONNECTION_ERROR: &str = "ConnectionError";
    /// A 2xx response whose body is not the documented JSON.
    pub const INVALID_RESPONSE: &str = "InvalidResponse";
    /// The request could not be built or signed (bad argument).
    pub const INVALID_REQUEST: &str = "InvalidRequest";
    /// The response body exceeded [`crate::cloud::transport::MAX_RESPONSE_BYTES`].
    pub const RESPONSE_TOO_LARGE: &str = "ResponseTooLarge";
}

/// A failed cloud call. Displays as one line: `Code: Message (RequestId: X, HTTP 404)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{code}: {message}{}", context_suffix(.request_id, .http_status))]
pub struct CloudError {
    /// The cloud.
    pub provider: Provider,
    /// The service called.
    pub service: Service,
    /// The provider's error code (`Certificate.NotFound`, `IOTDA.000006`), the HTTP status when the
    /// body had none, or a [`local_code`].
    pub code: String,
    /// The provider's message, on one line.
    pub message: String,
    /// The provider's request id, when known (quote it to support).
    pub request_id: Option<String>,
    /// HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
    /// The kind of failure.
    pub class: ErrorClass,
}

/// ` (RequestId: X, HTTP 404)`, or the parts that are known, or nothing.
fn context_suffix(request_id: &Option<String>, http_status: &Option<u16>) -> String {
    match (request_id, http_status) {
        (Some(id), Some(status)) => format!(" (RequestId: {id}, HTTP {status})"),
        (Some(id), None) => format!(" (RequestId: {id})"),
        (None, Some(status)) => format!(" (HTTP {status})"),
        (None, None) => String::new(),
    }
}

/// Collapses whitespace (newlines included) so a message always fits on one line, and bounds it.
fn one_line(text: &str) -> String {
    const MAX: usize = 500;
    let mut out = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

impl CloudError {
    /// A failure raised by certdesk itself (no provider response).
    pub fn local(
        service: Service,
        code: &str,
        message: impl AsRef<str>,
        class: ErrorClass,
    ) -> Self {
        CloudError {
            provider: service.provider(),
            service,
            code: code.to_string(),
            message: one_line(message.as_ref()),
            request_id: None,
            http_status: None,
            retry_after: None,
            class,
        }
    }

    /// The error for an endpoint that failed validation.
    pub fn invalid_endpoint(service: Service, err: &super::endpoint::EndpointError) -> Self {
        CloudError::local(
            service,
            local_code::INVALID_ENDPOINT,
            err.to_string(),
            ErrorClass::InvalidInput,
        )
    }

    /// A transport failure (no usable response). The URL is dropped from the text: it may carry a
    /// private key in its query (VOD `SSLPri`).
    pub(crate) fn from_reqwest(service: Service, err: reqwest::Error) -> Self {
        let err = err.without_url();
        let (code, class) = if err.is_timeout() {
            (local_code::TIMEOUT, ErrorClass::Transient)
        } else if err.is_connect() {
            (local_code::CONNECT_FAILED, ErrorClass::Transient)
        } else if err.is_request() || err.is_body() || err.is_decode() {
            (local_code::CONNECTION_ERROR, ErrorClass::Transient)
        } else if err.is_builder() {
            (local_code::INVALID_REQUEST, ErrorClass::Other)
        } else {
            (local_code::CONNECTION_ERROR, ErrorClass::Transient)
        };
        // Include the source chain ("connection refused", "operation timed out") for diagnosis.
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        CloudError::local(service, code, message, class)
    }

    /// `true` when a retry can help.
    pub fn is_retryable(&self) -> bool {
        self.class.is_retryable()
    }

    /// `true` when the provider certainly did not act on the request, so even a non-idempotent
    /// call may be repeated: throttled, refused before connecting, or 503.
    pub fn request_was_not_processed(&self) -> bool {
        self.class == ErrorClass::Throttled
            || self.code == local_code::CONNECT_FAILED
            || self.http_status == Some(503)
    }

    /// Replaces any occurrence of the given secret values in the message (defence in depth against
    /// a server that echoes a parameter back).
    /// Messages are folded to one line, so a multi-line secret (a PEM key) is also matched in its
    /// folded form and line by line (a server may quote a single line).
    pub(crate) fn redact(mut self, secrets: &[&str]) -> Self {
        for secret in secrets.iter().filter(|s| s.trim().len() >= 4) {
            let mut forms = vec![secret.to_string(), one_line(secret)];
            forms.extend(
                secret
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= 16)
                    .map(str::to_string),
            );
            for form in forms {
                if !form.is_empty() && self.message.contains(&form) {
                    self.message = self.message.replace(&form, "[redacted]");
                }
            }
        }
        self
    }

    /// Builds the error for an Alibaba HTTP error response (`{RequestId, HostId, Code, Message}`,
    /// or the XML `<Error>` form), classifying per alibaba.md §5.
    pub fn from_alibaba_response(
        service: Service,
        status: u16,
        header_request_id: Option<&str>,
        retry_after_ms: Option<&str>,
        body: &[u8],
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let (code, message, request_id) = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => {
                let get = |keys: &[&str]| {
                    keys.iter()
                        .find_map(|k| map.get(*k).and_then(scalar))
                        .filter(|s| !s.is_empty())
                };
                (
                    get(&["Code", "code"]),
                    get(&["Message", "message"]),
                    get(&["RequestId", "requestId"]),
                )
            }
            _ => (
                xml_tag(&text, "Code"),
                xml_tag(&text, "Message"),
                xml_tag(&text, "RequestId"),
            ),
        };
        let retry_after = retry_after_ms
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        let code = code.unwrap_or_else(|| status.to_string());
        let class = classify_alibaba(status, &code, retry_after.is_some());
        CloudError {
            provider: Provider::Alibaba,
            service,
            message: one_line(&message.unwrap_or_else(|| fallback_message(status, &text))),
            code,
            request_id: request_id.or_else(|| header_request_id.map(str::to_string)),
            http_status: Some(status),
            retry_after,
            class,
        }
    }

    /// Builds the error for a Huawei HTTP error response: request id from `X-Request-Id`, body
    /// `{error_code,error_msg}` / `{errorCode,errorMsg}` / `{code,message}` (also nested), fallback
    /// code = HTTP status (huawei.md §3.1).
    pub fn from_huawei_response(
        service: Service,
        status: u16,
        header_request_id: Option<&str>,
        retry_after_secs: Option<&str>,
        body: &[u8],
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let parsed = serde_json::from_slice::<Value>(body).ok();
        let (code, message) = parsed.as_ref().and_then(huawei_code_message).unzip();
        let body_request_id = parsed
            .as_ref()
            .and_then(|v| v.get("request_id"))
            .and_then(scalar)
            .filter(|s| !s.is_empty());
        let retry_after = retry_after_secs
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let code = code.unwrap_or_else(|| status.to_string());
        let class = classify_huawei(status, &code);
        CloudError {
            provider: Provider::Huawei,
            service,
            message: one_line(&message.unwrap_or_else(|| fallback_message(status, &text))),
            code,
            request_id: header_request_id
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .or(body_request_id),
            http_status: Some(status),
            retry_after,
            class,
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn fallback_message(status: u16, body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        body.to_string()
    }
}

/// `<Tag>value</Tag>` from an XML error body (Alibaba answers XML when asked or on some gateways).
fn xml_tag(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some(text[start..end].trim().to_string()).filter(|s| !s.is_empty())
}

/// The SDK's search order for a Huawei error body, recursing into nested objects.
fn huawei_code_message(v: &Value) -> Option<(String, String)> {
    let Value::Object(map) = v else { return None };
    for (code_key, msg_key) in [
        ("error_code", "error_msg"),
        ("errorCode", "errorMsg"),
        ("code", "message"),
    ] {
        if let Some(code) = map.get(code_key).and_then(scalar).filter(|s| !s.is_empty()) {
            let message = map.get(msg_key).and_then(scalar).unwrap_or_default();
            return Some((code, message));
        }
    }
    map.values().find_map(huawei_code_message)
}

fn is_auth_code(code: &str) -> bool {
    code.starts_with("InvalidAccessKeyId")
        || code.starts_with("SignatureDoesNotMatch")
        || code.starts_with("IncompleteSignature")
        || code.starts_with("InvalidSecurityToken")
        || code.starts_with("Forbidden")
        || code.starts_with("NoPermission")
        || code == "IllegalTimestamp"
        || code == "SignatureNonceUsed"
}

fn classify_alibaba(status: u16, code: &str, has_retry_after: bool) -> ErrorClass {
    if code.starts_with("Throttling") || status == 429 || has_retry_after {
        ErrorClass::Throttled
    } else if status == 503
        || code == "ServiceUnavailable"
        || code == "ServiceBusy"
        || status >= 500
    {
        ErrorClass::Transient
    } else if is_auth_code(code) || status == 401 || status == 403 {
        ErrorClass::Auth
    } else if status == 404 || code.ends_with(".NotFound") || code.ends_with("NotExist") {
        ErrorClass::NotFound
    } else if (400..500).contains(&status) {
        ErrorClass::InvalidInput
    } else {
        ErrorClass::Other
    }
}

fn classify_huawei(status: u16, code: &str) -> ErrorClass {
    const THROTTLE_CODES: [&str; 4] = ["APIG.0308", "APIGW.0308", "IOTDA.021101", "IOTDA.021102"];
    const AUTH_CODES: [&str; 4] = ["APIG.0301", "APIGW.0301", "IOTDA.000002", "IOTDA.000021"];
    if status == 429 || THROTTLE_CODES.contains(&code) {
        ErrorClass::Throttled
    } else if status >= 500 {
        ErrorClass::Transient
    } else if status == 401 || status == 403 || AUTH_CODES.contains(&code) {
        ErrorClass::Auth
    } else if status == 404 {
        ErrorClass::NotFound
    } else if (400..500).contains(&status) {
        ErrorClass::InvalidInput
    } else {
        ErrorClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_code_message_and_request_id() {
        let body = br#"{"RequestId":"ABC","HostId":"kms.cn-hangzhou.aliyuncs.com","Code":"Certificate.NotFound","Message":"The specified certificate is not found."}"#;
        let e = CloudError::from_alibaba_response(Service::Kms, 404, None, None, body);
        assert_eq!(
            e.to_string(),
            "Certificate.NotFound: The specified certificate is not found. (RequestId: ABC, HTTP 404)"
        );
        assert_eq!(e.class, ErrorClass::NotFound);
        assert!(!e.is_retryable());
        let multi = br#"{"Code":"X","Message":"line one\nline two\r\n  three"}"#;
        let e = CloudError::from_alibaba_response(Service::Kms, 400, Some("HDR"), None, multi);
        assert_eq!(
            e.to_string(),
            "X: line one line two three (RequestId: HDR, HTTP 400)"
        );
    }

    #[test]
    fn alibaba_classification_follows_section_5() {
        let case = |status, code: &str, retry: Option<&str>| {
            let body = format!(r#"{{"Code":"{code}","Message":"m","RequestId":"R"}}"#);
            CloudError::from_alibaba_response(Service::Pca, status, None, retry, body.as_bytes())
        };
        assert_eq!(
            case(400, "Throttling.User", None).class,
            ErrorClass::Throttled
        );
        assert_eq!(case(400, "Throttling", None).class, ErrorClass::Throttled);
        let api = case(400, "Throttling.Api", Some("2000"));
        assert_eq!(api.class, ErrorClass::Throttled);
        assert_eq!(api.retry_after, Some(Duration::from_millis(2000)));
        assert_eq!(case(429, "Whatever", None).class, ErrorClass::Throttled);
        assert_eq!(
            case(503, "ServiceUnavailable", None).class,
            ErrorClass::Transient
        );
        assert_eq!(
            case(500, "InternalError", None).class,
            ErrorClass::Transient
        );
        assert!(case(502, "BadGateway", None).is_retryable());
        assert_eq!(
            case(404, "InvalidAccessKeyId.NotFound", None).class,
            ErrorClass::Auth
        );
        assert_eq!(
            case(403, "SignatureDoesNotMatch", None).class,
            ErrorClass::Auth
        );
        assert_eq!(
            case(404, "InvalidDomain.NotFound", None).class,
            ErrorClass::NotFound
        );
        assert_eq!(
            case(400, "Certificate.NotFound", None).class,
            ErrorClass::NotFound
        );
        assert_eq!(
            case(400, "InvalidParameter", None).class,
            ErrorClass::InvalidInput
        );
        assert_eq!(
            case(400, "Certificate.StatusError", None).class,
            ErrorClass::InvalidInput
        );
        assert!(!case(400, "InvalidParameter", None).is_retryable());
    }

    #[test]
    fn alibaba_xml_and_empty_bodies() {
        let xml = b"<?xml version='1.0'?><Error><RequestId>R-9</RequestId><Code>Forbidden.RAM</Code><Message>denied</Message></Error>";
        let e = CloudError::from_alibaba_response(Service::Esa, 403, None, None, xml);
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.request_id.as_deref()),
            ("Forbidden.RAM", "denied", Some("R-9"))
        );
        assert_eq!(e.class, ErrorClass::Auth);
        let e = CloudError::from_alibaba_response(Service::Esa, 502, Some("H"), None, b"");
        assert_eq!(
            e.to_string(),
            "502: HTTP 502 with an empty body (RequestId: H, HTTP 502)"
        );
    }

    #[test]
    fn huawei_body_shapes_and_request_id_header() {
        let e = CloudError::from_huawei_response(
            Service::Iotda,
            400,
            Some("req-1"),
            None,
            br#"{"error_code":"IOTDA.000006","error_msg":"Invalid input data."}"#,
        );
        assert_eq!(
            e.to_string(),
            "IOTDA.000006: Invalid input data. (RequestId: req-1, HTTP 400)"
        );
        assert_eq!(e.class, ErrorClass::InvalidInput);

        let e = CloudError::from_huawei_response(
            Service::Iotda,
            403,
            None,
            None,
            br#"{"errorCode":"E1","errorMsg":"m1"}"#,
        );
        assert_eq!((e.code.as_str(), e.message.as_str()), ("E1", "m1"));
        assert_eq!(e.class, ErrorClass::Auth);

        let e = CloudError::from_huawei_response(
            Service::Iotda,
            404,
            None,
            None,
            br#"{"error":{"code":"C2","message":"m2"}}"#,
        );
        assert_eq!((e.code.as_str(), e.message.as_str()), ("C2", "m2"));
        assert_eq!(e.class, ErrorClass::NotFound);

        let e = CloudError::from_huawei_response(
            Service::Iotda,
            429,
            None,
            Some("3"),
            br#"{"error_msg":"The throttling threshold has been reached","error_code":"APIG.0308","request_id":"body-id"}"#,
        );
        assert_eq!(e.class, ErrorClass::Throttled);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(e.request_id.as_deref(), Some("body-id"));

        let e = CloudError::from_huawei_response(
            Service::Iotda,
            500,
            None,
            None,
            b"<html>\n oops \n</html>",
        );
        assert_eq!(e.code, "500");
        assert_eq!(e.message, "<html> oops </html>");
        assert_eq!(e.class, ErrorClass::Transient);
    }

    #[test]
    fn redaction_removes_echoed_secrets() {
        let e = CloudError::local(
            Service::Vod,
            "X",
            "bad key -----BEGIN PRIVATE KEY-----abc",
            ErrorClass::Other,
        )
        .redact(&["-----BEGIN PRIVATE KEY-----abc"]);
        assert!(!e.message.contains("PRIVATE KEY"), "{e}");
        assert!(e.message.contains("[redacted]"));
    }

    #[test]
    fn not_processed_is_narrower_than_retryable() {
        let timeout = CloudError::local(
            Service::Kms,
            local_code::TIMEOUT,
            "t",
            ErrorClass::Transient,
        );
        assert!(timeout.is_retryable());
        assert!(!timeout.request_was_not_processed());
        let refused = CloudError::local(
            Service::Kms,
            local_code::CONNECT_FAILED,
            "r",
            ErrorClass::Transient,
        );
        assert!(refused.request_was_not_processed());
    }
}
