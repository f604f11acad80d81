//! Typed async clients for every cloud API certdesk calls (kms, pca, esa, vod, cdn, the SSL
//! certificate repository, sts, iotda) over one shared HTTP transport. Knows `signing` and `model`; knows nothing of jobs, the app or egui.
//!
//! Layout: [`transport`] (the one reqwest client, timeouts), [`retry`] (the one retry policy),
//! [`error`] (reading error answers into the one error type), [`endpoint`] (default hosts and the
//! http-only-on-loopback rule), `alibaba` / `huawei` (request builders + signing callers shared by
//! the clients), then one file per service.

use serde::{Deserialize, Serialize};

mod alibaba;
pub mod cdn;
mod de;
pub mod endpoint;
pub mod error;
pub mod esa;
mod huawei;
pub mod iotda;
pub mod kms;
pub mod pca;
pub mod retry;
pub mod ssl;
pub mod sts;
pub mod transport;
pub mod vod;

pub use crate::model::{Error, ErrorKind};
pub use cdn::{CdnClient, CdnSslChange};
pub use de::parse_datetime;
pub use esa::{EsaClient, SiteId};
pub use iotda::{IotdaClient, IotdaStatus};
pub use kms::{KmsCertificateStatus, KmsClient, KmsKeySpec};
pub use pca::PcaClient;
pub use retry::RetryPolicy;
pub use ssl::SslClient;
pub use sts::{AssumeRoleRequest, RoleSession, StsClient, TemporaryCredentials};
pub use transport::{ProxySetting, Transport, TransportOptions};
pub use vod::VodClient;

use crate::credentials::{AlibabaCredentials, HuaweiCredentials};

/// Which Alibaba signature a profile uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlibabaSignatureVersion {
    /// ACS3-HMAC-SHA256, the current SDKs' default.
    #[default]
    V3,
    /// Legacy RPC signature (HMAC-SHA1, `SignatureVersion=1.0`), still accepted by the gateways.
    V1,
}

/// Which Huawei signature a profile uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HuaweiSigning {
    /// Decide from the host like the SDK's default derived predicate: V11 for `*.iotda-app.*`
    /// instance endpoints (and loopback), SDK-HMAC-SHA256 for the shared ones.
    #[default]
    Auto,
    /// Always SDK-HMAC-SHA256.
    Basic,
    /// Always V11-HMAC-SHA256 (derived key).
    Derived,
}

/// Everything an Alibaba client (KMS, PCA, ESA, VOD, CDN, SSL, STS) needs besides the transport.
#[derive(Debug, Clone)]
pub struct AlibabaClientConfig {
    /// AccessKey (and optional STS token).
    pub credentials: AlibabaCredentials,
    /// Region id, e.g. `cn-hangzhou`; picks the default endpoint.
    pub region: String,
    /// Endpoint override (`https://host[:port]`, or `http://` for loopback only); replaces the
    /// regional default for every service.
    pub endpoint: Option<String>,
    /// Signature to use.
    pub signature: AlibabaSignatureVersion,
    /// A RAM role assumed with `credentials`' account: when set, every call signs with the
    /// role's temporary credentials instead (`credentials` are then unused by the clients).
    pub role: Option<std::sync::Arc<dyn alibaba::CredentialSource>>,
    /// The proxy of this account's HTTPS requests (a profile's `proxy`; by default the
    /// environment's).
    pub proxy: ProxySetting,
}

impl PartialEq for AlibabaClientConfig {
    fn eq(&self, other: &Self) -> bool {
        self.credentials == other.credentials
            && self.region == other.region
            && self.endpoint == other.endpoint
            && self.signature == other.signature
            && self.proxy == other.proxy
            && self.role.as_ref().map(|r| r.identity()) == other.role.as_ref().map(|r| r.identity())
    }
}

impl Eq for AlibabaClientConfig {}

/// Everything the IoTDA client needs besides the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuaweiClientConfig {
    /// AK/SK (and optional security token).
    pub credentials: HuaweiCredentials,
    /// Region id, e.g. `cn-north-4`; picks the default endpoint and the derived-key scope.
    pub region: String,
    /// Endpoint override, e.g. an instance endpoint `https://xxxx.st1.iotda-app.cn-north-4.myhuaweicloud.com`.
    pub endpoint: Option<String>,
    /// Signature to use.
    pub signing: HuaweiSigning,
    /// IAM project id of the region (path parameter and `X-Project-Id`).
    pub project_id: String,
    /// IoTDA instance id (`Instance-Id` header), mandatory for professional editions.
    pub instance_id: Option<String>,
    /// The proxy of this account's HTTPS requests (a profile's `proxy`; by default the
    /// environment's).
    pub proxy: ProxySetting,
}

