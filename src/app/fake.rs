//! An in-memory [`InventorySource`] and change [`Backend`] for tests and benchmarks: generated rows
//! per service, changes that stick, and page failures on demand. Not a simulator of any API's wire
//! format. Compiled only for tests and for the `testing` feature (benches), never into the
//! shipped binary.

use super::context::ScopeId;
use super::source::{
    BulkTarget, CertificateDetail, EsaSite, InventorySource, KmsCreateRequest, KmsCreated,
    ListTarget, Page, PageCursor, SerialStatus, SourceFuture,
};
use crate::jobs::{Applied, Backend, BulkItem, ChangeRequest};
use crate::model::{CertStatus, CertificateRow, Change, Error, ErrorKind, Service};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// An app over `source` (no profiles) on a runtime of its own with two workers, for tests and
/// benchmarks; the runtime must outlive the app. `workspace` names the account.
pub fn app_over(
    source: FakeSource,
    workspace: super::Workspace,
    store: Option<Arc<Mutex<crate::store::Store>>>,
    auto_refresh: bool,
) -> (tokio::runtime::Runtime, super::AppState) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the fake app");
    let app = super::AppState::new(super::AppConfig {
        source: Arc::new(source),
        workspace,
        store,
        runtime: runtime.handle().clone(),
        auto_refresh,
        profiles: None,
    });
    (runtime, app)
}

/// Rows per fake page.
pub const FAKE_PAGE_SIZE: usize = 50;

#[derive(Debug, Default)]
struct FakeState {
    rows: HashMap<(Service, Option<i64>), Vec<CertificateRow>>,
    kms: HashMap<String, CertificateRow>,
    /// Fail the list call after this many more succeed.
    fail_after: Option<(usize, Error)>,
    calls: Vec<String>,
    /// ListSites answers no site.
    no_esa_sites: bool,
    created: u32,
    csrs: HashMap<String, String>,
}

/// The fake. Clones share state.
#[derive(Debug, Clone, Default)]
pub struct FakeSource {
    state: Arc<Mutex<FakeState>>,
}

/// A generated row of `service` number `n`.
pub fn fake_row(service: Service, n: usize, site_id: Option<i64>) -> CertificateRow {
    let (status, raw) = match (service, n % 4) {
        (Service::Vod, 0 | 1) => (CertStatus::Active, "on"),
        (Service::Vod, _) => (CertStatus::Inactive, "off"),
        (Service::Pca | Service::Esa, 3) => (CertStatus::Revoked, "revoked"),
        (Service::Pca | Service::Esa, _) => (CertStatus::Active, "active"),
        (_, 3) => (CertStatus::Inactive, "INACTIVE"),
        _ => (CertStatus::Active, "ACTIVE"),
    };
    let name = match service {
        Service::Vod => format!("cdn{n:05}.example.com"),
        Service::Iotda => format!("device-{n:05}"),
        _ => format!("client-{n:05}.example.com"),
    };
    CertificateRow {
        service,
        id: format!(
            "{}-{n:06}",
            service.label().to_lowercase().replace(' ', "-")
        ),
        name,
        status,
        raw_status: raw.to_string(),
        // Spread expiries from 30 days ago to about three years ahead.
        not_after: Some(1_700_000_000 + (n as i64 % 1_200 - 30) * 86_400),
        serial: Some(format!("{:016X}", n as u64 * 7_919 + 1)),
        fingerprint_sha256: Some(format!("{:064x}", n as u128 * 1_000_003)),
        site_id,
        pem: None,
    }
}

