//! The one error of every operation certdesk performs against a cloud: who answered (provider,
//! service), what they said (code, message, request id, HTTP status), how long they asked us to
//! wait, and what kind of failure it is ([`ErrorKind`]). The kind is decided once, where the
//! failure is seen (the cloud client reading an error body, the transport, the journal, the
//! account set-up), and travels unchanged through jobs to the window and the CLI's exit code:
//! nothing downstream guesses it back from code or message text.
//!
//! Plain data: the constructors that read a provider's error body live with the wire code in
//! `cloud::error`. Never carries a secret: messages come from the server or from certdesk, never
//! from credentials.

use super::{Provider, Service};
use std::fmt;
use std::time::Duration;

/// What kind of failure: decides whether waiting helps, what the user is told to do, and the
/// CLI's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Flow control (Alibaba `Throttling*`, HTTP 429, Huawei `APIG.0308`): slow down and retry.
    Throttled,
    /// Temporary server or network trouble (5xx, timeouts, resets, refused connections).
    Transient,
    /// Credentials, signature, clock or permissions (401/403, `InvalidAccessKeyId*`,
    /// `SignatureDoesNotMatch`, `Forbidden.RAM`).
    Auth,
    /// The addressed certificate, domain or site does not exist.
    NotFound,
    /// The item exists but its current state does not allow the change (`Certificate.StatusError`).
    InvalidState,
    /// The request itself is wrong (400 `InvalidParameter`, a bad endpoint, an unsupported change).
    InvalidInput,
    /// certdesk is not set up for the call: no account for this cloud, no credentials, no project.
    Config,
    /// The journal or audit log could not record the change, so it was not sent.
    Journal,
    /// Anything else (unexpected response shapes, internal problems).
    Other,
}

impl ErrorKind {
    /// `true` when the same request may succeed later (throttling, transient failures).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }

    /// Stable lower-case code (JSON output, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::Transient => "transient",
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not-found",
            ErrorKind::InvalidState => "invalid-state",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::Config => "config",
            ErrorKind::Journal => "journal",
            ErrorKind::Other => "other",
        }
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
    /// No account of the service's cloud is configured.
    pub const NO_ACCOUNT: &str = "NoAccount";
    /// The change could not be written to the audit log or journal, so it was not sent.
    pub const AUDIT_FAILED: &str = "AuditFailed";
    /// The service does not offer the change on that item.
    pub const UNSUPPORTED: &str = "Unsupported";
    /// The item is addressed without something it needs (an ESA certificate without its site).
    pub const MISSING_SITE_ID: &str = "MissingSiteId";
}

