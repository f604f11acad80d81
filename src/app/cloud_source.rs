//! The real [`InventorySource`]: the typed cloud clients (KMS, PCA, ESA, VOD, IoTDA) behind the
//! app's seam. In demo mode the same code talks to the in-process simulator. Changes go through
//! the one backend every change takes ([`CloudBackend`]); reads use that backend's clients. Knows
//! `jobs`, `cloud` and `model`; nothing of egui.

use super::context::ScopeId;
use super::source::{
    BulkTarget, CertificateDetail, EsaSite, InventorySource, KmsCreateRequest, KmsCreated,
    KmsKeySpec, ListTarget, Page, PageCursor, SerialStatus, SourceFuture,
};
use crate::cloud::{
    AlibabaClientConfig, HuaweiClientConfig, IotdaClient, KmsClient, RetryPolicy, SiteId,
    Transport, TransportOptions, esa, pca, vod,
};
use crate::jobs::Backend;
use crate::jobs::backends::{AlibabaClients, CloudBackend};
use crate::model::error::local_code;
use crate::model::{CertStatus, CertificateRow, Error, ErrorKind, Provider, Scope, Service};
use crate::profiles::{self, Account};
use std::sync::Arc;

/// KMS ids described per "page" (KMS has no list call; the app walks its known ids).
pub const KMS_IDS_PER_PAGE: usize = 20;

/// The clients of one workspace. Cheap to share.
#[derive(Debug, Clone)]
pub struct CloudSource {
    /// Reads and single changes, over the retrying transport.
    clouds: Arc<CloudBackend>,
    /// The same accounts over a transport without retries, for the bulk engine.
    jobs: Arc<CloudBackend>,
    /// Bulk rate limits of the profiles (Alibaba, Huawei).
    rate_limits: (Option<u32>, Option<u32>),
    /// Key ids, regions and endpoints of the accounts (Alibaba, Huawei), for the audit log.
    signers: (Option<crate::jobs::Signer>, Option<crate::jobs::Signer>),
}

impl CloudSource {
    /// Clients for the given accounts; a missing account (or an unusable endpoint) turns into
    /// an error on that cloud's calls only.
    pub fn new(
        transport: &Transport,
        alibaba: Option<&AlibabaClientConfig>,
        huawei: Option<&HuaweiClientConfig>,
    ) -> Self {
        // The bulk engine retries itself (journaling every attempt), so its clients must not.
        let jobs_transport = Transport::with_options(TransportOptions {
            retry: RetryPolicy::none(),
            ..transport.options().clone()
        })
        .unwrap_or_else(|_| transport.clone());
        CloudSource {
            clouds: Arc::new(CloudBackend::new(transport, alibaba, huawei)),
            jobs: Arc::new(CloudBackend::new(&jobs_transport, alibaba, huawei)),
            rate_limits: (None, None),
            signers: (
                alibaba.map(|c| crate::jobs::Signer {
                    // A role profile signs with the role's temporary key: name the role.
                    access_key_id: match &c.role {
                        Some(role) => role.describe(),
                        None => c.credentials.access_key_id.clone(),
                    },
                    region: c.region.clone(),
                    endpoint: c.endpoint.clone(),
                }),
                huawei.map(|c| crate::jobs::Signer {
                    access_key_id: c.credentials.access_key.clone(),
                    region: c.region.clone(),
                    endpoint: c.endpoint.clone(),
                }),
            ),
        }
    }

    /// Sets the profiles' bulk rate limits (requests per second; `0` = none; `None` = the API's
    /// published limit).
    pub fn with_rate_limits(mut self, alibaba: Option<u32>, huawei: Option<u32>) -> Self {
        self.rate_limits = (alibaba, huawei);
        self
    }

    fn ali(&self) -> Result<AlibabaClients, Error> {
        self.clouds.alibaba().cloned()
    }

    fn iot(&self) -> Result<IotdaClient, Error> {
        self.clouds.iotda().cloned()
    }
}

