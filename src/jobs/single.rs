//! One change outside a bulk job — a status button, a certificate replacement or upload in the
//! window, a change command of the CLI: the audit entry is written before the request (result
//! `sent`) and completed with the answer after it, so a crash in between leaves an entry saying the
//! change may have been applied. If the entry cannot be written, nothing is sent.
//!
//! The audit entry of a bulk item is built by the same [`audit_entry`], so the same change reads
//! the same in the audit log wherever it was started.

use super::{Applied, Backend, BulkItem, ChangeRequest};
use crate::model::{Change, Error, Outcome};
use crate::store::journal::{AuditEntry, AuditResult, Journal};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Who makes a change, and where: recorded with every journal and audit entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// The profile whose credentials sign the requests (`env` for the SDK environment variables,
    /// `demo` in demo mode).
    pub profile: String,
    /// The OS user certdesk runs as.
    pub os_user: String,
    /// The host certdesk runs on.
    pub host: String,
    /// The AccessKey id (Alibaba) or AK (Huawei) that signs the requests: the public id only,
    /// never the secret. Empty when the caller does not know it.
    pub access_key_id: String,
    /// The region the requests go to (empty when unknown).
    pub region: String,
    /// The endpoint override, when one is used (`None`: the region's public endpoint).
    pub endpoint: Option<String>,
}

impl Principal {
    /// The principal of a profile, on this host as this OS user; key, region and endpoint
    /// unknown (see [`Principal::with_account`]).
    pub fn profile(name: impl Into<String>) -> Self {
        Principal {
            profile: name.into(),
            os_user: crate::store::lease::os_user(),
            host: crate::store::lease::host_name(),
            ..Principal::default()
        }
    }

    /// The principal of a profile whose requests are signed by `access_key_id` (the public id)
    /// and go to `region` (through `endpoint` when overridden).
    pub fn with_account(
        profile: impl Into<String>,
        access_key_id: impl Into<String>,
        region: impl Into<String>,
        endpoint: Option<String>,
    ) -> Self {
        Principal {
            access_key_id: access_key_id.into(),
            region: region.into(),
            endpoint: endpoint.filter(|e| !e.trim().is_empty()),
            ..Principal::profile(profile)
        }
    }

    /// `profile prod (AccessKey LTAI…, region cn-hangzhou, endpoint https://…)`: the account and
    /// place a confirmation names.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.access_key_id.is_empty() {
            parts.push(format!("AccessKey {}", self.access_key_id));
        }
        if !self.region.is_empty() {
            parts.push(format!("region {}", self.region));
        }
        if let Some(endpoint) = &self.endpoint {
            parts.push(format!("endpoint {endpoint}"));
        }
        if parts.is_empty() {
            format!("profile {}", self.profile)
        } else {
            format!("profile {} ({})", self.profile, parts.join(", "))
        }
    }
}

/// The signing side of an account: what a [`Principal`] records besides the profile's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signer {
    /// AccessKey id / AK (the public id, never the secret).
    pub access_key_id: String,
    /// Region.
    pub region: String,
    /// Endpoint override (`None`: the region's public endpoint).
    pub endpoint: Option<String>,
}

impl Principal {
    /// The principal of profile `name` signing as `signer` (unknown key and place without one).
    pub fn for_signer(name: impl Into<String>, signer: Option<Signer>) -> Self {
        match signer {
            Some(s) => Principal::with_account(name, s.access_key_id, s.region, s.endpoint),
            None => Principal::profile(name),
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The audit entry of `change` to `item` by `principal`, before anything is known of its result.
pub fn audit_entry(principal: &Principal, item: &BulkItem, change: Change) -> AuditEntry {
    AuditEntry {
        at: now_secs(),
        profile: principal.profile.clone(),
        provider: item.service.provider(),
        service: item.service,
        operation: change,
        target: item.id.clone(),
        site_id: item.site_id,
        result: AuditResult::Sent,
        code: None,
        message: None,
        request_id: None,
        job_id: None,
        os_user: non_empty(&principal.os_user),
        host: non_empty(&principal.host),
        access_key_id: non_empty(&principal.access_key_id),
        region: non_empty(&principal.region),
        endpoint: principal.endpoint.clone(),
        id: 0,
        answer_id: None,
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Applies `request` to `item` through `backend`, audited. `note` goes into the entry's message
/// (what was uploaded, e.g. the certificate's subject and fingerprint).
pub async fn apply(
    journal: Arc<Mutex<Journal>>,
    backend: Arc<dyn Backend>,
    principal: &Principal,
    item: BulkItem,
    request: ChangeRequest,
    note: Option<String>,
) -> Result<Applied, Error> {
    let mut entry = audit_entry(principal, &item, request.change());
    entry.message = note;
    audited(journal, entry, async move {
        backend.apply(&item, &request).await
    })
    .await
    .map(|(applied, _)| applied)
}

/// Something whose answer names the request that carried it.
pub trait Answer {
    /// The provider's request id, when the answer has one.
    fn request_id(&self) -> Option<String>;
    /// What the audit entry should add about the result (a new certificate's id), if anything.
    fn note(&self) -> Option<String> {
        None
    }
}

impl Answer for Applied {
    fn request_id(&self) -> Option<String> {
        self.request_id.clone()
    }
    fn note(&self) -> Option<String> {
        self.created.as_ref().map(|id| format!("created {id}"))
    }
}

/// Writes `entry` (result `sent`), then runs `call`, then records its answer. Returns the answer
/// and the audit row's id. If the entry cannot be written, `call` is never polled: nothing is sent,
/// and the error says so ([`Error::not_recorded`]).
pub async fn audited<T: Answer>(
    journal: Arc<Mutex<Journal>>,
    entry: AuditEntry,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<(T, i64), Error> {
    // What the entry said before the request stays in front of what the answer adds.
    let before_note = entry.message.clone();
    let begin = Arc::clone(&journal);
    let written = tokio::task::spawn_blocking(move || {
        begin
            .lock()
            .map_err(|_| "the journal is unavailable".to_string())
            .and_then(|mut j| j.begin_audit(&entry).map_err(|e| e.to_string()))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let audit_id = written.map_err(Error::not_recorded)?;
    let result = call.await;
    let (outcome, code, message, request_id) = match &result {
        Ok(answer) => {
            let note = answer.note().map(|n| match &before_note {
                Some(before) => format!("{before}; {n}"),
                None => n,
            });
            (Outcome::Applied, None, note, answer.request_id())
        }
        Err(e) => (
            Outcome::Failed,
            Some(e.code.clone()),
            Some(e.message.clone()),
            e.request_id.clone(),
        ),
    };
    let finished = tokio::task::spawn_blocking(move || {
        journal
            .lock()
            .map_err(|_| "the journal is unavailable".to_string())
            .and_then(|mut j| {
                j.finish_audit(
                    audit_id,
                    outcome.into(),
                    code.as_deref(),
                    message.as_deref(),
                    request_id.as_deref(),
                )
                .map_err(|e| e.to_string())
            })
    })
    .await;
    if let Ok(Err(e)) | Err(e) = finished.map_err(|e| e.to_string()) {
        tracing::warn!(error = %e, "recording the answer in the audit log failed");
    }
    result.map(|answer| (answer, audit_id))
}