/// The answer of every action that returns nothing but its request id (KMS UpdateCertificateStatus,
/// PCA CreateRevokeClientCertificate, VOD SetVodDomainCertificate...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestIdResponse {
    /// The provider's request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
}

/// `Some(text)` unless it is empty (optional row fields from always-present strings).
fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A fingerprint as lower-case hex without separators, so fingerprints from different services
/// (and from a local PEM) compare equal.
fn normalize_fingerprint(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    (!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// SHA-256 (lower-case hex) of the first certificate of a PEM text; `None` when there is none.
fn pem_sha256(text: &str) -> Option<String> {
    use sha2::Digest;
    let blocks = pem::parse_many(text.trim().as_bytes()).ok()?;
    let cert = blocks.iter().find(|b| b.tag() == "CERTIFICATE")?;
    Some(hex::encode(sha2::Sha256::digest(cert.contents())))
}

/// The `CN` of a distinguished name written `C=CN,O=Org,CN=name` (or `/`-separated).
fn dn_common_name(dn: &str) -> Option<String> {
    dn.split([',', '/'])
        .filter_map(|part| part.trim().split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("CN"))
        .and_then(|(_, value)| non_empty(value))
}

/// Upper bound of pages one listing walks; a guard against a server that never says "done".
const MAX_PAGES: u32 = 100_000;

/// Walks numbered pages (1, 2, ...) until the reported total is reached, a page comes back empty,
/// or (when no total is known) a page is shorter than `page_size`. `fetch` returns one page's
/// items and the total the server reports; `progress(fetched, total)` runs after every page.
async fn collect_pages<T, F, Fut>(
    page_size: usize,
    mut fetch: F,
    mut progress: impl FnMut(usize, Option<usize>),
) -> Result<Vec<T>, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<usize>), Error>>,
{
    let mut all = Vec::new();
    let mut page = 1u32;
    loop {
        let (items, total) = fetch(page).await?;
        let got = items.len();
        all.extend(items);
        progress(all.len(), total);
        let done = match total {
            // A server may cap the page size below what was asked, so trust the total when known.
            Some(total) => all.len() >= total || got == 0,
            None => got == 0 || got < page_size,
        };
        if done || page >= MAX_PAGES {
            return Ok(all);
        }
        page += 1;
    }
}

/// A non-negative count from a provider's number.
fn count(value: Option<i64>) -> Option<usize> {
    value.and_then(|v| usize::try_from(v).ok())
}

#[cfg(test)]
mod helper_tests {
    use super::*;

    #[test]
    fn common_name_and_fingerprint_helpers() {
        assert_eq!(
            dn_common_name("C=CN,O=Example,OU=IT,CN=device-01").as_deref(),
            Some("device-01")
        );
        assert_eq!(
            dn_common_name("/C=CN/CN=a.example.com").as_deref(),
            Some("a.example.com")
        );
        assert_eq!(dn_common_name("O=x"), None);
        assert_eq!(normalize_fingerprint("AB:CD:0f").as_deref(), Some("abcd0f"));
        assert_eq!(normalize_fingerprint("zz"), None);
        assert_eq!(normalize_fingerprint(""), None);
        let pem = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
        assert_eq!(
            pem_sha256(pem).as_deref(),
            Some("ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc")
        );
        assert_eq!(pem_sha256(""), None);
        assert_eq!(
            pem_sha256("-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----"),
            None
        );
    }

    #[tokio::test]
    async fn pages_stop_at_total_empty_page_or_short_page() {
        // Total known, server caps page size at 2 although 5 were asked: keep going to the total.
        let data: Vec<u32> = (0..7).collect();
        let mut seen = Vec::new();
        let all = collect_pages(
            5,
            |page| {
                let start = ((page - 1) * 2) as usize;
                let items = data.iter().skip(start).take(2).copied().collect::<Vec<_>>();
                async move { Ok((items, Some(7))) }
            },
            |n, t| seen.push((n, t)),
        )
        .await
        .unwrap();
        assert_eq!(all, data);
        assert_eq!(seen.last(), Some(&(7, Some(7))));
        assert_eq!(seen.len(), 4);

        // No total: a short page ends the walk.
        let calls = std::cell::Cell::new(0);
        let all = collect_pages(
            3,
            |page| {
                calls.set(calls.get() + 1);
                let items: Vec<u32> = if page == 1 { vec![1, 2, 3] } else { vec![4] };
                async move { Ok((items, None)) }
            },
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(all, vec![1, 2, 3, 4]);
        assert_eq!(calls.get(), 2);

        // A total that is never reached: an empty page ends the walk.
        let all = collect_pages(
            2,
            |page| async move { Ok((if page < 3 { vec![page, page] } else { vec![] }, Some(100))) },
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(all.len(), 4);
    }
}

#[cfg(test)]
mod thread_safety_tests {
    use super::*;
    use crate::credentials::Secret;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}

    /// The GUI and the bulk engine move clients into tokio tasks: clients must be
    /// `Clone + Send + Sync` and every call's future `Send`.
    #[tokio::test]
    async fn clients_and_their_futures_can_move_between_threads() {
        assert_clone_send_sync::<Transport>();
        assert_clone_send_sync::<KmsClient>();
        assert_clone_send_sync::<PcaClient>();
        assert_clone_send_sync::<EsaClient>();
        assert_clone_send_sync::<VodClient>();
        assert_clone_send_sync::<IotdaClient>();
        assert_clone_send_sync::<CdnClient>();
        assert_clone_send_sync::<SslClient>();
        assert_clone_send_sync::<StsClient>();
        assert_clone_send_sync::<Error>();

        let transport = Transport::new().unwrap();
        let ali = AlibabaClientConfig {
            credentials: crate::credentials::AlibabaCredentials {
                access_key_id: "id".into(),
                access_key_secret: Secret::new("secret"),
                security_token: None,
            },
            region: "cn-hangzhou".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            signature: AlibabaSignatureVersion::V3,
            role: None,
            proxy: Default::default(),
        };
        let hw = HuaweiClientConfig {
            credentials: crate::credentials::HuaweiCredentials {
                access_key: "ak".into(),
                secret_key: Secret::new("sk"),
                security_token: None,
            },
            region: "cn-north-4".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            signing: HuaweiSigning::Auto,
            project_id: "p".into(),
            instance_id: None,
            proxy: Default::default(),
        };
        let kms = KmsClient::new(&transport, &ali).unwrap();
        let pca = PcaClient::new(&transport, &ali).unwrap();
        let esa = EsaClient::new(&transport, &ali).unwrap();
        let vod = VodClient::new(&transport, &ali).unwrap();
        let iot = IotdaClient::new(&transport, &hw).unwrap();
        let cdn = CdnClient::new(&transport, &ali).unwrap();
        let ssl = SslClient::new(&transport, &ali).unwrap();
        let sts = StsClient::new(&transport, &ali).unwrap();
        let change = CdnSslChange::Upload {
            cert_name: None,
            certificate_pem: "c".into(),
            private_key: Secret::new("k"),
        };
        let query = cdn::DomainQuery::default();
        let role = AssumeRoleRequest::default();
        assert_send(&cdn.describe_user_domains(&query, |_, _| {}));
        assert_send(&cdn.set_cdn_domain_ssl_certificate("d", &change));
        assert_send(&ssl.list_all_certificates(|_, _| {}));
        let ssl_key = Secret::new("k");
        assert_send(&ssl.upload_user_certificate("n", "c", &ssl_key, None));
        assert_send(&sts.assume_role(&role));
        let key = Secret::new("k");
        let ids = vec!["a".to_string()];
        // Futures are only built (never polled): this is a compile-time check.
        assert_send(&kms.describe_certificate("x"));
        assert_send(&kms.update_certificate_status("x", KmsCertificateStatus::Active));
        assert_send(&pca.list_all(|_, _| {}));
        assert_send(&pca.describe_client_certificate_status(&ids));
        assert_send(&pca.list_revoke_certificate());
        assert_send(&esa.list_sites());
        assert_send(&esa.list_client_certificates(SiteId(1), |_, _| {}));
        assert_send(&vod.describe_vod_user_domains());
        assert_send(&vod.set_vod_domain_certificate("d", true, None, None, Some(&key)));
        assert_send(&iot.list_all(|_, _| {}));
        assert_send(&iot.delete_device_certificate("x"));
    }
}