impl FakeSource {
    /// A source with `per_service` generated rows in every service (ESA: sites 1 and 2, KMS: that
    /// many describable ids).
    pub fn generated(per_service: usize) -> Self {
        let fake = FakeSource::default();
        {
            let mut s = fake.lock();
            for service in [Service::Pca, Service::Vod, Service::Iotda] {
                s.rows.insert(
                    (service, None),
                    (0..per_service)
                        .map(|n| fake_row(service, n, None))
                        .collect(),
                );
            }
            for site in [1, 2] {
                s.rows.insert(
                    (Service::Esa, Some(site)),
                    (0..per_service)
                        .map(|n| fake_row(Service::Esa, n + site as usize * 1000, Some(site)))
                        .collect(),
                );
            }
            for n in 0..per_service {
                let row = fake_row(Service::Kms, n, None);
                s.kms.insert(row.id.clone(), row);
            }
        }
        fake
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        // A panicking test thread may poison the lock; the data is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the next `list_page` call fail with `error`.
    pub fn fail_next_page(&self, error: Error) {
        self.fail_list_call_after(0, error);
    }

    /// Lets `ok` more `list_page` calls succeed, then fails one with `error`.
    pub fn fail_list_call_after(&self, ok: usize, error: Error) {
        self.lock().fail_after = Some((ok, error));
    }

    /// Makes ListSites answer an empty list (an account without ESA sites).
    pub fn without_esa_sites(&self) {
        self.lock().no_esa_sites = true;
    }

    /// The calls made so far, in order (`list Iotda page 1`, `change Iotda x Revoke`...).
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// The source's current status of a certificate.
    pub fn status_of(&self, service: Service, id: &str) -> Option<CertStatus> {
        let s = self.lock();
        if service == Service::Kms {
            return s.kms.get(id).map(|r| r.status);
        }
        s.rows
            .iter()
            .filter(|((svc, _), _)| *svc == service)
            .flat_map(|(_, rows)| rows.iter())
            .find(|r| r.id == id)
            .map(|r| r.status)
    }

    /// Sets the CSR `kms_csr` answers for a KMS certificate (a PEM the test made).
    pub fn set_kms_csr(&self, id: &str, csr: &str) {
        self.lock().csrs.insert(id.to_string(), csr.to_string());
    }

    /// A row's PEM as the fake now has it (VOD after a certificate was installed).
    pub fn pem_of(&self, service: Service, id: &str) -> Option<String> {
        let s = self.lock();
        if service == Service::Kms {
            return s.kms.get(id).and_then(|r| r.pem.clone());
        }
        s.rows
            .iter()
            .filter(|((svc, _), _)| *svc == service)
            .flat_map(|(_, rows)| rows.iter())
            .find(|r| r.id == id)
            .and_then(|r| r.pem.clone())
    }

    /// KMS ids the fake can describe.
    pub fn kms_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().kms.keys().cloned().collect();
        ids.sort();
        ids
    }
}

/// A provider error as the fake answers it (with a request id and an HTTP status).
pub fn fake_error(
    service: Service,
    code: &str,
    message: &str,
    status: u16,
    kind: ErrorKind,
) -> Error {
    let mut e = Error::local(service, code, message, kind);
    e.request_id = Some("FAKE-REQUEST".into());
    e.http_status = Some(status);
    e
}

fn not_found(service: Service, id: &str) -> Error {
    fake_error(
        service,
        "Certificate.NotFound",
        &format!("The specified certificate {id} is not found."),
        404,
        ErrorKind::NotFound,
    )
}

impl InventorySource for FakeSource {
    fn list_page(&self, target: &ListTarget, cursor: PageCursor) -> SourceFuture<Page> {
        let mut s = self.lock();
        s.calls.push(format!("list {:?} {cursor}", target.service));
        let failure = match s.fail_after.take() {
            Some((0, e)) => Some(e),
            Some((n, e)) => {
                s.fail_after = Some((n - 1, e));
                None
            }
            None => None,
        };
        let page_index = match &cursor {
            PageCursor::Number(n) => n.saturating_sub(1) as usize,
            PageCursor::Marker(None) => 0,
            PageCursor::Marker(Some(m)) => m.parse::<usize>().unwrap_or(0),
        };
        let start = page_index * FAKE_PAGE_SIZE;
        let (rows, len) = if target.service == Service::Kms {
            let rows: Vec<CertificateRow> = target
                .kms_ids
                .iter()
                .skip(start)
                .take(FAKE_PAGE_SIZE)
                .filter_map(|id| s.kms.get(id).cloned())
                .collect();
            (rows, target.kms_ids.len())
        } else {
            let all = s
                .rows
                .get(&(target.service, target.site_id))
                .map_or(&[][..], Vec::as_slice);
            let end = (start + FAKE_PAGE_SIZE).min(all.len());
            (
                all.get(start..end)
                    .map(<[CertificateRow]>::to_vec)
                    .unwrap_or_default(),
                all.len(),
            )
        };
        drop(s);
        let end = start + FAKE_PAGE_SIZE;
        let next = (end < len).then(|| match cursor {
            PageCursor::Number(n) => PageCursor::Number(n + 1),
            PageCursor::Marker(_) => PageCursor::Marker(Some((page_index + 1).to_string())),
        });
        let total = Some(len as u64);
        Box::pin(async move {
            if let Some(e) = failure {
                return Err(e);
            }
            Ok(Page {
                rows,
                next,
                total,
                extras: Vec::new(),
            })
        })
    }

