//! The CLI's single changes (`kms set-status`, `pca revoke`, `esa revoke|activate`, `vod set-cert`,
//! `cdn set-cert`, `cas upload|delete`, `iot set-status|delete`): the same audited path as the window's buttons — the change is written
//! to the audit log before the request and completed with the answer, under the change's one word,
//! through the same backend bulk jobs use. Nothing is sent when the entry cannot be written.

use super::{Failure, Globals, emit};
use crate::cloud::Transport;
use crate::jobs::backends::CloudBackend;
use crate::jobs::{BulkItem, ChangeRequest, Principal};
use crate::model::{CertStatus, Change, Provider, Service};
use crate::store::journal::Journal;
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// What `--json` prints for a change.
#[derive(Debug, Serialize)]
struct ChangeReport {
    /// The change's code.
    change: Change,
    service: Service,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_id: Option<i64>,
    /// The status now (`null` when the item was deleted or the answer does not say).
    status: Option<CertStatus>,
    /// The provider's word for it.
    provider_status: Option<String>,
    request_id: Option<String>,
    /// The id of what the change created (an uploaded repository certificate).
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    /// The profile the change was made as (recorded in the audit log).
    profile: String,
}

/// The journal (and audit log) in the data directory; `CERTDESK_DATA_DIR` overrides it.
pub(super) fn journal() -> Result<Arc<Mutex<Journal>>, Failure> {
    let path = crate::store::default_path().ok_or_else(|| {
        Failure::Config("no data directory for the journal: set CERTDESK_DATA_DIR".into())
    })?;
    let journal =
        Journal::open(&path).map_err(|e| Failure::Run(format!("{}: {e}", path.display())))?;
    Ok(Arc::new(Mutex::new(journal)))
}

/// The backend for `provider`'s account under `transport`, and the principal it acts as.
pub(super) fn backend(
    g: &Globals,
    provider: Provider,
    transport: &Transport,
) -> Result<(CloudBackend, Principal, Option<u32>), Failure> {
    Ok(match provider {
        Provider::Alibaba => {
            let (config, profile) = g.alibaba_account()?;
            (
                CloudBackend::new(transport, Some(&config), None),
                Principal::profile(profile.name),
                profile.rate_limit_qps,
            )
        }
        Provider::Huawei => {
            let (config, profile) = g.huawei_account()?;
            (
                CloudBackend::new(transport, None, Some(&config)),
                Principal::profile(profile.name),
                profile.rate_limit_qps,
            )
        }
    })
}

/// Applies `request` to one item, audited, and prints what happened.
pub(super) async fn apply(
    g: &Globals,
    item: BulkItem,
    request: ChangeRequest,
    note: Option<String>,
) -> Result<(), Failure> {
    let transport = g.transport()?;
    let (backend, principal, _) = backend(g, item.service.provider(), &transport)?;
    // A client that cannot be built (a refused endpoint) fails before anything is recorded.
    match item.service.provider() {
        Provider::Alibaba => backend.alibaba().map(|_| ())?,
        Provider::Huawei => backend.iotda().map(|_| ())?,
    }
    let journal = journal()?;
    let change = request.change();
    let applied = crate::jobs::single::apply(
        journal,
        Arc::new(backend),
        &principal,
        item.clone(),
        request,
        note,
    )
    .await?;
    let report = ChangeReport {
        change,
        service: item.service,
        id: item.id.clone(),
        site_id: item.site_id,
        status: applied.status.as_ref().map(|(s, _)| *s),
        provider_status: applied.status.as_ref().map(|(_, raw)| raw.clone()),
        request_id: applied.request_id.clone(),
        created: applied.created.clone(),
        profile: principal.profile.clone(),
    };
    emit(g, &report, || {
        let mut line = format!("OK: {} {}", item.id, change.done());
        if let Some((_, raw)) = &applied.status {
            line.push_str(&format!(", now {raw}"));
        }
        if let Some(id) = &applied.created {
            line.push_str(&format!(", id {id}"));
        }
        if let Some(id) = &applied.request_id {
            line.push_str(&format!(" (RequestId: {id})"));
        }
        line.push('\n');
        line
    })
}
