//! Certificate rotation and what comes after a job: one new certificate put on many CDN or VOD
//! domains as a bulk job of the engine (journal, resume, rate limit, cancel, audit), with the
//! per-domain checks that make it safe ([`DomainChecks`]), the preview a dry run shows
//! ([`preview`]), and the plans of "retry failed only" and "undo" ([`plan_undo`]).
//!
//! Per domain, before sending: the new certificate's names must cover the domain (browser rules,
//! `import::names_cover`) and the domain must be online; a domain refused is never sent. The
//! domain is then described: one already serving the new certificate (its SHA-256) is not sent
//! again (after a resume this confirms an uncertain send), and what it served before is journaled
//! so an undo can put a repository certificate back. After sending, the domain is described again
//! and must serve the new certificate, or the item fails with what it serves instead.
//!
//! Knows the engine's extension points ([`ItemChecks`]), the backend and the journal's params as
//! text; nothing of the CLI or the window. Never holds a private key: the one of an uploaded
//! certificate travels only in the job's [`ChangeRequest`] and is zeroized with it.

use super::backends::CloudBackend;
use super::checks::{ItemChecks, Precheck};
use super::{Backend, BulkItem, ChangeRequest, EngineConfig, RetryPolicy, ServedCertificate};
use crate::cloud::cdn::DomainQuery;
use crate::model::{Change, Error, ErrorKind, Outcome, Service};
use crate::store::journal::{JobRecord, JournalItem};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Error code of a rotation whose change was accepted but the domain does not serve the new
/// certificate when described again.
pub const VERIFY_MISMATCH: &str = "Rotation.VerifyMismatch";
/// Error code of a domain that serves no certificate at all after the change.
pub const VERIFY_NOTHING_SERVED: &str = "Rotation.NothingServed";

/// Where a rotation's new certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CertificateSource {
    /// A certificate of the SSL certificate repository: the job can be resumed and retried from
    /// the journal alone.
    Repository {
        /// `CertId`.
        cert_id: i64,
        /// Repository site (`cn-hangzhou`, `ap-southeast-1`).
        region: String,
    },
    /// A certificate and key read from files: its key is never journaled, so a resume or retry
    /// needs the files again.
    Upload {
        /// The name sent with it.
        cert_name: String,
    },
}

/// The certificate a rotation puts on domains: what is checked and compared, never its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCertificate {
    /// SHA-256 (lower-case hex) of the leaf certificate's DER: what "serving it" means.
    pub sha256: String,
    /// The DNS names it is valid for (its SANs, else its CN).
    pub names: Vec<String>,
    /// Expiry, UNIX seconds.
    pub not_after: Option<i64>,
    /// A short name for people (CN or repository name).
    pub label: String,
    /// Where it comes from.
    pub source: CertificateSource,
}

impl NewCertificate {
    /// The request that puts it on a domain; `None` for an uploaded certificate (its key is not
    /// here).
    pub fn repository_request(&self) -> Option<ChangeRequest> {
        match &self.source {
            CertificateSource::Repository { cert_id, region } => {
                Some(ChangeRequest::SetRepositoryCertificate {
                    cert_id: *cert_id,
                    region: region.clone(),
                })
            }
            CertificateSource::Upload { .. } => None,
        }
    }

    /// Whether it covers `domain` (browser rules).
    pub fn covers(&self, domain: &str) -> bool {
        crate::import::names_cover(&self.names, domain)
    }

    fn short_sha(&self) -> &str {
        short(&self.sha256)
    }
}

fn short(sha: &str) -> &str {
    sha.get(..16).unwrap_or(sha)
}

/// `YYYY-MM-DD` (UTC) of a UNIX time, or `unknown`.
pub fn day(unix: Option<i64>) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    unix.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Where a job came from, when another job made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOrigin {
    /// `retry-failed` or `undo`.
    pub kind: String,
    /// The job it retries or undoes.
    pub job: String,
}

/// What the journal keeps of a job besides its change (JSON in the journal's job params).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobParams {
    /// The certificate a set-certificate job puts on its domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<NewCertificate>,
    /// Accept an expired certificate (the explicit override given when the job started).
    #[serde(default)]
    pub allow_expired: bool,
    /// Where the job came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<JobOrigin>,
}

