//! Reading the clouds' error answers into the one error type ([`crate::model::Error`]): who
//! answered, what they said (code, message, request id, HTTP status), how long to wait, and what
//! kind of failure it is — decided here, once, from the provider's code and HTTP status
//! (alibaba.md §5, huawei.md §3). Transport failures (timeouts, resets) are classified here too.
//! Never carries a secret: messages come from the server or from us, never from credentials.

pub use crate::model::error::local_code;
use crate::model::error::one_line;
use crate::model::{Error, ErrorKind, Provider, Service};
use serde_json::Value;
use std::time::Duration;

impl Error {
    /// The error for an endpoint that failed validation.
    pub fn invalid_endpoint(service: Service, err: &super::endpoint::EndpointError) -> Self {
        Error::local(
            service,
            local_code::INVALID_ENDPOINT,
            err.to_string(),
            ErrorKind::InvalidInput,
        )
    }

    /// A transport failure (no usable response). The URL is dropped from the text: it may carry a
    /// private key in its query (VOD `SSLPri`).
    pub(crate) fn from_reqwest(service: Service, err: reqwest::Error) -> Self {
        let err = err.without_url();
        let (code, class) = if err.is_timeout() {
            (local_code::TIMEOUT, ErrorKind::Transient)
        } else if err.is_connect() {
            (local_code::CONNECT_FAILED, ErrorKind::Transient)
        } else if err.is_request() || err.is_body() || err.is_decode() {
            (local_code::CONNECTION_ERROR, ErrorKind::Transient)
        } else if err.is_builder() {
            (local_code::INVALID_REQUEST, ErrorKind::Other)
        } else {
            (local_code::CONNECTION_ERROR, ErrorKind::Transient)
        };
        // Include the source chain ("connection refused", "operation timed out") for diagnosis.
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Error::local(service, code, message, class)
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
        let kind = classify_alibaba(status, &code, retry_after.is_some());
        Error {
            provider: Some(Provider::Alibaba),
            service: Some(service),
            message: one_line(&message.unwrap_or_else(|| fallback_message(status, &text))),
            code,
            request_id: request_id.or_else(|| header_request_id.map(str::to_string)),
            http_status: Some(status),
            retry_after,
            kind,
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
        let kind = classify_huawei(status, &code);
        Error {
            provider: Some(Provider::Huawei),
            service: Some(service),
            message: one_line(&message.unwrap_or_else(|| fallback_message(status, &text))),
            code,
            request_id: header_request_id
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .or(body_request_id),
            http_status: Some(status),
            retry_after,
            kind,
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

/// Codes that say the item exists but its status does not allow the change (KMS and cas
/// `Certificate.StatusError`, VOD `IllegalOperation`, `*.InvalidStatus`).
fn is_state_code(code: &str) -> bool {
    code.ends_with("StatusError")
        || code.ends_with("InvalidStatus")
        || code.starts_with("IncorrectStatus")
        || code == "IllegalOperation"
}

fn classify_alibaba(status: u16, code: &str, has_retry_after: bool) -> ErrorKind {
    if code.starts_with("Throttling") || status == 429 || has_retry_after {
        ErrorKind::Throttled
    } else if status == 503
        || code == "ServiceUnavailable"
        || code == "ServiceBusy"
        || status >= 500
    {
        ErrorKind::Transient
    } else if is_auth_code(code) || status == 401 || status == 403 {
        ErrorKind::Auth
    } else if status == 404 || code.ends_with(".NotFound") || code.ends_with("NotExist") {
        ErrorKind::NotFound
    } else if is_state_code(code) {
        ErrorKind::InvalidState
    } else if (400..500).contains(&status) {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Other
    }
}

fn classify_huawei(status: u16, code: &str) -> ErrorKind {
    const THROTTLE_CODES: [&str; 4] = ["APIG.0308", "APIGW.0308", "IOTDA.021101", "IOTDA.021102"];
    const AUTH_CODES: [&str; 4] = ["APIG.0301", "APIGW.0301", "IOTDA.000002", "IOTDA.000021"];
    if status == 429 || THROTTLE_CODES.contains(&code) {
        ErrorKind::Throttled
    } else if status >= 500 {
        ErrorKind::Transient
    } else if status == 401 || status == 403 || AUTH_CODES.contains(&code) {
        ErrorKind::Auth
    } else if status == 404 {
        ErrorKind::NotFound
    } else if (400..500).contains(&status) {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_code_message_and_request_id() {
        let body = br#"{"RequestId":"ABC","HostId":"kms.cn-hangzhou.aliyuncs.com","Code":"Certificate.NotFound","Message":"The specified certificate is not found."}"#;
        let e = Error::from_alibaba_response(Service::Kms, 404, None, None, body);
        assert_eq!(
            e.to_string(),
            "Certificate.NotFound: The specified certificate is not found. (RequestId: ABC, HTTP 404)"
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(!e.is_retryable());
        let multi = br#"{"Code":"X","Message":"line one\nline two\r\n  three"}"#;
        let e = Error::from_alibaba_response(Service::Kms, 400, Some("HDR"), None, multi);
        assert_eq!(
            e.to_string(),
            "X: line one line two three (RequestId: HDR, HTTP 400)"
        );
    }

    #[test]
    fn alibaba_classification_follows_section_5() {
        let case = |status, code: &str, retry: Option<&str>| {
            let body = format!(r#"{{"Code":"{code}","Message":"m","RequestId":"R"}}"#);
            Error::from_alibaba_response(Service::Pca, status, None, retry, body.as_bytes())
        };
        assert_eq!(
            case(400, "Throttling.User", None).kind,
            ErrorKind::Throttled
        );
        assert_eq!(case(400, "Throttling", None).kind, ErrorKind::Throttled);
        let api = case(400, "Throttling.Api", Some("2000"));
        assert_eq!(api.kind, ErrorKind::Throttled);
        assert_eq!(api.retry_after, Some(Duration::from_millis(2000)));
        assert_eq!(case(429, "Whatever", None).kind, ErrorKind::Throttled);
        assert_eq!(
            case(503, "ServiceUnavailable", None).kind,
            ErrorKind::Transient
        );
        assert_eq!(case(500, "InternalError", None).kind, ErrorKind::Transient);
        assert!(case(502, "BadGateway", None).is_retryable());
        assert_eq!(
            case(404, "InvalidAccessKeyId.NotFound", None).kind,
            ErrorKind::Auth
        );
        assert_eq!(
            case(403, "SignatureDoesNotMatch", None).kind,
            ErrorKind::Auth
        );
        assert_eq!(
            case(404, "InvalidDomain.NotFound", None).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            case(400, "Certificate.NotFound", None).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            case(400, "InvalidParameter", None).kind,
            ErrorKind::InvalidInput
        );
        assert_eq!(
            case(400, "Certificate.StatusError", None).kind,
            ErrorKind::InvalidState
        );
        assert!(!case(400, "InvalidParameter", None).is_retryable());
    }

    #[test]
    fn alibaba_xml_and_empty_bodies() {
        let xml = b"<?xml version='1.0'?><Error><RequestId>R-9</RequestId><Code>Forbidden.RAM</Code><Message>denied</Message></Error>";
        let e = Error::from_alibaba_response(Service::Esa, 403, None, None, xml);
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.request_id.as_deref()),
            ("Forbidden.RAM", "denied", Some("R-9"))
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        let e = Error::from_alibaba_response(Service::Esa, 502, Some("H"), None, b"");
        assert_eq!(
            e.to_string(),
            "502: HTTP 502 with an empty body (RequestId: H, HTTP 502)"
        );
    }

    #[test]
    fn huawei_body_shapes_and_request_id_header() {
        let e = Error::from_huawei_response(
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
        assert_eq!(e.kind, ErrorKind::InvalidInput);

        let e = Error::from_huawei_response(
            Service::Iotda,
            403,
            None,
            None,
            br#"{"errorCode":"E1","errorMsg":"m1"}"#,
        );
        assert_eq!((e.code.as_str(), e.message.as_str()), ("E1", "m1"));
        assert_eq!(e.kind, ErrorKind::Auth);

        let e = Error::from_huawei_response(
            Service::Iotda,
            404,
            None,
            None,
            br#"{"error":{"code":"C2","message":"m2"}}"#,
        );
        assert_eq!((e.code.as_str(), e.message.as_str()), ("C2", "m2"));
        assert_eq!(e.kind, ErrorKind::NotFound);

        let e = Error::from_huawei_response(
            Service::Iotda,
            429,
            None,
            Some("3"),
            br#"{"error_msg":"The throttling threshold has been reached","error_code":"APIG.0308","request_id":"body-id"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(e.request_id.as_deref(), Some("body-id"));

        let e = Error::from_huawei_response(
            Service::Iotda,
            500,
            None,
            None,
            b"<html>\n oops \n</html>",
        );
        assert_eq!(e.code, "500");
        assert_eq!(e.message, "<html> oops </html>");
        assert_eq!(e.kind, ErrorKind::Transient);
    }

    #[test]
    fn redaction_removes_echoed_secrets() {
        let e = Error::local(
            Service::Vod,
            "X",
            "bad key -----BEGIN PRIVATE KEY-----abc",
            ErrorKind::Other,
        )
        .redact(&["-----BEGIN PRIVATE KEY-----abc"]);
        assert!(!e.message.contains("PRIVATE KEY"), "{e}");
        assert!(e.message.contains("[redacted]"));
    }

    #[test]
    fn not_processed_is_narrower_than_retryable() {
        let timeout = Error::local(Service::Kms, local_code::TIMEOUT, "t", ErrorKind::Transient);
        assert!(timeout.is_retryable());
        assert!(!timeout.request_was_not_processed());
        let refused = Error::local(
            Service::Kms,
            local_code::CONNECT_FAILED,
            "r",
            ErrorKind::Transient,
        );
        assert!(refused.request_was_not_processed());
    }
}
