//! An in-memory [`InventorySource`] for tests and benchmarks: generated rows per service, status
//! changes that stick, and page failures on demand. Not a simulator of any API's wire format.

use super::source::{
    CertificateDetail, ChangeOutcome, EsaSite, InventorySource, KmsCreateRequest, KmsCreated,
    ListTarget, Page, PageCursor, ProviderError, SerialStatus, SourceFuture, StatusChange,
    VodCertificateUpload,
};
use crate::model::{CertStatus, CertificateRow, Service};
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
    fail_after: Option<(usize, ProviderError)>,
    calls: Vec<String>,
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
    pub fn fail_next_page(&self, error: ProviderError) {
        self.fail_list_call_after(0, error);
    }

    /// Lets `ok` more `list_page` calls succeed, then fails one with `error`.
    pub fn fail_list_call_after(&self, ok: usize, error: ProviderError) {
        self.lock().fail_after = Some((ok, error));
    }

    /// The calls made so far (`list Iotda page 1`, `change Iotda x Revoke`...).
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

fn not_found(id: &str) -> ProviderError {
    ProviderError {
        code: "Certificate.NotFound".into(),
        message: format!("The specified certificate {id} is not found."),
        request_id: Some("FAKE-REQUEST".into()),
        http_status: Some(404),
        retryable: false,
    }
}

impl InventorySource for FakeSource {
    fn account(&self) -> &str {
        "fake"
    }

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
            let row = found.ok_or_else(|| not_found(&id))?;
            Ok(CertificateDetail {
                facts: vec![("Source".into(), "fake".into())],
                pem: row.pem.clone(),
                extra: None,
                row,
            })
        })
    }

    fn change_status(
        &self,
        service: Service,
        id: &str,
        _site_id: Option<i64>,
        change: StatusChange,
    ) -> SourceFuture<ChangeOutcome> {
        let mut s = self.lock();
        s.calls.push(format!("change {service:?} {id} {change:?}"));
        let raw = |status: CertStatus| match service {
            Service::Vod if status == CertStatus::Active => "on".to_string(),
            Service::Vod => "off".to_string(),
            Service::Pca | Service::Esa => status.label().to_lowercase(),
            _ => status.label().to_uppercase(),
        };
        let outcome = {
            let row = if service == Service::Kms {
                s.kms.get_mut(id)
            } else {
                s.rows
                    .iter_mut()
                    .filter(|((svc, _), _)| *svc == service)
                    .flat_map(|(_, rows)| rows.iter_mut())
                    .find(|r| r.id == id)
            };
            match (row, change.resulting_status()) {
                (None, _) => Err(not_found(id)),
                (Some(row), Some(status)) => {
                    row.status = status;
                    row.raw_status = raw(status);
                    Ok(ChangeOutcome {
                        status: Some((status, row.raw_status.clone())),
                        request_id: Some("FAKE-REQUEST".into()),
                    })
                }
                (Some(_), None) => Ok(ChangeOutcome {
                    status: None,
                    request_id: Some("FAKE-REQUEST".into()),
                }),
            }
        };
        if outcome.as_ref().is_ok_and(|o| o.status.is_none()) {
            for ((svc, _), rows) in s.rows.iter_mut() {
                if *svc == service {
                    rows.retain(|r| r.id != id);
                }
            }
            s.kms.remove(id);
        }
        Box::pin(async move { outcome })
    }

    fn pca_statuses(&self, identifiers: Vec<String>) -> SourceFuture<Vec<SerialStatus>> {
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

    fn esa_sites(&self) -> SourceFuture<Vec<EsaSite>> {
        self.lock().calls.push("esa sites".into());
        Box::pin(async move {
            Ok(vec![
                EsaSite {
                    id: 1,
                    name: "one.example.com".into(),
                },
                EsaSite {
                    id: 2,
                    name: "two.example.com".into(),
                },
            ])
        })
    }

    fn kms_create(&self, request: KmsCreateRequest) -> SourceFuture<KmsCreated> {
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
                return Err(ProviderError {
                    code: "InvalidParameter".into(),
                    message: "The specified parameter Subject is not valid.".into(),
                    request_id: Some("FAKE-REQUEST".into()),
                    http_status: Some(400),
                    retryable: false,
                });
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

    fn vod_set_certificate(&self, upload: VodCertificateUpload) -> SourceFuture<ChangeOutcome> {
        let mut s = self.lock();
        s.calls.push(format!(
            "vod set-certificate {} {}",
            upload.domain, upload.cert_name
        ));
        let row = s
            .rows
            .iter_mut()
            .filter(|((svc, _), _)| *svc == Service::Vod)
            .flat_map(|(_, rows)| rows.iter_mut())
            .find(|r| r.id == upload.domain || r.name == upload.domain);
        let outcome = match row {
            None => Err(not_found(&upload.domain)),
            Some(row) => {
                row.status = CertStatus::Active;
                row.raw_status = "on".into();
                row.pem = Some(upload.certificate_pem.clone());
                Ok(ChangeOutcome {
                    status: Some((CertStatus::Active, "on".into())),
                    request_id: Some("FAKE-REQUEST".into()),
                })
            }
        };
        Box::pin(async move { outcome })
    }

    fn kms_csr(&self, certificate_id: &str) -> SourceFuture<String> {
        let mut s = self.lock();
        s.calls.push(format!("kms csr {certificate_id}"));
        let csr = s.csrs.get(certificate_id).cloned();
        let id = certificate_id.to_string();
        Box::pin(async move { csr.ok_or_else(|| not_found(&id)) })
    }

    fn kms_upload(
        &self,
        certificate_id: &str,
        certificate_pem: String,
        chain_pem: Option<String>,
    ) -> SourceFuture<ChangeOutcome> {
        let mut s = self.lock();
        s.calls.push(format!(
            "kms upload {certificate_id} chain={}",
            chain_pem.is_some()
        ));
        let outcome = match s.kms.get_mut(certificate_id) {
            None => Err(not_found(certificate_id)),
            Some(row) => {
                row.status = CertStatus::Active;
                row.raw_status = "ACTIVE".into();
                row.pem = Some(certificate_pem);
                Ok(ChangeOutcome {
                    status: Some((CertStatus::Active, "ACTIVE".into())),
                    request_id: Some("FAKE-REQUEST".into()),
                })
            }
        };
        Box::pin(async move { outcome })
    }
}