impl JobParams {
    /// As journaled.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// From the journal; `None` when absent or unreadable (a job of an older build has none).
    pub fn decode(text: Option<&str>) -> Option<JobParams> {
        text.and_then(|t| serde_json::from_str(t).ok())
    }
}

/// What a domain served before a job changed it, as journaled per item (`null`: no certificate).
pub fn encode_previous(previous: Option<&ServedCertificate>) -> String {
    serde_json::to_string(&previous).unwrap_or_else(|_| "null".to_string())
}

/// Reads [`encode_previous`]; `Err` when the text is not one.
pub fn decode_previous(text: &str) -> Result<Option<ServedCertificate>, String> {
    serde_json::from_str(text).map_err(|e| format!("unreadable previous state: {e}"))
}

/// The change that puts a domain back to what it `previous`ly served, or why none can.
pub fn undo_request(previous: Option<&ServedCertificate>) -> Result<ChangeRequest, String> {
    match previous {
        None => Ok(ChangeRequest::Status(Change::HttpsOff)),
        Some(p) if !p.https => Ok(ChangeRequest::Status(Change::HttpsOff)),
        Some(p) => match p.cas_id {
            Some(cert_id) => Ok(ChangeRequest::SetRepositoryCertificate {
                cert_id,
                // CertRegion's documented default is the China site.
                region: p
                    .cas_region
                    .clone()
                    .unwrap_or_else(|| "cn-hangzhou".to_string()),
            }),
            None => Err(format!(
                "the previous certificate ({} {:?}) was uploaded with its key, not taken from the repository: certdesk never keeps keys, so it cannot put it back",
                if p.cert_type.is_empty() {
                    "certificate"
                } else {
                    p.cert_type.as_str()
                },
                p.name
            )),
        },
    }
}

/// Why a domain in `status` (as the domain listing says) cannot get an HTTPS change now; `None`
/// when it can (online).
pub fn refusal_for_status(status: &str) -> Option<String> {
    match status.trim() {
        "online" | "" => None,
        "configuring" => Some(
            "the domain is being configured (status configuring): the service refuses certificate changes until it is online again; retry later"
                .to_string(),
        ),
        other => Some(format!(
            "the domain is not online (status {other}): the service refuses HTTPS changes on it"
        )),
    }
}

/// Every domain of `service` (CDN or VOD) with its status, lower-case names (for
/// [`DomainChecks::refusing`]). CDN lists domains under review or failed ones too.
pub async fn domain_statuses(
    backend: &CloudBackend,
    service: Service,
) -> Result<HashMap<String, String>, Error> {
    let clients = backend.alibaba()?;
    Ok(match service {
        Service::Cdn => {
            let query = DomainQuery {
                check_domain_show: true,
                ..DomainQuery::default()
            };
            clients
                .cdn
                .describe_user_domains(&query, |_, _| {})
                .await?
                .into_iter()
                .map(|d| (d.domain_name.to_ascii_lowercase(), d.domain_status))
                .collect()
        }
        Service::Vod => clients
            .vod
            .describe_vod_user_domains()
            .await?
            .into_iter()
            .map(|d| (d.domain_name.to_ascii_lowercase(), d.domain_status))
            .collect(),
        other => {
            return Err(super::backends::unsupported(other, Change::SetCertificate));
        }
    })
}

/// The per-domain checks of a rotation (with a new certificate) or of an HTTPS on/off job
/// (refusals only), for the engine.
pub struct DomainChecks {
    backend: Arc<dyn Backend>,
    refused: HashMap<String, String>,
    new: Option<NewCertificate>,
    retry: RetryPolicy,
    verify_waits: Vec<Duration>,
}

impl DomainChecks {
    /// Checks for a job over `backend`'s domains. `new`: the certificate a rotation puts on them.
    pub fn new(backend: Arc<dyn Backend>, new: Option<NewCertificate>) -> DomainChecks {
        DomainChecks {
            backend,
            refused: HashMap::new(),
            new,
            retry: RetryPolicy::for_jobs(),
            // How soon a described domain shows a new certificate is not documented
            // (unconfirmed; the simulator shows it at once): look again twice before calling it
            // a mismatch.
            verify_waits: vec![Duration::from_millis(500), Duration::from_secs(2)],
        }
    }

