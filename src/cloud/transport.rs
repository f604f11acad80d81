//! The one HTTP client every cloud client shares: reqwest over rustls (certificate verification
//! always on), connect and request timeouts, a certdesk user-agent, and the retries of the
//! [`RetryPolicy`] its clients were built with (see `retry` for who retries what). It sends requests that are already built and signed, byte for
//! byte (the URL is never re-encoded); it knows nothing of any API's shapes or signatures.

use super::error::local_code;
use super::retry::RetryPolicy;
use crate::model::Service;
use crate::model::{Error, ErrorKind};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tunables of the shared transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportOptions {
    /// Time allowed to establish a connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, response body included.
    pub request_timeout: Duration,
    /// `User-Agent` header value (never signed: the HTTP stack owns it).
    pub user_agent: String,
    /// How failed requests are retried (see [`RetryPolicy`]); [`RetryPolicy::none`] for callers
    /// that retry themselves, such as the bulk engine. Non-idempotent calls are retried only when
    /// the provider certainly did not act ([`Error::request_was_not_processed`]).
    pub retry: RetryPolicy,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("certdesk/", env!("CARGO_PKG_VERSION")).to_string(),
            retry: RetryPolicy::for_calls(),
        }
    }
}

/// Why the HTTP client could not be created (TLS backend initialisation).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct TransportError(String);

/// The shared HTTP transport. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    options: Arc<TransportOptions>,
}

/// A request ready to go: the URL (query already canonical), every header and the exact body.
pub(crate) struct PreparedRequest {
    /// HTTP method.
    pub method: Method,
    /// Full URL; must survive `Url::parse` unchanged.
    pub url: String,
    /// Headers exactly as signed (plus unsigned extras such as `accept`).
    pub headers: Vec<(String, String)>,
    /// Exact body bytes (empty for none).
    pub body: Vec<u8>,
}

/// What came back.
pub(crate) struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Whole body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A header as text, when present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Transport {
    /// A transport with the default options (10 s connect, 30 s request, 2 retries).
    pub fn new() -> Result<Transport, TransportError> {
        Transport::with_options(TransportOptions::default())
    }

    /// A transport with explicit options.
    pub fn with_options(options: TransportOptions) -> Result<Transport, TransportError> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(false) // plain http is gated per endpoint (loopback only) in `endpoint`
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(options.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| TransportError(e.to_string()))?;
        Ok(Transport {
            client,
            options: Arc::new(options),
        })
    }

    /// The options in force.
    pub fn options(&self) -> &TransportOptions {
        &self.options
    }

    /// Sends one prepared request.
    pub(crate) async fn execute(
        &self,
        service: Service,
        request: PreparedRequest,
    ) -> Result<RawResponse, Error> {
        let invalid =
            |msg: String| Error::local(service, local_code::INVALID_REQUEST, msg, ErrorKind::Other);
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| invalid(format!("cannot parse the request URL: {e}")))?;
        // The query was signed as sent; a URL parser that re-encoded it would break the signature.
        if url.as_str() != request.url {
            return Err(invalid(
                "the request URL would be re-encoded; refusing to send it".to_string(),
            ));
        }
        let mut headers = HeaderMap::with_capacity(request.headers.len());
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("invalid header name {name:?}")))?;
            // Values are not echoed: a header may carry a security token.
            let value = HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("invalid value for header {name}")))?;
            headers.append(name, value);
        }
        let path = url.path().to_string();
        let method = request.method.clone();
        let started = Instant::now();
        let mut builder = self.client.request(request.method, url).headers(headers);
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| Error::from_reqwest(service, e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(service, e))?
            .to_vec();
        // Never log the query: it may carry a private key (VOD SSLPri).
        tracing::debug!(%service, %method, %path, status, elapsed_ms = started.elapsed().as_millis() as u64, "cloud call");
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// Builds (fresh date and nonce per attempt), sends and interprets a request, retrying
    /// retryable failures as [`TransportOptions::retry`] says. `idempotent` requests are
    /// retried on any retryable failure; others only when the provider certainly did not act.
    pub(crate) async fn run<T>(
        &self,
        service: Service,
        idempotent: bool,
        mut build: impl FnMut() -> Result<PreparedRequest, Error>,
        interpret: impl Fn(RawResponse) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let policy = self.options.retry;
        let mut attempt = 1u32;
        // Seeded only when a retry needs a jitter: most calls never do.
        let mut rng: Option<rand_chacha::ChaCha8Rng> = None;
        loop {
            let request = build()?;
            let result = match self.execute(service, request).await {
                Ok(raw) => interpret(raw),
                Err(e) => Err(e),
            };
            match result {
                Err(e)
                    if policy.allows_another(attempt)
                        && e.is_retryable()
                        && (idempotent || e.request_was_not_processed()) =>
                {
                    let rng = rng.get_or_insert_with(rand::SeedableRng::from_entropy);
                    let wait = policy.delay(attempt, e.retry_after, rng);
                    tracing::debug!(%service, code = %e.code, attempt, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::signing::canonical_query;

    #[test]
    fn canonical_queries_survive_url_parsing_unchanged() {
        let params = vec![
            (
                "Id".to_string(),
                "a b*c~d/e+f=g&hé\n中 %41 #frag ?q 'x' <y>".to_string(),
            ),
            ("Empty".to_string(), String::new()),
            (
                "SSLPri".to_string(),
                "-----BEGIN PRIVATE KEY-----\nMIIE+/=\n-----END PRIVATE KEY-----\n".to_string(),
            ),
        ];
        let query = canonical_query(&params);
        for base in [
            "https://kms.cn-hangzhou.aliyuncs.com/",
            "http://127.0.0.1:8080/",
            "http://[::1]:9/v5/iot/p/device-certificates",
        ] {
            let text = format!("{base}?{query}");
            let url = reqwest::Url::parse(&text).unwrap();
            assert_eq!(url.as_str(), text);
            assert_eq!(url.query(), Some(query.as_str()));
        }
    }
}
