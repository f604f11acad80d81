//! The one HTTP client every cloud client shares: reqwest over rustls (certificate verification
//! always on), connect and request timeouts, a certdesk user-agent, a response-size cap, and the
//! retries of the [`RetryPolicy`] its clients were built with (see `retry` for who retries what).
//! It sends requests that are already built and signed, byte for byte (the URL is never
//! re-encoded); it knows nothing of any API's shapes or signatures.
//!
//! **Proxies.** Plain-http and loopback requests (the simulator) always go straight to their
//! host, whatever `HTTP_PROXY` / `ALL_PROXY` say: their signature, security token or VOD private
//! key would otherwise reach a proxy in clear. HTTPS requests follow [`ProxySetting`]: by default
//! the environment (`HTTPS_PROXY` / `https_proxy`, then `ALL_PROXY`, minus `NO_PROXY`), or a
//! profile's own proxy. Through a proxy an HTTPS request is a `CONNECT` tunnel: the proxy sees the
//! host and port, never a header or byte of the request.

use super::error::local_code;
use super::retry::RetryPolicy;
use crate::model::Service;
use crate::model::{Error, ErrorKind};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest response body certdesk reads (16 MiB). The largest real answers are list pages of 100
/// certificates and a certificate with its chain, well under 1 MiB; a body beyond this is a broken
/// or hostile endpoint, and reading it would only fill memory. Checked against `Content-Length`
/// before reading and while reading.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Which proxy HTTPS requests take. Plain-http (loopback) requests never take one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ProxySetting {
    /// What the environment says: `HTTPS_PROXY` / `https_proxy`, else `ALL_PROXY` / `all_proxy`,
    /// except for the hosts in `NO_PROXY` / `no_proxy`.
    #[default]
    Environment,
    /// No proxy, whatever the environment says.
    Direct,
    /// This proxy (`http://host:port` or `https://host:port`), except for the hosts in `NO_PROXY`.
    Url(String),
}

impl ProxySetting {
    /// Reads a profile's `proxy` value: absent → [`ProxySetting::Environment`]; `none`, `direct`
    /// or `off` → [`ProxySetting::Direct`]; else an `http://` or `https://` proxy URL with a host,
    /// an optional port and nothing else. Credentials are refused: `profiles.toml` holds nothing
    /// secret (an authenticating proxy goes in `HTTPS_PROXY`).
    pub fn from_profile(value: Option<&str>) -> Result<ProxySetting, String> {
        let Some(text) = value.map(str::trim) else {
            return Ok(ProxySetting::Environment);
        };
        if ["none", "direct", "off"]
            .iter()
            .any(|w| text.eq_ignore_ascii_case(w))
        {
            return Ok(ProxySetting::Direct);
        }
        let url = url::Url::parse(text).map_err(|e| format!("proxy {text:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "proxy {text:?}: use an http:// or https:// proxy URL (or \"none\")"
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("proxy {text:?}: no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "proxy {text:?}: credentials are not kept in profiles.toml; set HTTPS_PROXY with them instead"
            ));
        }
        if (url.path() != "/" && !url.path().is_empty()) || url.query().is_some() {
            return Err(format!("proxy {text:?}: a proxy URL has no path or query"));
        }
        Ok(ProxySetting::Url(text.to_string()))
    }
}

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
    /// The proxy of HTTPS requests.
    pub proxy: ProxySetting,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("certdesk/", env!("CARGO_PKG_VERSION")).to_string(),
            retry: RetryPolicy::for_calls(),
            proxy: ProxySetting::Environment,
        }
    }
}

/// Why the HTTP client could not be created (TLS backend initialisation).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct TransportError(String);

/// The shared HTTP transport. Cheap to clone (the connection pools are shared).
#[derive(Debug, Clone)]
pub struct Transport {
    /// HTTPS to anything but loopback: through the proxy of `options.proxy`.
    outward: reqwest::Client,
    /// Plain http and loopback: never through a proxy.
    direct: reqwest::Client,
    options: Arc<TransportOptions>,
    /// Transports for other proxy settings, built once and shared by every clone.
    siblings: Arc<Mutex<HashMap<ProxySetting, Transport>>>,
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
        let builder = || {
            reqwest::Client::builder()
                .use_rustls_tls()
                .https_only(false) // plain http is gated per endpoint (loopback only) in `endpoint`
                .connect_timeout(options.connect_timeout)
                .timeout(options.request_timeout)
                .user_agent(options.user_agent.clone())
                .redirect(reqwest::redirect::Policy::none())
        };
        let failed = |e: reqwest::Error| TransportError(e.to_string());
        let direct = builder().no_proxy().build().map_err(failed)?;
        let outward = match &options.proxy {
            // reqwest reads HTTPS_PROXY / ALL_PROXY / NO_PROXY itself (HTTP_PROXY only for http
            // URLs, which never go through this client).
            ProxySetting::Environment => builder().build().map_err(failed)?,
            ProxySetting::Direct => direct.clone(),
            ProxySetting::Url(url) => {
                let proxy = reqwest::Proxy::https(url.as_str())
                    .map_err(failed)?
                    .no_proxy(reqwest::NoProxy::from_env());
                builder().proxy(proxy).build().map_err(failed)?
            }
        };
        Ok(Transport {
            outward,
            direct,
            options: Arc::new(options),
            siblings: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// This transport with HTTPS requests going through `proxy` instead (a profile's own proxy
    /// setting); the same transport when that is already its setting. Built once per setting and
    /// shared by every clone, so the clients of one account share their connections.
    pub fn with_proxy(&self, proxy: &ProxySetting) -> Result<Transport, TransportError> {
        if *proxy == self.options.proxy {
            return Ok(self.clone());
        }
        let mut siblings = self
            .siblings
            .lock()
            .map_err(|_| TransportError("the transport cache was poisoned".into()))?;
        if let Some(existing) = siblings.get(proxy) {
            return Ok(existing.clone());
        }
        let sibling = Transport::with_options(TransportOptions {
            proxy: proxy.clone(),
            ..(*self.options).clone()
        })?;
        siblings.insert(proxy.clone(), sibling.clone());
        Ok(sibling)
    }

    /// The client for `url`: plain http and loopback hosts never go through a proxy.
    fn client_for(&self, url: &reqwest::Url) -> &reqwest::Client {
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => true,
        };
        if loopback || url.scheme() != "https" {
            &self.direct
        } else {
            &self.outward
        }
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
        let mut builder = self
            .client_for(&url)
            .request(request.method, url)
            .headers(headers);
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| Error::from_reqwest(service, e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let too_large = || {
            Error::local(
                service,
                local_code::RESPONSE_TOO_LARGE,
                format!(
                    "the response body is larger than {} MiB; certdesk does not read it",
                    MAX_RESPONSE_BYTES >> 20
                ),
                ErrorKind::Other,
            )
        };
        if response
            .content_length()
            .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Error::from_reqwest(service, e))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
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