    /// Refuses the domains whose status (from [`domain_statuses`]) does not allow HTTPS changes.
    pub fn refusing(mut self, statuses: &HashMap<String, String>) -> DomainChecks {
        self.refused = statuses
            .iter()
            .filter_map(|(domain, status)| {
                refusal_for_status(status).map(|reason| (domain.clone(), reason))
            })
            .collect();
        self
    }

    /// The retry policy of its reads (the engine's).
    pub fn with_retry(mut self, retry: RetryPolicy) -> DomainChecks {
        self.retry = retry;
        self
    }

    /// The waits before describing a domain again when it does not serve the new certificate yet.
    pub fn with_verify_waits(mut self, waits: Vec<Duration>) -> DomainChecks {
        self.verify_waits = waits;
        self
    }

    /// Why `domain` is refused before anything is read, if it is.
    pub fn refusal(&self, domain: &str) -> Option<String> {
        if let Some(reason) = self.refused.get(&domain.to_ascii_lowercase()) {
            return Some(reason.clone());
        }
        let new = self.new.as_ref()?;
        (!new.covers(domain)).then(|| {
            format!(
                "the new certificate {} does not cover {domain} (it is valid for {}): nothing sent",
                new.label,
                new.names.join(", ")
            )
        })
    }

    /// Describes `item`'s certificate, retrying what a retry can fix.
    pub async fn describe(&self, item: &BulkItem) -> Result<Option<ServedCertificate>, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.backend.serving(item).await {
                Err(e) if e.is_retryable() && self.retry.allows_another(attempt) => {
                    let wait = {
                        let mut rng = rand::thread_rng();
                        self.retry.delay(attempt, e.retry_after, &mut rng)
                    };
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    fn serves_new(&self, served: Option<&ServedCertificate>) -> bool {
        match (&self.new, served) {
            (Some(new), Some(s)) => s.https && s.sha256.as_deref() == Some(new.sha256.as_str()),
            _ => false,
        }
    }
}

/// What a domain serves, in a few words.
pub fn describe_served(served: Option<&ServedCertificate>) -> String {
    match served {
        None => "no certificate".to_string(),
        Some(s) => {
            let what = match s.cas_id {
                Some(id) => format!("repository certificate {id}"),
                None if s.cert_type.is_empty() => "a certificate".to_string(),
                None => format!("{} certificate {:?}", s.cert_type, s.name),
            };
            format!(
                "{what} (SHA-256 {}, expires {}){}",
                s.sha256.as_deref().map(short).unwrap_or("unknown"),
                day(s.not_after),
                if s.https { "" } else { ", HTTPS off" }
            )
        }
    }
}

impl ItemChecks for DomainChecks {
    fn before<'a>(
        &'a self,
        item: &'a BulkItem,
        uncertain: bool,
    ) -> BoxFuture<'a, Result<Precheck, Error>> {
        Box::pin(async move {
            if let Some(reason) = self.refusal(&item.id) {
                return Ok(Precheck::Refuse(reason));
            }
            let Some(new) = &self.new else {
                return Ok(Precheck::Send { previous: None });
            };
            let current = self.describe(item).await?;
            if self.serves_new(current.as_ref()) {
                let sha = new.short_sha();
                return Ok(Precheck::Done(if uncertain {
                    format!(
                        "applied: described again after the resume, the domain serves the new certificate (SHA-256 {sha}); not sent again"
                    )
                } else {
                    format!("already serving the new certificate (SHA-256 {sha}); nothing sent")
                }));
            }
            Ok(Precheck::Send {
                previous: Some(encode_previous(current.as_ref())),
            })
        })
    }

