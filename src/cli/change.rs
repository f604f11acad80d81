//! The CLI's single changes (`kms set-status`, `pca revoke`, `esa revoke|activate`, `vod set-cert`,
//! `cdn set-cert`, `cas upload|delete`, `iot set-status|delete`): the same audited path as the window's buttons — the change is written
//! to the audit log before the request and completed with the answer, under the change's one word,
//! through the same backend bulk jobs use. Nothing is sent when the entry cannot be written.

use super::{Failure, Globals, emit, escape_for_terminal};
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

/// The account a command acts as, resolved: the backend over it, the principal the journal and
/// audit log record (profile, AccessKey id, region, endpoint, OS user, host), the profile's rate
/// limit, and the profile's own region and endpoint (what the global flags may have overridden).
pub(super) struct Account {
    /// The backend over the account.
    pub backend: CloudBackend,
    /// Who and where.
    pub principal: Principal,
    /// The profile's bulk rate limit.
    pub rate_limit_qps: Option<u32>,
    /// The profile's region (before `--region`).
    pub profile_region: String,
    /// The profile's endpoint override (before `--endpoint`).
    pub profile_endpoint: Option<String>,
}

/// The backend for `provider`'s account under `transport`, and the principal it acts as.
pub(super) fn backend(
    g: &Globals,
    provider: Provider,
    transport: &Transport,
) -> Result<Account, Failure> {
    Ok(match provider {
        Provider::Alibaba => {
            let (config, profile) = g.alibaba_account()?;
            Account {
                backend: CloudBackend::new(transport, Some(&config), None),
                principal: Principal::with_account(
                    profile.name,
                    config.credentials.access_key_id.clone(),
                    config.region.clone(),
                    config.endpoint.clone(),
                ),
                rate_limit_qps: profile.rate_limit_qps,
                profile_region: profile.region,
                profile_endpoint: profile.endpoint,
            }
        }
        Provider::Huawei => {
            let (config, profile) = g.huawei_account()?;
            Account {
                backend: CloudBackend::new(transport, None, Some(&config)),
                principal: Principal::with_account(
                    profile.name,
                    config.credentials.access_key.clone(),
                    config.region.clone(),
                    config.endpoint.clone(),
                ),
                rate_limit_qps: profile.rate_limit_qps,
                profile_region: profile.region,
                profile_endpoint: profile.endpoint,
            }
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
    let Account {
        backend, principal, ..
    } = backend(g, item.service.provider(), &transport)?;
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
        // Cloud strings escaped: a hostile id or status must not drive the terminal.
        let mut line = format!("OK: {} {}", escape_for_terminal(&item.id), change.done());
        if let Some((_, raw)) = &applied.status {
            line.push_str(&format!(", now {}", escape_for_terminal(raw)));
        }
        if let Some(id) = &applied.created {
            line.push_str(&format!(", id {id}"));
        }
        if let Some(id) = &applied.request_id {
            line.push_str(&format!(" (RequestId: {})", escape_for_terminal(id)));
        }
        line.push('\n');
        line
    })
}