fn page_number(cursor: &PageCursor) -> u32 {
    match cursor {
        PageCursor::Number(n) => (*n).max(1),
        PageCursor::Marker(_) => 1,
    }
}

/// The next numbered page, if `page` of `size` rows has not reached `total` yet.
fn next_number(page: u32, size: u32, got: usize, total: Option<i64>) -> Option<PageCursor> {
    let more = match total {
        Some(t) => (page as i64) * (size as i64) < t,
        None => got >= size as usize,
    };
    (more && got > 0).then_some(PageCursor::Number(page + 1))
}

fn total(t: Option<i64>) -> Option<u64> {
    t.and_then(|t| u64::try_from(t).ok())
}

fn err<T: Send + 'static>(e: Error) -> SourceFuture<T> {
    Box::pin(async move { Err(e) })
}

fn fact(facts: &mut Vec<(String, String)>, label: &str, value: &str) {
    if !value.trim().is_empty() {
        facts.push((label.to_string(), value.trim().to_string()));
    }
}

fn pca_extra(c: &pca::PcaClientCertificate) -> String {
    let key = match c.key_size {
        Some(bits) => format!("{} {bits}", c.algorithm),
        None => c.algorithm.clone(),
    };
    [c.certificate_type.as_str(), key.trim()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

fn vod_extra(info: &vod::VodCertInfo) -> String {
    [
        info.cert_type.as_str(),
        info.cert_domain_name.as_str(),
        info.cert_name.as_str(),
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(", ")
}

/// A known KMS id the service no longer has: shown (so it can be forgotten), not fatal.
fn kms_missing_row(id: &str, e: &Error) -> CertificateRow {
    CertificateRow {
        service: Service::Kms,
        id: id.to_string(),
        name: id.to_string(),
        status: CertStatus::Unknown,
        raw_status: e.code.clone(),
        not_after: None,
        serial: None,
        fingerprint_sha256: None,
        site_id: None,
        pem: None,
    }
}

async fn kms_describe(c: &KmsClient, id: &str) -> Result<CertificateDetail, Error> {
    let d = c.describe_certificate(id).await?;
    let mut facts = Vec::new();
    fact(&mut facts, "Subject", &d.subject);
    fact(&mut facts, "Issuer", &d.issuer);
    fact(&mut facts, "Key spec", &d.key_spec);
    fact(&mut facts, "Signature", &d.signature_algorithm);
    fact(&mut facts, "SANs", &d.subject_alternative_names.join(", "));
    fact(&mut facts, "Serial", &d.serial);
    fact(&mut facts, "Not before", &d.not_before);
    fact(&mut facts, "Not after", &d.not_after);
    fact(&mut facts, "ARN", &d.arn);
    fact(&mut facts, "Created", &d.created_at);
    if let Some(x) = d.exportable_private_key {
        fact(
            &mut facts,
            "Private key exportable",
            if x { "yes" } else { "no" },
        );
    }
    // A PENDING certificate has no certificate yet; GetCertificate then returns only the CSR.
    let pem = match c.get_certificate(id).await {
        Ok(g) => Some(g.certificate).filter(|p| !p.trim().is_empty()),
        Err(_) => None,
    };
    Ok(CertificateDetail {
        row: d.to_row(),
        facts,
        pem,
        extra: Some(d.key_spec.clone()).filter(|s| !s.is_empty()),
    })
}

impl InventorySource for CloudSource {
    fn changes(&self, _scope: ScopeId) -> Arc<dyn Backend> {
        self.clouds.clone()
    }

    fn signer(&self, _scope: ScopeId, provider: Provider) -> Option<crate::jobs::Signer> {
        match provider {
            Provider::Alibaba => self.signers.0.clone(),
            Provider::Huawei => self.signers.1.clone(),
        }
    }

    fn bulk_target(&self, _scope: ScopeId, service: Service) -> BulkTarget {
        let rate_limit_qps = match service.provider() {
            Provider::Alibaba => self.rate_limits.0,
            Provider::Huawei => self.rate_limits.1,
        };
        BulkTarget {
            backend: self.jobs.clone(),
            rate_limit_qps,
        }
    }

    fn list_page(&self, target: &ListTarget, cursor: PageCursor) -> SourceFuture<Page> {
        let page = page_number(&cursor);
        match target.service {
            Service::Kms => {
                let clients = match self.ali() {
                    Ok(c) => c,
                    Err(e) => return err(e),
                };
                let ids = Arc::clone(&target.kms_ids);
                Box::pin(async move {
                    let start = (page as usize - 1) * KMS_IDS_PER_PAGE;
                    let chunk: Vec<String> = ids
                        .iter()
                        .skip(start)
                        .take(KMS_IDS_PER_PAGE)
                        .cloned()
                        .collect();
                    let mut rows = Vec::with_capacity(chunk.len());
                    let mut extras = Vec::with_capacity(chunk.len());
                    for id in &chunk {
                        match kms_describe(&clients.kms, id).await {
                            Ok(d) => {
                                rows.push(d.row);
                                extras.push(d.extra.unwrap_or_default());
                            }
                            Err(e) if e.kind == ErrorKind::NotFound => {
                                rows.push(kms_missing_row(id, &e));
                                extras.push(String::new());
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    let next =
                        (start + chunk.len() < ids.len()).then_some(PageCursor::Number(page + 1));
                    Ok(Page {
                        rows,
                        next,
                        total: Some(ids.len() as u64),
                        extras,
                    })
                })
            }
            Service::Pca => {
                let clients = match self.ali() {
                    Ok(c) => c,
                    Err(e) => return err(e),
                };
                Box::pin(async move {
                    let r = clients
                        .pca
                        .list_client_certificate_page(page, pca::PAGE_SIZE)
                        .await?;
                    let got = r.certificate_list.len();
                    Ok(Page {
                        rows: r.certificate_list.iter().map(|c| c.to_row()).collect(),
                        extras: r.certificate_list.iter().map(pca_extra).collect(),
                        next: next_number(page, pca::PAGE_SIZE, got, r.total_count),
                        total: total(r.total_count),
                    })
                })
            }
            Service::Esa => {
                let clients = match self.ali() {
                    Ok(c) => c,
                    Err(e) => return err(e),
                };
                let Some(site) = target.site_id else {
                    return err(Error::local(
                        Service::Esa,
                        local_code::MISSING_SITE_ID,
                        "choose an ESA site first",
                        ErrorKind::InvalidInput,
                    ));
                };
                Box::pin(async move {
                    let size = esa::CERTIFICATES_PAGE_SIZE;
                    let r = clients
                        .esa
                        .list_client_certificates_page(SiteId(site), page, size)
                        .await?;
                    let got = r.result.len();
                    Ok(Page {
                        rows: r.result.iter().map(|c| c.to_row()).collect(),
                        extras: r.result.iter().map(|c| c.r#type.clone()).collect(),
                        next: next_number(page, size, got, r.total_count),
                        total: total(r.total_count),
                    })
                })
            }
            Service::Vod => {
                let clients = match self.ali() {
                    Ok(c) => c,
                    Err(e) => return err(e),
                };
                Box::pin(async move {
                    let size = vod::DOMAINS_PAGE_SIZE;
                    let r = clients
                        .vod
                        .describe_vod_user_domains_page(page, size)
                        .await?;
                    let got = r.domains.page_data.len();
                    Ok(Page {
                        rows: r.domains.page_data.iter().map(|d| d.to_row()).collect(),
                        extras: Vec::new(),
                        next: next_number(page, size, got, r.total_count),
                        total: total(r.total_count),
                    })
                })
            }
            Service::Iotda => {
                let client = match self.iot() {
                    Ok(c) => c,
                    Err(e) => return err(e),
                };
                let marker = match cursor {
                    PageCursor::Marker(m) => m,
                    PageCursor::Number(_) => None,
                };
                Box::pin(async move {
                    let limit = crate::cloud::iotda::LIST_LIMIT;
                    let r = client
                        .list_device_certificates_page(marker.as_deref(), limit)
                        .await?;
                    let got = r.device_certificates.len();
                    let next_marker = r.page.marker.clone().filter(|m| !m.is_empty());
                    let next = match next_marker {
                        Some(m) if got >= limit as usize && Some(&m) != marker.as_ref() => {
                            Some(PageCursor::Marker(Some(m)))
                        }
                        _ => None,
                    };
                    Ok(Page {
                        rows: r.device_certificates.iter().map(|c| c.to_row()).collect(),
                        extras: Vec::new(),
                        next,
                        total: r.page.count.and_then(|c| u64::try_from(c).ok()),
                    })
                })
            }
            // No tab lists CDN domains or the SSL repository yet; STS has no certificates.
            Service::Cdn | Service::Ssl | Service::Sts => {
                err(Error::internal(ErrorKind::Other, "Internal", "unreachable"))
            }
        }
    }

    fn describe(
        &self,
        _scope: ScopeId,
        service: Service,
        id: &str,
        site_id: Option<i64>,
    ) -> SourceFuture<CertificateDetail> {
        let id = id.to_string();
        if service == Service::Iotda {
            let client = match self.iot() {
                Ok(c) => c,
                Err(e) => return err(e),
            };
            return Box::pin(async move {
                let c = client.show_device_certificate(&id).await?;
                let row = c.to_row();
                let mut facts = Vec::new();
                fact(&mut facts, "Common name", &c.common_name);
                fact(&mut facts, "Fingerprint", &c.fingerprint);
                fact(&mut facts, "Expiry date", &c.expiry_date);
                Ok(CertificateDetail {
                    pem: Some(c.certificate_pem.clone()).filter(|p| !p.trim().is_empty()),
                    row,
                    facts,
                    extra: None,
                })
            });
        }
        let clients = match self.ali() {
            Ok(c) => c,
            Err(e) => return err(e),
        };
        match service {
            Service::Kms => Box::pin(async move { kms_describe(&clients.kms, &id).await }),
            Service::Pca => Box::pin(async move {
                let r = clients.pca.describe_client_certificate(&id).await?;
                let c = &r.certificate.certificate;
                let mut facts = Vec::new();
                fact(&mut facts, "Type", &c.certificate_type);
                fact(&mut facts, "Subject", &c.subject_dn);
                fact(&mut facts, "Algorithm", &r.certificate.full_algorithm);
                fact(&mut facts, "Signature", &c.sign_algorithm);
                fact(&mut facts, "SANs", &c.sans);
                fact(&mut facts, "Issuing CA", &c.parent_identifier);
                fact(&mut facts, "MD5", &c.md5);
                Ok(CertificateDetail {
                    row: c.to_row(),
                    pem: Some(c.x509_certificate.clone()).filter(|p| !p.trim().is_empty()),
                    extra: Some(pca_extra(c)),
                    facts,
                })
            }),
            Service::Esa => {
                let Some(site) = site_id else {
                    return err(Error::local(
                        Service::Esa,
                        local_code::MISSING_SITE_ID,
                        "the certificate's ESA site is unknown",
                        ErrorKind::InvalidInput,
                    ));
                };
                Box::pin(async move {
                    let r = clients
                        .esa
                        .get_client_certificate(SiteId(site), &id)
                        .await?;
                    let mut facts = Vec::new();
                    fact(&mut facts, "Site", &r.site_name);
                    fact(&mut facts, "Type", &r.result.r#type);
                    fact(&mut facts, "Issuer", &r.result.issuer);
                    fact(&mut facts, "CA certificate id", &r.result.ca_certificate_id);
                    fact(&mut facts, "SAN", &r.result.san);
                    fact(&mut facts, "Key", &r.result.pubkey_algorithm);
                    fact(&mut facts, "Signature", &r.result.signature_algorithm);
                    fact(&mut facts, "Created", &r.result.create_time);
                    let row = r.to_row();
                    Ok(CertificateDetail {
                        pem: row.pem.clone(),
                        extra: Some(r.result.r#type.clone()).filter(|s| !s.is_empty()),
                        row,
                        facts,
                    })
                })
            }
            Service::Vod => Box::pin(async move {
                let r = clients
                    .vod
                    .describe_vod_domain_certificate_info(&id)
                    .await?;
                let Some(info) = r.cert_infos.cert_info.first() else {
                    return Ok(CertificateDetail {
                        row: CertificateRow {
                            service: Service::Vod,
                            id: id.clone(),
                            name: id.clone(),
                            status: CertStatus::Inactive,
                            raw_status: "off".into(),
                            not_after: None,
                            serial: None,
                            fingerprint_sha256: None,
                            site_id: None,
                            pem: None,
                        },
                        facts: vec![("Certificate".into(), "none".into())],
                        pem: None,
                        extra: Some("no certificate".into()),
                    });
                };
                let mut facts = Vec::new();
                fact(&mut facts, "Certificate name", &info.cert_name);
                fact(&mut facts, "Certificate CN", &info.cert_domain_name);
                fact(&mut facts, "Type", &info.cert_type);
                fact(&mut facts, "Expires", &info.cert_expire_time);
                fact(&mut facts, "Issuer", &info.cert_org);
                fact(&mut facts, "Validity", &info.cert_life);
                fact(&mut facts, "Region", &info.cert_region);
                fact(&mut facts, "CAS id", &info.cert_id);
                let row = info.to_row();
                Ok(CertificateDetail {
                    pem: row.pem.clone(),
                    extra: Some(vod_extra(info)),
                    row,
                    facts,
                })
            }),
            Service::Iotda | Service::Cdn | Service::Ssl | Service::Sts => {
                err(Error::internal(ErrorKind::Other, "Internal", "unreachable"))
            }
        }
    }

    fn pca_statuses(
        &self,
        _scope: ScopeId,
        identifiers: Vec<String>,
    ) -> SourceFuture<Vec<SerialStatus>> {
        let clients = match self.ali() {
            Ok(c) => c,
            Err(e) => return err(e),
        };
        Box::pin(async move {
            let answers = clients
                .pca
                .describe_client_certificate_status(&identifiers)
                .await?;
            Ok(answers
                .into_iter()
                .map(|a| SerialStatus {
                    status: pca::normalize_status(&a.status),
                    serial: a.serial_number,
                    raw_status: a.status,
                })
                .collect())
        })
    }

    fn esa_sites(&self, scope: ScopeId) -> SourceFuture<Vec<EsaSite>> {
        let clients = match self.ali() {
            Ok(c) => c,
            Err(e) => return err(e),
        };
        Box::pin(async move {
            let sites = clients.esa.list_sites().await?;
            Ok(sites
                .into_iter()
                .filter_map(|s| {
                    s.site_id.map(|id| EsaSite {
                        id,
                        scope,
                        name: s.site_name,
                    })
                })
                .collect())
        })
    }

    fn kms_create(&self, _scope: ScopeId, request: KmsCreateRequest) -> SourceFuture<KmsCreated> {
        let clients = match self.ali() {
            Ok(c) => c,
            Err(e) => return err(e),
        };
        Box::pin(async move {
            let spec = match request.key_spec {
                KmsKeySpec::Rsa2048 => crate::cloud::KmsKeySpec::Rsa2048,
                KmsKeySpec::EcP256 => crate::cloud::KmsKeySpec::EcP256,
                KmsKeySpec::EcSm2 => crate::cloud::KmsKeySpec::EcSm2,
            };
            let r = clients
                .kms
                .create_certificate(&request.subject, spec, &request.sans, request.exportable)
                .await?;
            Ok(KmsCreated {
                certificate_id: r.certificate_id,
                csr: r.csr,
                request_id: Some(r.request_id).filter(|s| !s.is_empty()),
            })
        })
    }

    fn test_connection(&self, provider: Provider) -> SourceFuture<String> {
        match provider {
            Provider::Alibaba => {
                let clients = match self.ali() {
                    Ok(c) => c,
                    Err(e) => return err(e),
                };
                Box::pin(async move {
                    let r = clients.pca.list_client_certificate_page(1, 1).await?;
                    Ok(format!(
                        "Connected: ListClientCertificate answered (RequestId {}), {} private-CA certificates.",
                        r.request_id,
                        r.total_count.unwrap_or(0)
                    ))
                })
            }
            Provider::Huawei => {
                let client = match self.iot() {
                    Ok(c) => c,
                    Err(e) => return err(e),
                };
                Box::pin(async move {
                    let r = client.list_device_certificates_page(None, 1).await?;
                    Ok(format!(
                        "Connected: ListDeviceCertificate answered, {} device certificates.",
                        r.page.count.unwrap_or(0)
                    ))
                })
            }
        }
    }

    fn kms_csr(&self, _scope: ScopeId, certificate_id: &str) -> SourceFuture<String> {
        let clients = match self.ali() {
            Ok(c) => c,
            Err(e) => return err(e),
        };
        let id = certificate_id.to_string();
        Box::pin(async move {
            let r = clients.kms.get_certificate(&id).await?;
            if r.csr.trim().is_empty() {
                return Err(Error::local(
                    Service::Kms,
                    "NoCsr",
                    format!("KMS returned no CSR for {id}"),
                    ErrorKind::InvalidState,
                ));
            }
            Ok(r.csr)
        })
    }
}

/// Every account and region of a workspace: one [`CloudSource`] per scope (or why that scope
/// could not be set up: its calls fail with that error, the others work).
#[derive(Debug, Clone, Default)]
pub struct EstateSource {
    scopes: Vec<Result<Arc<CloudSource>, Error>>,
}

impl EstateSource {
    /// A source over `scopes`, indexed by [`ScopeId`] in the workspace's order.
    pub fn new(scopes: Vec<Result<Arc<CloudSource>, Error>>) -> Self {
        EstateSource { scopes }
    }

    /// The scopes of `accounts` (every region of each) and a source over them. `endpoint`
    /// overrides every profile's (the CLI's `--endpoint`). A scope whose clients cannot be built
    /// (an unusable endpoint, a Huawei region without its project) fails its own calls, saying
    /// why; the others work.
    pub fn open(
        accounts: &[Account],
        transport: &Transport,
        endpoint: Option<&str>,
    ) -> (EstateSource, Vec<Scope>) {
        let mut scopes = Vec::new();
        let mut sources = Vec::new();
        for account in accounts {
            let profile = &account.profile;
            for region in profile.all_regions() {
                let source = match profile.provider {
                    Provider::Alibaba => {
                        profiles::alibaba_config(account, &region, endpoint, transport).map(|c| {
                            CloudSource::new(transport, Some(&c), None)
                                .with_rate_limits(profile.rate_limit_qps, None)
                        })
                    }
                    Provider::Huawei => profiles::huawei_config(account, &region, endpoint)
                        .map_err(|e| Error::internal(ErrorKind::Config, "Profile", e.to_string()))
                        .map(|c| {
                            CloudSource::new(transport, None, Some(&c))
                                .with_rate_limits(None, profile.rate_limit_qps)
                        }),
                };
                scopes.push(Scope::new(&profile.name, profile.provider, region));
                sources.push(source.map(Arc::new));
            }
        }
        (EstateSource::new(sources), scopes)
    }

    fn scope(&self, scope: ScopeId) -> Result<&Arc<CloudSource>, Error> {
        match self.scopes.get(usize::from(scope)) {
            Some(Ok(source)) => Ok(source),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Error::internal(
                ErrorKind::Config,
                "UnknownScope",
                format!("no account and region number {scope} in this workspace"),
            )),
        }
    }
}

impl InventorySource for EstateSource {
    fn list_page(&self, target: &ListTarget, cursor: PageCursor) -> SourceFuture<Page> {
        match self.scope(target.scope) {
            Ok(s) => s.list_page(target, cursor),
            Err(e) => err(e),
        }
    }

    fn describe(
        &self,
        scope: ScopeId,
        service: Service,
        id: &str,
        site_id: Option<i64>,
    ) -> SourceFuture<CertificateDetail> {
        match self.scope(scope) {
            Ok(s) => s.describe(scope, service, id, site_id),
            Err(e) => err(e),
        }
    }

    fn pca_statuses(
        &self,
        scope: ScopeId,
        identifiers: Vec<String>,
    ) -> SourceFuture<Vec<SerialStatus>> {
        match self.scope(scope) {
            Ok(s) => s.pca_statuses(scope, identifiers),
            Err(e) => err(e),
        }
    }

    fn esa_sites(&self, scope: ScopeId) -> SourceFuture<Vec<EsaSite>> {
        match self.scope(scope) {
            Ok(s) => s.esa_sites(scope),
            Err(e) => err(e),
        }
    }

    fn kms_create(&self, scope: ScopeId, request: KmsCreateRequest) -> SourceFuture<KmsCreated> {
        match self.scope(scope) {
            Ok(s) => s.kms_create(scope, request),
            Err(e) => err(e),
        }
    }

    fn kms_csr(&self, scope: ScopeId, certificate_id: &str) -> SourceFuture<String> {
        match self.scope(scope) {
            Ok(s) => s.kms_csr(scope, certificate_id),
            Err(e) => err(e),
        }
    }

    fn test_connection(&self, provider: Provider) -> SourceFuture<String> {
        let first = self
            .scopes
            .iter()
            .flatten()
            .find(|s| s.clouds.has_account_of(provider));
        match first {
            Some(s) => s.test_connection(provider),
            None => err(Error::no_account(provider)),
        }
    }

    fn changes(&self, scope: ScopeId) -> Arc<dyn Backend> {
        match self.scope(scope) {
            Ok(s) => s.changes(scope),
            Err(e) => Arc::new(crate::jobs::backends::Unavailable(e)),
        }
    }

    fn signer(&self, scope: ScopeId, provider: Provider) -> Option<crate::jobs::Signer> {
        self.scope(scope).ok()?.signer(scope, provider)
    }

    fn bulk_target(&self, scope: ScopeId, service: Service) -> BulkTarget {
        match self.scope(scope) {
            Ok(s) => s.bulk_target(scope, service),
            Err(e) => BulkTarget {
                backend: Arc::new(crate::jobs::backends::Unavailable(e)),
                rate_limit_qps: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{AlibabaCredentials, Secret};

    #[test]
    fn bulk_targets_carry_the_profiles_rate_limits() {
        let transport = Transport::new().unwrap();
        let ali = AlibabaClientConfig {
            credentials: AlibabaCredentials {
                access_key_id: "id".into(),
                access_key_secret: Secret::new("s"),
                security_token: None,
            },
            region: "cn-hangzhou".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            signature: Default::default(),
            role: None,
            proxy: Default::default(),
        };
        let limited =
            CloudSource::new(&transport, Some(&ali), None).with_rate_limits(Some(3), Some(0));
        let pca = limited.bulk_target(0, Service::Pca);
        assert_eq!(pca.rate_limit_qps, Some(3));
        assert_eq!(
            limited.bulk_target(0, Service::Iotda).rate_limit_qps,
            Some(0)
        );
        assert!(limited.jobs.alibaba().is_ok());
        assert!(limited.jobs.iotda().is_err(), "no Huawei account");
        let plain = CloudSource::new(&transport, Some(&ali), None);
        assert_eq!(plain.bulk_target(0, Service::Kms).rate_limit_qps, None);
        // The audit log's who and where come from the same account.
        let signer = plain.signer(0, Provider::Alibaba).unwrap();
        assert_eq!(
            (signer.access_key_id.as_str(), signer.region.as_str()),
            ("id", "cn-hangzhou")
        );
        assert_eq!(signer.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(plain.signer(0, Provider::Huawei), None);
    }
}