    fn after<'a>(&'a self, item: &'a BulkItem) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let Some(new) = &self.new else {
                return Ok(String::new());
            };
            let mut waits = self.verify_waits.iter();
            loop {
                let served = self.describe(item).await?;
                if self.serves_new(served.as_ref()) {
                    return Ok(format!(
                        "verified: serving the new certificate (SHA-256 {}, expires {})",
                        new.short_sha(),
                        day(new.not_after)
                    ));
                }
                match waits.next() {
                    Some(wait) => tokio::time::sleep(*wait).await,
                    None => {
                        let code = if served.is_none() {
                            VERIFY_NOTHING_SERVED
                        } else {
                            VERIFY_MISMATCH
                        };
                        return Err(Error::local(
                            item.service,
                            code,
                            format!(
                                "the change was accepted, but described again {} serves {}, not the new certificate (SHA-256 {})",
                                item.id,
                                describe_served(served.as_ref()),
                                new.short_sha()
                            ),
                            ErrorKind::InvalidState,
                        ));
                    }
                }
            }
        })
    }
}

/// One domain of a rotation's dry run: what it serves now, what it would serve, and whether the
/// job would send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationPreview {
    /// The domain.
    pub domain: String,
    /// What it serves now (`None` when it could not be read or has no certificate).
    pub current: Option<ServedCertificate>,
    /// SHA-256 of the new certificate.
    pub new_sha256: String,
    /// Expiry of the new certificate.
    pub new_not_after: Option<i64>,
    /// The new certificate's names cover the domain.
    pub covered: bool,
    /// `would send`, `already serving the new certificate`, `not allowed: …`, or the read error.
    pub verdict: String,
    /// The real run would send a request for it.
    pub would_send: bool,
    /// An undo could put the current certificate back (a repository certificate, or HTTPS off).
    pub reversible: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irreversible_because: Option<String>,
}

/// The dry run of a rotation: every domain described (at `config`'s rate, since describing has no
/// published limit either), nothing changed.
pub async fn preview(
    checks: Arc<DomainChecks>,
    items: Vec<BulkItem>,
    config: EngineConfig,
) -> Vec<RotationPreview> {
    let limiter = config.qps.map(|q| {
        governor::RateLimiter::direct(
            governor::Quota::per_second(q)
                .allow_burst(NonZeroU32::new(q.get().div_ceil(10)).unwrap_or(NonZeroU32::MIN)),
        )
    });
    let limiter = Arc::new(limiter);
    let mut previews: Vec<(usize, RotationPreview)> =
        futures_util::stream::iter(items.into_iter().enumerate())
            .map(|(i, item)| {
                let checks = Arc::clone(&checks);
                let limiter = Arc::clone(&limiter);
                async move {
                    let (new_sha256, new_not_after, covered) = match &checks.new {
                        Some(n) => (n.sha256.clone(), n.not_after, n.covers(&item.id)),
                        None => (String::new(), None, true),
                    };
                    let mut p = RotationPreview {
                        domain: item.id.clone(),
                        current: None,
                        new_sha256,
                        new_not_after,
                        covered,
                        verdict: String::new(),
                        would_send: false,
                        reversible: false,
                        irreversible_because: None,
                    };
                    if let Some(reason) = checks.refusal(&item.id) {
                        p.verdict = format!("not allowed: {reason}");
                    } else {
                        if let Some(l) = limiter.as_ref() {
                            l.until_ready().await;
                        }
                        match checks.describe(&item).await {
                            Ok(current) => {
                                if checks.serves_new(current.as_ref()) {
                                    p.verdict = "already serving the new certificate".into();
                                } else {
                                    p.verdict = "would send".into();
                                    p.would_send = true;
                                }
                                match undo_request(current.as_ref()) {
                                    Ok(_) => p.reversible = true,
                                    Err(why) => p.irreversible_because = Some(why),
                                }
                                p.current = current;
                            }
                            Err(e) => p.verdict = e.to_string(),
                        }
                    }
                    (i, p)
                }
            })
            .buffer_unordered(config.concurrency.max(1))
            .collect()
            .await;
    previews.sort_by_key(|(i, _)| *i);
    previews.into_iter().map(|(_, p)| p).collect()
}

/// One job of an undo: one change for a group of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoJob {
    /// The change.
    pub request: ChangeRequest,
    /// The items, in the undone job's order.
    pub items: Vec<BulkItem>,
}

