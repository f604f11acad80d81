//! Error and success envelopes exactly as the two clouds send them (alibaba.md §5, huawei.md §3):
//! Alibaba `{RequestId, HostId, Code, Message, Recommend}` with the request id also in
//! `x-acs-request-id`; Huawei `{error_code, error_msg}` (gateway errors add `request_id`) and an
//! `X-Request-Id` header on every response. Knows nothing about the individual services.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// One failed operation: HTTP status, the provider's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Alibaba `x-acs-retry-after` (ms) for throttling answers.
    pub retry_after_ms: Option<u64>,
    /// Huawei: raised by the API gateway (auth, flow control), so the body carries `request_id`.
    pub gateway: bool,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.to_string(),
            message: message.into(),
            retry_after_ms: None,
            gateway: false,
        }
    }

    /// A Huawei API-gateway error (`APIG.*`).
    pub(crate) fn gateway(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            gateway: true,
            ..ApiError::new(status, code, message)
        }
    }

    /// Alibaba 400 `MissingParameter` with the gateway's wording.
    pub(crate) fn missing_parameter(name: &str) -> ApiError {
        ApiError::new(
            400,
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    }

    /// Alibaba 400 `InvalidParameter`.
    pub(crate) fn invalid_parameter(name: &str, why: &str) -> ApiError {
        ApiError::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid. {why}"),
        )
    }

    /// Alibaba 400 `Certificate.StatusError` (same text in KMS, cas and ESA docs).
    pub(crate) fn certificate_status_error() -> ApiError {
        ApiError::new(
            400,
            "Certificate.StatusError",
            "The status of the certificate is invalid.",
        )
    }

    /// Alibaba `InvalidAction.NotFound` (404): the router's answer to an action the product does
    /// not have, and each service's answer to an action it was routed but does not handle.
    pub(crate) fn unknown_action() -> ApiError {
        ApiError::new(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )
    }

    /// Alibaba 404 `Certificate.NotFound`.
    pub(crate) fn certificate_not_found() -> ApiError {
        ApiError::new(
            404,
            "Certificate.NotFound",
            "The specified certificate is not found.",
        )
    }
}

/// A new request id: an upper-case UUID, as Alibaba prints them.
pub(crate) fn alibaba_request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_ascii_uppercase()
}

/// A new Huawei request id: 32 lower-case hex.
pub(crate) fn huawei_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn json_response(status: StatusCode, body: &Value, headers: HeaderMap) -> Response {
    let mut response = (status, headers, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Alibaba success: the operation's fields plus `RequestId`.
pub(crate) fn alibaba_ok(mut body: Map<String, Value>, request_id: &str) -> Response {
    body.insert("RequestId".into(), Value::String(request_id.to_string()));
    let mut headers = HeaderMap::new();
    headers.insert("x-acs-request-id", header_value(request_id));
    json_response(StatusCode::OK, &Value::Object(body), headers)
}

/// Alibaba error envelope. `product` names the product in the `Recommend` URL.
pub(crate) fn alibaba_error(
    err: &ApiError,
    request_id: &str,
    host: &str,
    product: &str,
) -> Response {
    let body = json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": err.code,
        "Message": err.message,
        "Recommend": format!(
            "https://api.alibabacloud.com/troubleshoot?intl_lang=EN_US&q={}&product={product}&requestId={request_id}",
            err.code
        ),
    });
    let mut headers = HeaderMap::new();
    headers.insert("x-acs-request-id", header_value(request_id));
    if let Some(ms) = err.retry_after_ms {
        headers.insert("x-acs-retry-after", header_value(&ms.max(1).to_string()));
    }
    json_response(err.status, &body, headers)
}

/// Huawei success: a JSON body, or nothing (204).
pub(crate) fn huawei_ok(status: StatusCode, body: Option<Value>, request_id: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("X-Request-Id", header_value(request_id));
    match body {
        Some(body) => json_response(status, &body, headers),
        None => (status, headers).into_response(),
    }
}

/// Huawei error envelope.
pub(crate) fn huawei_error(err: &ApiError, request_id: &str) -> Response {
    let mut body = json!({"error_code": err.code, "error_msg": err.message});
    if err.gateway {
        body["request_id"] = Value::String(request_id.to_string());
    }
    let mut headers = HeaderMap::new();
    headers.insert("X-Request-Id", header_value(request_id));
    json_response(err.status, &body, headers)
}
