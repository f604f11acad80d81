//! The estate without a window, for the command line's `inventory` and `find`: opens a workspace
//! over resolved accounts, refreshes every pane of every account and region with the very code
//! the window runs (the app's inventories feature, its walks, its per-scope parts and joins),
//! waits until each part is loaded or failed, and hands back the joined inventories with what
//! failed where.
//!
//! Nothing is read from or written to the window's cache: a part that fails has no rows (never
//! stale cached ones), and a cron job never rewrites the cache. Only the KMS certificate ids
//! certdesk knows are handed in ([`EstateRequest::kms_ids`]), since KMS has no list call.
//!
//! Knows the app's state and the profiles' accounts; nothing of egui or of how results are
//! printed.

use super::cloud_source::EstateSource;
use super::context::{Cx, ScopeId, Workspace};
use super::inventory::{FIXED_PANES, Inventories, LoadState, PaneKey};
use super::source::{InventorySource, ListTarget, SharedSource};
use super::{AppConfig, AppState, Tab};
use crate::cloud::Transport;
use crate::model::{Error, ErrorKind, Scope, Service};
use crate::profiles::Account;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What to load.
pub struct EstateRequest<'a> {
    /// The accounts (every region of each becomes a scope).
    pub accounts: &'a [Account],
    /// The shared HTTP transport.
    pub transport: &'a Transport,
    /// Overrides every profile's endpoint (the command line's `--endpoint`).
    pub endpoint: Option<&'a str>,
    /// The services to read (empty: all of them).
    pub services: &'a [Service],
    /// The KMS certificate ids known for a scope (KMS has no list call), or why they could not
    /// be read.
    pub kms_ids: &'a dyn Fn(&Scope) -> Result<Vec<String>, String>,
}

/// One service that could not be read in one account and region.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeFailure {
    /// The account (profile) and region.
    pub scope: Scope,
    /// The service.
    pub service: Service,
    /// The ESA site, when only that site's list failed.
    pub site_id: Option<i64>,
    /// Why.
    pub error: Error,
}

/// How far a load is: parts (one service in one account and region, or one ESA site) finished
/// or failed, of those known so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadProgress {
    /// Parts loaded or failed.
    pub done: usize,
    /// Parts known so far (ESA sites add theirs once listed).
    pub total: usize,
    /// Rows fetched so far.
    pub rows: u64,
}

/// The loaded estate.
#[derive(Debug)]
pub struct LoadedEstate {
    /// Every account and region, in a stable order (rows name theirs by [`ScopeId`]).
    pub workspace: Workspace,
    /// The joined inventories, as the window's tables hold them (only freshly read rows).
    pub inventories: Inventories,
    /// What could not be read, in workspace order.
    pub failures: Vec<ScopeFailure>,
}

impl LoadedEstate {
    /// The account and region of `scope`.
    pub fn scope(&self, scope: ScopeId) -> Option<&Scope> {
        self.workspace.scope(scope)
    }
}