/// What undoing a job means, item by item, before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UndoPlan {
    /// The jobs to run (one per distinct change; a rotation's domains are put back per previous
    /// certificate).
    pub jobs: Vec<UndoJob>,
    /// Items the job changed that cannot be put back, and why.
    pub irreversible: Vec<(BulkItem, String)>,
    /// Items the job did not change (already in the target state, refused, failed or never
    /// sent): nothing to undo.
    pub untouched: usize,
}

/// Why `change` on `service` has no inverse, in words for the confirmation.
pub fn why_irreversible(change: Change, service: Service) -> String {
    match (change, service) {
        (Change::Revoke, _) => format!("a revocation is final on {}", service.label()),
        (Change::Delete | Change::DeleteCertificate, _) => {
            "what was deleted cannot be restored".to_string()
        }
        (Change::HttpsOff, Service::Vod) => {
            "VOD switches HTTPS on only together with a certificate and its key".to_string()
        }
        (Change::UploadCertificate | Change::CreateCertificate, _) => {
            format!("certdesk does not remove what {change} made; delete it explicitly if needed")
        }
        _ => format!("{change} has no inverse on {}", service.label()),
    }
}

/// "reversible: `certdesk jobs undo` applies X" or "irreversible: why", for confirmations.
pub fn reversibility(change: Change, service: Service) -> String {
    match change.inverse_on(service) {
        Some(inverse) => format!("reversible: `certdesk jobs undo` applies {inverse}"),
        None => format!("irreversible: {}", why_irreversible(change, service)),
    }
}

/// Plans the undo of `record`'s job: exactly the items it changed (outcome applied), each with the
/// inverse of its change, or listed as irreversible with the reason. `previous` is the journal's
/// per-item previous state (by position).
pub fn plan_undo(
    record: &JobRecord,
    items: &[JournalItem],
    previous: &HashMap<u32, String>,
) -> UndoPlan {
    let mut plan = UndoPlan::default();
    let service = record.service;
    let inverse = record.operation.inverse_on(service);
    for journaled in items {
        if journaled.outcome != Some(Outcome::Applied) {
            plan.untouched += 1;
            continue;
        }
        let item = BulkItem {
            service,
            id: journaled.item_id.clone(),
            site_id: journaled.site_id,
            name: journaled.name.clone(),
        };
        let request = if record.operation == Change::SetCertificate {
            match previous.get(&journaled.idx) {
                None => Err(
                    "what the domain served before was not journaled, so certdesk cannot tell what to put back"
                        .to_string(),
                ),
                Some(text) => {
                    decode_previous(text).and_then(|p| undo_request(p.as_ref()))
                }
            }
        } else {
            inverse
                .map(ChangeRequest::Status)
                .ok_or_else(|| why_irreversible(record.operation, service))
        };
        match request {
            Ok(request) => match plan.jobs.iter_mut().find(|j| j.request == request) {
                Some(job) => job.items.push(item),
                None => plan.jobs.push(UndoJob {
                    request,
                    items: vec![item],
                }),
            },
            Err(why) => plan.irreversible.push((item, why)),
        }
    }
    plan
}