    fn describe(
        &self,
        _scope: ScopeId,
        service: Service,
        id: &str,
        _site_id: Option<i64>,
    ) -> SourceFuture<CertificateDetail> {
        let mut s = self.lock();
        s.calls.push(format!("describe {service:?} {id}"));
        let found = if service == Service::Kms {
            s.kms.get(id).cloned()
        } else {
            s.rows
                .iter()
                .filter(|((svc, _), _)| *svc == service)
                .flat_map(|(_, rows)| rows.iter())
                .find(|r| r.id == id)
                .cloned()
        };
        let id = id.to_string();
        Box::pin(async move {
            let row = found.ok_or_else(|| not_found(service, &id))?;
            Ok(CertificateDetail {
                facts: vec![("Source".into(), "fake".into())],
                pem: row.pem.clone(),
                extra: None,
                row,
            })
        })
    }

    fn pca_statuses(
        &self,
        _scope: ScopeId,
        identifiers: Vec<String>,
    ) -> SourceFuture<Vec<SerialStatus>> {
        let mut s = self.lock();
        s.calls.push(format!("pca status x{}", identifiers.len()));
        let answers = s
            .rows
            .get(&(Service::Pca, None))
            .map(|rows| {
                rows.iter()
                    .filter(|r| identifiers.contains(&r.id))
                    .map(|r| SerialStatus {
                        serial: r.serial.clone().unwrap_or_default(),
                        status: r.status,
                        raw_status: if r.status == CertStatus::Revoked {
                            "revoked"
                        } else {
                            "good"
                        }
                        .into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Box::pin(async move { Ok(answers) })
    }

    fn esa_sites(&self, scope: ScopeId) -> SourceFuture<Vec<EsaSite>> {
        let mut state = self.lock();
        state.calls.push("esa sites".into());
        let none = state.no_esa_sites;
        drop(state);
        Box::pin(async move {
            if none {
                return Ok(Vec::new());
            }
            Ok(vec![
                EsaSite {
                    id: 1,
                    name: "one.example.com".into(),
                    scope,
                },
                EsaSite {
                    id: 2,
                    name: "two.example.com".into(),
                    scope,
                },
            ])
        })
    }

    fn kms_create(&self, _scope: ScopeId, request: KmsCreateRequest) -> SourceFuture<KmsCreated> {
        let mut s = self.lock();
        s.created += 1;
        let id = format!("kms-created-{}", s.created);
        s.calls.push(format!("kms create {}", request.subject));
        s.kms.insert(
            id.clone(),
            CertificateRow {
                service: Service::Kms,
                id: id.clone(),
                name: request.subject.clone(),
                status: CertStatus::Pending,
                raw_status: "PENDING".into(),
                not_after: None,
                serial: None,
                fingerprint_sha256: None,
                site_id: None,
                pem: None,
            },
        );
        Box::pin(async move {
            if request.subject.trim().is_empty() {
                return Err(fake_error(
                    Service::Kms,
                    "InvalidParameter",
                    "The specified parameter Subject is not valid.",
                    400,
                    ErrorKind::InvalidInput,
                ));
            }
            Ok(KmsCreated {
                certificate_id: id,
                csr: "-----BEGIN CERTIFICATE REQUEST-----\nRkFLRQ==\n-----END CERTIFICATE REQUEST-----\n".into(),
                request_id: Some("FAKE-REQUEST".into()),
            })
        })
    }

    fn test_connection(&self, provider: crate::model::Provider) -> SourceFuture<String> {
        self.lock().calls.push(format!("test {provider}"));
        Box::pin(async move { Ok(format!("fake {provider} answered")) })
    }

    fn changes(&self, _scope: ScopeId) -> Arc<dyn Backend> {
        Arc::new(self.clone())
    }

    fn bulk_target(&self, _scope: ScopeId, _service: Service) -> BulkTarget {
        BulkTarget {
            backend: Arc::new(self.clone()),
            rate_limit_qps: None,
        }
    }

    fn kms_csr(&self, _scope: ScopeId, certificate_id: &str) -> SourceFuture<String> {
        let mut s = self.lock();
        s.calls.push(format!("kms csr {certificate_id}"));
        let csr = s.csrs.get(certificate_id).cloned();
        let id = certificate_id.to_string();
        Box::pin(async move { csr.ok_or_else(|| not_found(Service::Kms, &id)) })
    }
}

impl FakeSource {
    /// Applies a change the way a cloud would: statuses stick, deletions remove the row.
    fn apply_now(&self, item: &BulkItem, request: &ChangeRequest) -> Result<Applied, Error> {
        let service = item.service;
        let id = item.id.as_str();
        let change = request.change();
        let mut s = self.lock();
        let done = |status: CertStatus, raw: &str| Applied {
            status: Some((status, raw.to_string())),
            request_id: Some("FAKE-REQUEST".into()),
            created: None,
        };
        match request {
            ChangeRequest::SetCertificate(upload) => {
                s.calls
                    .push(format!("vod set-certificate {id} {}", upload.cert_name));
                let row = s
                    .rows
                    .iter_mut()
                    .filter(|((svc, _), _)| *svc == Service::Vod)
                    .flat_map(|(_, rows)| rows.iter_mut())
                    .find(|r| r.id == id || r.name == id)
                    .ok_or_else(|| not_found(service, id))?;
                row.status = CertStatus::Active;
                row.raw_status = "on".into();
                row.pem = Some(upload.certificate_pem.clone());
                return Ok(done(CertStatus::Active, "on"));
            }
            ChangeRequest::UploadCertificate {
                certificate_pem,
                chain_pem,
            } => {
                s.calls
                    .push(format!("kms upload {id} chain={}", chain_pem.is_some()));
                let row = s.kms.get_mut(id).ok_or_else(|| not_found(service, id))?;
                row.status = CertStatus::Active;
                row.raw_status = "ACTIVE".into();
                row.pem = Some(certificate_pem.clone());
                return Ok(done(CertStatus::Active, "ACTIVE"));
            }
            ChangeRequest::SetRepositoryCertificate { .. }
            | ChangeRequest::UploadRepositoryCertificate(_) => {
                return Err(crate::jobs::backends::unsupported(service, change));
            }
            ChangeRequest::Status(_) => {}
        }
        s.calls.push(format!("change {service:?} {id} {change:?}"));
        if !change.supported_by(service) {
            return Err(crate::jobs::backends::unsupported(service, change));
        }
        let raw = |status: CertStatus| match service {
            Service::Vod if status == CertStatus::Active => "on".to_string(),
            Service::Vod => "off".to_string(),
            Service::Pca | Service::Esa => status.label().to_lowercase(),
            _ => status.label().to_uppercase(),
        };
        let row = if service == Service::Kms {
            s.kms.get_mut(id)
        } else {
            s.rows
                .iter_mut()
                .filter(|((svc, _), _)| *svc == service)
                .flat_map(|(_, rows)| rows.iter_mut())
                .find(|r| r.id == id)
        };
        let Some(row) = row else {
            return Err(not_found(service, id));
        };
        if let Some(status) = change.target_status() {
            if row.status == CertStatus::Revoked && change != Change::Activate {
                return Err(fake_error(
                    service,
                    "Certificate.StatusError",
                    "The status of the certificate is invalid.",
                    400,
                    ErrorKind::InvalidState,
                ));
            }
            row.status = status;
            row.raw_status = raw(status);
            return Ok(done(status, &row.raw_status.clone()));
        }
        // Delete.
        for ((svc, _), rows) in s.rows.iter_mut() {
            if *svc == service {
                rows.retain(|r| r.id != id);
            }
        }
        s.kms.remove(id);
        Ok(Applied {
            status: None,
            request_id: Some("FAKE-REQUEST".into()),
            created: None,
        })
    }
}

impl Backend for FakeSource {
    fn read_status<'a>(&'a self, item: &'a BulkItem) -> BoxFuture<'a, Result<CertStatus, Error>> {
        let found = self.status_of(item.service, &item.id);
        Box::pin(async move { found.ok_or_else(|| not_found(item.service, &item.id)) })
    }

    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        request: &'a ChangeRequest,
    ) -> BoxFuture<'a, Result<Applied, Error>> {
        let result = self.apply_now(item, request);
        Box::pin(async move { result })
    }
}