/// Opens the accounts of `request` and loads them; see [`load_over`].
pub fn load(
    request: &EstateRequest<'_>,
    runtime: tokio::runtime::Handle,
    progress: &mut dyn FnMut(LoadProgress),
) -> LoadedEstate {
    let (source, scopes) =
        EstateSource::open(request.accounts, request.transport, request.endpoint);
    let description = request
        .accounts
        .iter()
        .map(|a| {
            format!(
                "{} ({})",
                a.profile.name,
                a.profile.all_regions().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let workspace = Workspace {
        demo: false,
        description,
        scopes,
    };
    load_over(
        Arc::new(source),
        workspace,
        request.services,
        request.kms_ids,
        runtime,
        progress,
    )
}

/// Refreshes every pane of `services` (all when empty) over `workspace` from `source` and waits
/// until every part is loaded or failed. Blocks the calling thread (not a runtime worker: use
/// `spawn_blocking` or `block_in_place` from async code); the work runs on `runtime`.
pub fn load_over(
    source: SharedSource,
    workspace: Workspace,
    services: &[Service],
    kms_ids: &dyn Fn(&Scope) -> Result<Vec<String>, String>,
    runtime: tokio::runtime::Handle,
    progress: &mut dyn FnMut(LoadProgress),
) -> LoadedEstate {
    let wanted = |s: Service| services.is_empty() || services.contains(&s);
    let mut app = AppState::new(AppConfig {
        source,
        workspace: workspace.clone(),
        store: None,
        runtime,
        // Nothing starts by itself: this driver starts exactly the walks it wants.
        auto_refresh: false,
        profiles: None,
    });
    // A tab whose first showing fetches nothing: results arriving (the ESA site list) then
    // trigger no walk or site listing of their own.
    app.tab = Tab::Settings;
    let mut failures = Vec::new();

    if wanted(Service::Kms) {
        let mut known = BTreeMap::new();
        for scope_id in workspace.scopes_for(Service::Kms) {
            let Some(scope) = workspace.scope(scope_id) else {
                continue;
            };
            match kms_ids(scope) {
                Ok(ids) => {
                    known.insert(scope_id, Arc::new(ids));
                }
                Err(reason) => failures.push(ScopeFailure {
                    scope: scope.clone(),
                    service: Service::Kms,
                    site_id: None,
                    error: Error::internal(
                        ErrorKind::Config,
                        "KnownIds",
                        format!("the known KMS certificate ids could not be read: {reason}"),
                    ),
                }),
            }
        }
        app.kms.known_ids = known.clone();
        let (inventory, mut cx) = inventory_cx(&mut app);
        inventory.set_kms_ids(Some(known), &mut cx);
    }
    for service in FIXED_PANES {
        if wanted(service) {
            start_walk(&mut app, PaneKey::service(service));
        }
    }
    if wanted(Service::Esa) {
        let (inventory, mut cx) = inventory_cx(&mut app);
        inventory.load_sites(&mut cx);
    }

    loop {
        let idle = app.wait_idle(Duration::from_millis(250));
        progress(progress_of(&app.inventory));
        if !idle {
            continue;
        }
        // ESA site panes appear once their site list arrived: walk each once.
        let new_sites: Vec<PaneKey> = app
            .inventory
            .panes
            .iter()
            .filter(|(k, p)| k.site_id.is_some() && !p.refreshed_once())
            .map(|(k, _)| *k)
            .collect();
        if new_sites.is_empty() {
            break;
        }
        for key in new_sites {
            start_walk(&mut app, key);
        }
    }

    let mut inventories = std::mem::take(&mut app.inventory);
    failures.extend(collect_failures(&workspace, &mut inventories));
    failures.sort_by_key(|f| {
        (
            workspace.scope_id(&f.scope),
            f.service,
            f.site_id.unwrap_or_default(),
        )
    });
    LoadedEstate {
        workspace,
        inventories,
        failures,
    }
}

/// The inventories feature and a context over the app's shared parts.
fn inventory_cx(
    app: &mut AppState,
) -> (&mut Inventories, Cx<'_, super::inventory::InventoryEvent>) {
    (
        &mut app.inventory,
        Cx {
            shared: &app.shared,
            notices: &mut app.notices,
            tasks: &app.spawners.inventory,
            quiet: &app.spawners.quiet,
        },
    )
}

/// Starts walking every part of `key`.
fn start_walk(app: &mut AppState, key: PaneKey) {
    let (inventory, mut cx) = inventory_cx(app);
    inventory.start_fetch(key, &mut cx);
}

fn progress_of(inventories: &Inventories) -> LoadProgress {
    let mut progress = LoadProgress {
        done: 0,
        total: 0,
        rows: 0,
    };
    for part in inventories.panes.values().flat_map(|p| p.parts.values()) {
        progress.total += 1;
        match &part.load {
            LoadState::Fetching { rows, .. } => progress.rows += rows,
            LoadState::Failed { .. } => progress.done += 1,
            LoadState::Idle | LoadState::ReadingCache if part.fetched_at.is_some() => {
                progress.done += 1;
                progress.rows += part.rows.len() as u64;
            }
            LoadState::Idle | LoadState::ReadingCache => {}
        }
    }
    progress
}

/// Every part that failed (or, which should not happen, was never read), and every account and
/// region whose ESA site list failed. Also installs a joined inventory still waiting for its
/// view, so the tables hold every freshly read row.
fn collect_failures(workspace: &Workspace, inventories: &mut Inventories) -> Vec<ScopeFailure> {
    let mut failures = Vec::new();
    let scope_of = |id: ScopeId| {
        workspace
            .scope(id)
            .cloned()
            .unwrap_or_else(|| Scope::new("none", crate::model::Provider::Alibaba, "none"))
    };
    for (&scope, error) in &inventories.esa.failed {
        failures.push(ScopeFailure {
            scope: scope_of(scope),
            service: Service::Esa,
            site_id: None,
            error: error.clone(),
        });
    }
    for (key, pane) in &mut inventories.panes {
        if let Some((incoming, _)) = pane.incoming.take() {
            pane.inventory = incoming;
        }
        for (&scope, part) in &pane.parts {
            let error = match &part.load {
                LoadState::Failed { error, .. } => error.clone(),
                _ if !part.refreshed_once => continue,
                _ if part.fetched_at.is_none() => Error::internal(
                    ErrorKind::Other,
                    "NotLoaded",
                    "the walk ended without rows or an error",
                ),
                _ => continue,
            };
            failures.push(ScopeFailure {
                scope: scope_of(scope),
                service: key.service,
                site_id: key.site_id,
                error,
            });
        }
    }
    failures
}

/// The reads of a connection test: every service of each scope's cloud, in every region for a
/// regional service and in the profile's first region for the others (what the window reads).
pub fn probe_plan(workspace: &Workspace) -> Vec<(ScopeId, Service)> {
    let mut plan: Vec<(ScopeId, Service)> = Service::ALL
        .into_iter()
        .flat_map(|service| {
            workspace
                .scopes_for(service)
                .into_iter()
                .map(move |scope| (scope, service))
        })
        .collect();
    plan.sort();
    plan
}

/// A certificate id no account has: KMS has no list call, so its test describes this id, and
/// the documented 404 `Certificate.NotFound` shows the key was accepted.
pub const KMS_PROBE_ID: &str = "certdesk-connection-test";

/// One cheap read of `service` in `scope` (the first page of its list; KMS: a describe of
/// [`KMS_PROBE_ID`]): what it found, or why the account or region cannot be read.
pub async fn probe(
    source: &dyn InventorySource,
    scope: ScopeId,
    service: Service,
) -> Result<String, Error> {
    match service {
        Service::Kms => match source.describe(scope, service, KMS_PROBE_ID, None).await {
            Ok(_) => Ok("reachable and authorised".to_string()),
            Err(e) if e.kind == ErrorKind::NotFound && e.http_status.is_some() => Ok(format!(
                "reachable and authorised (a probe id answered {})",
                e.code
            )),
            Err(e) => Err(e),
        },
        Service::Esa => {
            let sites = source.esa_sites(scope).await?;
            Ok(format!("reachable and authorised, {} site(s)", sites.len()))
        }
        _ => {
            let target = ListTarget {
                scope,
                service,
                site_id: None,
                kms_ids: Arc::default(),
            };
            let page = source.list_page(&target, target.first_cursor()).await?;
            Ok(match page.total {
                Some(total) => format!("reachable and authorised, {total} certificate(s)"),
                None => format!(
                    "reachable and authorised, {} certificate(s) on the first page",
                    page.rows.len()
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fake::{FakeSource, fake_error};
    use crate::model::Provider;

    fn workspace() -> Workspace {
        Workspace {
            demo: false,
            description: "fake".into(),
            scopes: vec![
                Scope::new("a", Provider::Alibaba, "cn-hangzhou"),
                Scope::new("h", Provider::Huawei, "cn-north-4"),
            ],
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn rows(estate: &LoadedEstate, key: PaneKey) -> usize {
        estate
            .inventories
            .panes
            .get(&key)
            .map_or(0, |p| p.inventory.present_count())
    }

    #[test]
    fn every_pane_and_every_esa_site_is_read_with_the_known_kms_ids() {
        let rt = runtime();
        let fake = FakeSource::generated(70);
        let kms: Vec<String> = fake.kms_ids().into_iter().take(5).collect();
        let kms_for = move |s: &Scope| {
            assert_eq!(s.profile, "a");
            Ok(kms.clone())
        };
        let mut reports = 0;
        let estate = load_over(
            Arc::new(fake.clone()),
            workspace(),
            &[],
            &kms_for,
            rt.handle().clone(),
            &mut |_| reports += 1,
        );
        assert!(estate.failures.is_empty(), "{:?}", estate.failures);
        assert!(reports > 0);
        assert_eq!(rows(&estate, PaneKey::service(Service::Kms)), 5);
        for service in [Service::Pca, Service::Vod, Service::Iotda] {
            assert_eq!(rows(&estate, PaneKey::service(service)), 70, "{service}");
        }
        assert_eq!(rows(&estate, PaneKey::esa(1)), 70);
        assert_eq!(rows(&estate, PaneKey::esa(2)), 70);
    }

    #[test]
    fn only_the_asked_services_are_read_and_a_failed_walk_is_named_without_rows() {
        let rt = runtime();
        let fake = FakeSource::generated(120);
        // The IoTDA walk's second page fails (the only walk).
        fake.fail_list_call_after(
            1,
            fake_error(
                Service::Iotda,
                "InvalidKey",
                "rejected",
                401,
                ErrorKind::Auth,
            ),
        );
        let estate = load_over(
            Arc::new(fake.clone()),
            workspace(),
            &[Service::Iotda],
            &|_| Err("not asked".into()),
            rt.handle().clone(),
            &mut |_| {},
        );
        assert_eq!(estate.failures.len(), 1, "{:?}", estate.failures);
        let failure = &estate.failures[0];
        assert_eq!(
            (failure.scope.profile.as_str(), failure.service),
            ("h", Service::Iotda)
        );
        assert_eq!(failure.error.code, "InvalidKey");
        assert_eq!(rows(&estate, PaneKey::service(Service::Iotda)), 0);
        assert_eq!(rows(&estate, PaneKey::service(Service::Pca)), 0);
        assert!(
            fake.calls().iter().all(|c| c.contains("Iotda")),
            "{:?}",
            fake.calls()
        );
    }

    #[test]
    fn unreadable_known_kms_ids_are_a_failure_of_kms_only() {
        let rt = runtime();
        let fake = FakeSource::generated(3);
        let estate = load_over(
            Arc::new(fake),
            workspace(),
            &[Service::Kms, Service::Pca],
            &|_| Err("database locked".into()),
            rt.handle().clone(),
            &mut |_| {},
        );
        assert_eq!(estate.failures.len(), 1, "{:?}", estate.failures);
        assert_eq!(estate.failures[0].service, Service::Kms);
        assert!(
            estate.failures[0]
                .error
                .to_string()
                .contains("database locked"),
            "{}",
            estate.failures[0].error
        );
        assert_eq!(rows(&estate, PaneKey::service(Service::Pca)), 3);
    }
}