/// The items of a job that failed (outcome failed, not the refused ones): what "retry failed
/// only" runs again.
pub fn failed_items(service: Service, items: &[JournalItem]) -> Vec<BulkItem> {
    items
        .iter()
        .filter(|i| i.outcome == Some(Outcome::Failed))
        .map(|i| BulkItem {
            service,
            id: i.item_id.clone(),
            site_id: i.site_id,
            name: i.name.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CertStatus;
    use crate::store::journal::{ItemState, JobState};
    use std::sync::Mutex;

    fn served(sha: &str, cas: Option<i64>, https: bool) -> ServedCertificate {
        ServedCertificate {
            sha256: Some(sha.to_string()),
            not_after: Some(1_900_000_000),
            cas_id: cas,
            cas_region: cas.map(|_| "cn-hangzhou".to_string()),
            cert_type: if cas.is_some() { "cas" } else { "upload" }.to_string(),
            name: "n".into(),
            common_name: "c".into(),
            https,
        }
    }

    fn new_cert() -> NewCertificate {
        NewCertificate {
            sha256: "aa".repeat(32),
            names: vec!["*.example.com".into()],
            not_after: Some(1_900_000_000),
            label: "*.example.com".into(),
            source: CertificateSource::Repository {
                cert_id: 7,
                region: "cn-hangzhou".into(),
            },
        }
    }

    /// Domains that serve what they are set to, except `liar`, which keeps its old certificate.
    struct Domains {
        serving: Mutex<HashMap<String, Option<ServedCertificate>>>,
        liar: String,
    }

    impl Backend for Domains {
        fn read_status<'a>(
            &'a self,
            _item: &'a BulkItem,
        ) -> BoxFuture<'a, Result<CertStatus, Error>> {
            Box::pin(async { Ok(CertStatus::Active) })
        }
        fn apply<'a>(
            &'a self,
            item: &'a BulkItem,
            _request: &'a ChangeRequest,
        ) -> BoxFuture<'a, Result<super::super::Applied, Error>> {
            Box::pin(async move {
                if item.id != self.liar {
                    self.serving.lock().unwrap().insert(
                        item.id.clone(),
                        Some(served(&"aa".repeat(32), Some(7), true)),
                    );
                }
                Ok(super::super::Applied::default())
            })
        }
        fn serving<'a>(
            &'a self,
            item: &'a BulkItem,
        ) -> BoxFuture<'a, Result<Option<ServedCertificate>, Error>> {
            Box::pin(async move {
                Ok(self
                    .serving
                    .lock()
                    .unwrap()
                    .get(&item.id)
                    .cloned()
                    .flatten())
            })
        }
    }

    fn item(id: &str) -> BulkItem {
        BulkItem {
            service: Service::Cdn,
            id: id.into(),
            site_id: None,
            name: String::new(),
        }
    }

    #[tokio::test]
    async fn checks_refuse_skip_record_and_verify() {
        let backend = Arc::new(Domains {
            serving: Mutex::new(HashMap::from([
                (
                    "a.example.com".to_string(),
                    Some(served("bb", Some(3), true)),
                ),
                (
                    "b.example.com".to_string(),
                    Some(served(&"aa".repeat(32), Some(7), true)),
                ),
                ("c.example.com".to_string(), Some(served("cc", None, true))),
            ])),
            liar: "c.example.com".into(),
        });
        let statuses = HashMap::from([
            ("a.example.com".to_string(), "online".to_string()),
            ("d.example.com".to_string(), "configuring".to_string()),
        ]);
        let checks = DomainChecks::new(backend.clone(), Some(new_cert()))
            .refusing(&statuses)
            .with_verify_waits(vec![Duration::from_millis(1)]);
        // Not covered: refused without a read.
        let Precheck::Refuse(why) = checks.before(&item("example.com"), false).await.unwrap()
        else {
            panic!("not refused")
        };
        assert!(why.contains("does not cover example.com"), "{why}");
        assert!(matches!(
            checks
                .before(&item("x.y.example.com"), false)
                .await
                .unwrap(),
            Precheck::Refuse(_)
        ));
        let Precheck::Refuse(why) = checks.before(&item("d.example.com"), false).await.unwrap()
        else {
            panic!("configuring domain not refused")
        };
        assert!(why.contains("being configured"), "{why}");
        // Already serving: not sent; after a resume that confirms the change.
        let Precheck::Done(note) = checks.before(&item("b.example.com"), false).await.unwrap()
        else {
            panic!("not done")
        };
        assert!(note.starts_with("already serving"), "{note}");
        let Precheck::Done(note) = checks.before(&item("b.example.com"), true).await.unwrap()
        else {
            panic!("not done")
        };
        assert!(note.starts_with("applied: described again"), "{note}");
        // To send: the previous certificate is recorded, and it can be put back.
        let Precheck::Send {
            previous: Some(previous),
        } = checks.before(&item("a.example.com"), false).await.unwrap()
        else {
            panic!("no previous state")
        };
        let previous = decode_previous(&previous).unwrap();
        assert_eq!(
            undo_request(previous.as_ref()),
            Ok(ChangeRequest::SetRepositoryCertificate {
                cert_id: 3,
                region: "cn-hangzhou".into()
            })
        );
        backend
            .apply(
                &item("a.example.com"),
                &ChangeRequest::Status(Change::HttpsOn),
            )
            .await
            .unwrap();
        let note = checks.after(&item("a.example.com")).await.unwrap();
        assert!(
            note.starts_with("verified: serving the new certificate"),
            "{note}"
        );
        // The liar accepts the change but keeps serving its old certificate.
        backend
            .apply(
                &item("c.example.com"),
                &ChangeRequest::Status(Change::HttpsOn),
            )
            .await
            .unwrap();
        let e = checks.after(&item("c.example.com")).await.unwrap_err();
        assert_eq!(e.code, VERIFY_MISMATCH);
        assert!(e.message.contains("not the new certificate"), "{e}");
    }

    #[test]
    fn undo_puts_back_repository_certificates_only() {
        assert_eq!(
            undo_request(None),
            Ok(ChangeRequest::Status(Change::HttpsOff))
        );
        assert_eq!(
            undo_request(Some(&served("bb", Some(3), false))),
            Ok(ChangeRequest::Status(Change::HttpsOff))
        );
        let e = undo_request(Some(&served("bb", None, true))).unwrap_err();
        assert!(e.contains("uploaded"), "{e}");

        let record = JobRecord {
            id: "j".into(),
            created_at: 0,
            profile: "p".into(),
            service: Service::Cdn,
            operation: Change::SetCertificate,
            state: JobState::Finished,
        };
        let journaled = |idx: u32, outcome: Outcome| JournalItem {
            idx,
            item_id: format!("d{idx}.example.com"),
            site_id: None,
            name: String::new(),
            state: ItemState::Succeeded,
            outcome: Some(outcome),
            code: None,
            message: None,
            request_id: None,
            attempts: 1,
        };
        let items = vec![
            journaled(0, Outcome::Applied),
            journaled(1, Outcome::Applied),
            journaled(2, Outcome::Applied),
            journaled(3, Outcome::Already),
            journaled(4, Outcome::Applied),
            journaled(5, Outcome::Applied),
        ];
        let previous = HashMap::from([
            (0, encode_previous(Some(&served("bb", Some(3), true)))),
            (1, encode_previous(Some(&served("bb", Some(3), true)))),
            (2, encode_previous(Some(&served("cc", None, true)))),
            (4, encode_previous(None)),
        ]);
        let plan = plan_undo(&record, &items, &previous);
        assert_eq!(plan.untouched, 1);
        assert_eq!(plan.jobs.len(), 2);
        assert_eq!(plan.jobs[0].items.len(), 2);
        assert_eq!(
            plan.jobs[1].request,
            ChangeRequest::Status(Change::HttpsOff)
        );
        let irreversible: Vec<&str> = plan
            .irreversible
            .iter()
            .map(|(i, _)| i.id.as_str())
            .collect();
        assert_eq!(irreversible, ["d2.example.com", "d5.example.com"]);

        // Status jobs: the service decides.
        let esa = JobRecord {
            service: Service::Esa,
            operation: Change::Revoke,
            ..record.clone()
        };
        let plan = plan_undo(&esa, &items[..2], &HashMap::new());
        assert_eq!(
            plan.jobs[0].request,
            ChangeRequest::Status(Change::Activate)
        );
        let kms = JobRecord {
            service: Service::Kms,
            operation: Change::Revoke,
            ..record
        };
        let plan = plan_undo(&kms, &items[..2], &HashMap::new());
        assert!(plan.jobs.is_empty());
        assert!(
            plan.irreversible[0].1.contains("final"),
            "{:?}",
            plan.irreversible
        );
    }

    #[test]
    fn params_round_trip_without_any_key() {
        let params = JobParams {
            certificate: Some(new_cert()),
            allow_expired: false,
            origin: Some(JobOrigin {
                kind: "undo".into(),
                job: "j1".into(),
            }),
        };
        let text = params.encode();
        assert_eq!(JobParams::decode(Some(&text)), Some(params));
        assert_eq!(JobParams::decode(Some("not json")), None);
        assert_eq!(
            new_cert().repository_request(),
            Some(ChangeRequest::SetRepositoryCertificate {
                cert_id: 7,
                region: "cn-hangzhou".into()
            })
        );
    }
}