/// A failed operation. Displays as one line: `Code: Message (RequestId: X, HTTP 404)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{code}: {message}{}", context_suffix(.request_id, .http_status))]
pub struct Error {
    /// The cloud, when the failure concerns one.
    pub provider: Option<Provider>,
    /// The service called, when known.
    pub service: Option<Service>,
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
    #[serde(skip)]
    pub retry_after: Option<Duration>,
    /// The kind of failure.
    pub kind: ErrorKind,
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
pub fn one_line(text: &str) -> String {
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

impl Error {
    /// A failure of a call to `service` raised by certdesk itself (no provider response).
    pub fn local(service: Service, code: &str, message: impl AsRef<str>, kind: ErrorKind) -> Self {
        Error {
            provider: Some(service.provider()),
            service: Some(service),
            ..Error::internal(kind, code, message)
        }
    }

    /// A failure raised by certdesk outside any one service call (journal, set-up).
    pub fn internal(kind: ErrorKind, code: &str, message: impl AsRef<str>) -> Self {
        Error {
            provider: None,
            service: None,
            code: code.to_string(),
            message: one_line(message.as_ref()),
            request_id: None,
            http_status: None,
            retry_after: None,
            kind,
        }
    }

    /// No account of `provider` is configured for the call.
    pub fn no_account(provider: Provider) -> Self {
        Error {
            provider: Some(provider),
            ..Error::internal(
                ErrorKind::Config,
                local_code::NO_ACCOUNT,
                format!(
                    "no {} account is configured for this workspace: add a profile in Settings",
                    provider.display_name()
                ),
            )
        }
    }

    /// The change was not sent because it could not be recorded first.
    pub fn not_recorded(reason: impl fmt::Display) -> Self {
        Error::internal(
            ErrorKind::Journal,
            local_code::AUDIT_FAILED,
            format!("not sent: the change could not be recorded in the audit log ({reason})"),
        )
    }

    /// `true` when a retry can help.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// `true` when the provider certainly did not act on the request, so even a non-idempotent
    /// call may be repeated: throttled, refused before connecting, or 503.
    pub fn request_was_not_processed(&self) -> bool {
        self.kind == ErrorKind::Throttled
            || self.code == local_code::CONNECT_FAILED
            || self.http_status == Some(503)
    }

    /// What the user can do about it.
    pub fn advice(&self) -> &'static str {
        match self.kind {
            ErrorKind::Throttled => {
                "The provider is throttling requests. Wait a few seconds, then retry."
            }
            ErrorKind::Transient if self.http_status.is_none() => {
                "The endpoint could not be reached. Check the network and the endpoint override in Settings, then retry."
            }
            ErrorKind::Transient => "The provider had a temporary problem. Retry in a moment.",
            ErrorKind::Auth => {
                "The credentials were refused or lack a permission: check the profile in Settings \
                 (AccessKey, secret, signing, endpoint, the computer's clock) and that the key's \
                 RAM/IAM user may make this call, then test the connection."
            }
            ErrorKind::NotFound => "The resource no longer exists. Refresh the list.",
            ErrorKind::InvalidState => {
                "The item's current status does not allow this change. Refresh to see its status."
            }
            ErrorKind::InvalidInput if self.code == local_code::INVALID_ENDPOINT => {
                "The endpoint override is not usable (https, or http only for loopback). Fix it in Settings."
            }
            ErrorKind::InvalidInput => {
                "The provider refused the request as invalid; quote the RequestId if you contact support."
            }
            ErrorKind::Config => "Add or fix the account in Settings → Profiles.",
            ErrorKind::Journal => {
                "Nothing was sent. Check that the data directory is writable and has free space."
            }
            ErrorKind::Other => {
                "Check the request and the profile's settings; quote the RequestId if you contact support."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_what_is_known() {
        let mut e = Error::local(
            Service::Kms,
            "Certificate.NotFound",
            "not\nfound",
            ErrorKind::NotFound,
        );
        assert_eq!(e.to_string(), "Certificate.NotFound: not found");
        e.request_id = Some("R".into());
        e.http_status = Some(404);
        assert_eq!(
            e.to_string(),
            "Certificate.NotFound: not found (RequestId: R, HTTP 404)"
        );
        assert_eq!(e.provider, Some(Provider::Alibaba));
    }

    #[test]
    fn advice_follows_the_kind_not_the_code_text() {
        let e = |kind| Error::internal(kind, "Whatever", "m");
        assert!(e(ErrorKind::Throttled).advice().contains("Wait"));
        assert!(e(ErrorKind::Auth).advice().contains("credentials"));
        assert!(e(ErrorKind::NotFound).advice().contains("Refresh"));
        assert!(e(ErrorKind::InvalidState).advice().contains("status"));
        assert!(e(ErrorKind::Transient).advice().contains("network"));
        assert!(e(ErrorKind::Journal).advice().contains("Nothing was sent"));
        // A code that looks like throttling does not make an error throttled.
        assert!(
            !Error::internal(ErrorKind::Other, "Throttling.User", "m")
                .advice()
                .contains("Wait")
        );
        assert!(ErrorKind::Throttled.is_retryable() && !ErrorKind::InvalidState.is_retryable());
    }

    #[test]
    fn no_account_is_a_config_error_naming_the_cloud() {
        let e = Error::no_account(Provider::Huawei);
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("Huawei Cloud"), "{e}");
    }
}
