//! Application state and the actions that change it. The UI sends [`Action`]s; [`AppState::apply`]
//! changes state and starts work on the tokio runtime (cloud calls through an [`InventorySource`],
//! cache reads and writes, large filter/sort jobs); finished work comes back as events on a channel
//! that [`AppState::poll`] drains once per frame, after which the app asks for a repaint.
//! Testable without a window; knows nothing of egui.

pub mod bulk;
pub mod cloud_source;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod import_flow;
pub mod inventory;
pub mod overview;
pub mod pane;
pub mod settings;
pub mod source;
mod tasks;
pub mod view;
pub mod workspace;

pub use import_flow::{ImportAction, ImportPurpose};
pub use pane::{ClickMods, CursorMove, LoadState, Pane, PaneKey, RowNote, TableState};
pub use settings::{ProfileDraft, ProfilesConfig, SettingsAction, SettingsState, TestResult};
pub use source::{
    BulkTarget, CertificateDetail, EsaSite, InventorySource, KmsCreateRequest, KmsCreated,
    KmsKeySpec, SharedSource,
};

use crate::certs::{self, CertError, CertificateInfo};
use crate::jobs::{Applied, BulkItem, Principal};
use crate::model::{Change, Error, Provider, Service};
use crate::store::{CacheKey, RowRecord, Store};
use inventory::{Inventory, RowId};
use std::collections::HashMap;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use tasks::Event;
use view::{Cancel, ExpiryFilter, SortColumn, StatusFilter, ViewInput};

/// Inventories up to this size are filtered and sorted inline (well under a millisecond per
/// thousand rows); larger ones on a worker thread so the UI never stalls.
pub const INLINE_VIEW_LIMIT: usize = 20_000;

/// Top-level tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    /// Counts, expiry timeline and the soonest to expire, over every inventory.
    Overview,
    /// KMS certificates.
    Kms,
    /// Private CA and ESA client certificates.
    ClientCertificates,
    /// VOD CDN domains.
    CdnDomains,
    /// IoTDA device certificates.
    IotDevices,
    /// Profiles and preferences.
    Settings,
    /// Every change certdesk made.
    Audit,
}

impl Tab {
    /// Every tab in order.
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Kms,
        Tab::ClientCertificates,
        Tab::CdnDomains,
        Tab::IotDevices,
        Tab::Audit,
        Tab::Settings,
    ];

    /// Tab title.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Kms => "KMS certificates",
            Tab::ClientCertificates => "Client certificates",
            Tab::CdnDomains => "CDN domains",
            Tab::IotDevices => "IoT device certificates",
            Tab::Settings => "Settings",
            Tab::Audit => "Audit",
        }
    }
}

/// The two sources of the client-certificates tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientSection {
    /// Private CA (cas 2020-06-30).
    #[default]
    PrivateCa,
    /// Edge Security Acceleration.
    Esa,
}

/// Colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Dark.
    #[default]
    Dark,
    /// Light.
    Light,
}

/// What the window is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// `true` over the in-process simulator.
    pub demo: bool,
    /// One line for the title bar.
    pub description: String,
    /// Profile used for the Alibaba services (KMS, PCA, ESA, VOD), if any.
    pub alibaba: Option<String>,
    /// Profile used for Huawei IoTDA, if any.
    pub huawei: Option<String>,
}

impl Workspace {
    /// A workspace that uses one cache account for both clouds (tests, benchmarks, the demo).
    pub fn single(account: &str, demo: bool, description: &str) -> Self {
        Workspace {
            demo,
            description: description.to_string(),
            alibaba: Some(account.to_string()),
            huawei: Some(account.to_string()),
        }
    }

    /// The cache account of a cloud's inventories (`demo` in demo mode, else the profile name).
    pub fn account_for(&self, provider: Provider) -> &str {
        if self.demo {
            return "demo";
        }
        let name = match provider {
            Provider::Alibaba => self.alibaba.as_deref(),
            Provider::Huawei => self.huawei.as_deref(),
        };
        name.unwrap_or("none")
    }
}

/// Severity of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Something worked.
    Info,
    /// Something failed.
    Error,
}

/// A message in the notice area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Severity.
    pub level: NoticeLevel,
    /// Text.
    pub text: String,
}

/// A status change waiting for the user's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    /// Which inventory.
    pub key: PaneKey,
    /// Provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What to do.
    pub change: Change,
}

/// The details shown for one certificate.
#[derive(Debug, Clone, Default)]
pub struct DetailEntry {
    /// A describe call is running.
    pub loading: bool,
    /// Facts the describe call returned.
    pub facts: Vec<(String, String)>,
    /// Certificate PEM, when known.
    pub pem: Option<String>,
    /// The PEM, parsed.
    pub parsed: Option<Result<CertificateInfo, CertError>>,
    /// The describe call failed.
    pub error: Option<Error>,
}

/// ESA sites and the one shown.
#[derive(Debug, Clone, Default)]
pub struct EsaSites {
    /// Sites of the account.
    pub sites: Vec<EsaSite>,
    /// A ListSites call is running.
    pub loading: bool,
    /// It failed.
    pub error: Option<Error>,
    /// Site shown.
    pub selected: Option<i64>,
}

/// The KMS create form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsCreateForm {
    /// Country (C), two letters.
    pub country: String,
    /// Organisation (O).
    pub organization: String,
    /// Organisational unit (OU).
    pub unit: String,
    /// Common name (CN).
    pub common_name: String,
    /// Key spec.
    pub key_spec: KmsKeySpec,
    /// DNS names, one per line or comma-separated.
    pub sans: String,
    /// Private key exportable.
    pub exportable: bool,
}

impl Default for KmsCreateForm {
    fn default() -> Self {
        KmsCreateForm {
            country: "CN".into(),
            organization: String::new(),
            unit: String::new(),
            common_name: String::new(),
            key_spec: KmsKeySpec::default(),
            sans: String::new(),
            exportable: true,
        }
    }
}

impl KmsCreateForm {
    /// The request, or what is missing. KMS requires C, O, OU and CN.
    pub fn request(&self) -> Result<KmsCreateRequest, String> {
        let fields = [
            ("C", self.country.trim()),
            ("O", self.organization.trim()),
            ("OU", self.unit.trim()),
            ("CN", self.common_name.trim()),
        ];
        let missing: Vec<&str> = fields
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| *k)
            .collect();
        if !missing.is_empty() {
            return Err(format!("fill in {}", missing.join(", ")));
        }
        if let Some((k, _)) = fields.iter().find(|(_, v)| v.contains([',', '='])) {
            return Err(format!("{k} must not contain ',' or '='"));
        }
        let sans: Vec<String> = self
            .sans
            .split([',', '\n', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if sans.len() > 10 {
            return Err("KMS accepts at most 10 subject alternative names".into());
        }
        Ok(KmsCreateRequest {
            subject: fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
            key_spec: self.key_spec,
            sans,
            exportable: self.exportable,
        })
    }
}

/// KMS-specific state: the ids certdesk knows and the create flow.
#[derive(Debug, Clone, Default)]
pub struct KmsState {
    /// Known certificate ids (KMS has no list call).
    pub known_ids: Arc<Vec<String>>,
    /// The known ids are being read from the cache: a KMS fetch started now would describe none
    /// of them, so it waits (`fetch_waiting`) until they arrive.
    pub ids_loading: bool,
    /// A KMS fetch was asked for while the ids were loading.
    pub fetch_waiting: bool,
    /// The "add ids" text box.
    pub paste: String,
    /// The create form.
    pub form: KmsCreateForm,
    /// Why the form cannot be sent.
    pub form_error: Option<String>,
    /// A create call is running.
    pub creating: bool,
    /// The last create result.
    pub created: Option<Result<KmsCreated, Error>>,
}

/// Everything the app needs from outside.
pub struct AppConfig {
    /// Where cloud calls go.
    pub source: SharedSource,
    /// What the window is connected to.
    pub workspace: Workspace,
    /// The cache (`None`: nothing is cached).
    pub store: Option<Arc<Mutex<Store>>>,
    /// The runtime every background job runs on.
    pub runtime: tokio::runtime::Handle,
    /// Fetch an inventory from the cloud the first time its tab is shown (otherwise only on
    /// Refresh). On for the desktop; benchmarks turn it off to look at the cache alone.
    pub auto_refresh: bool,
    /// Profiles file, keyring and transport for Settings (`None`: no profile management).
    pub profiles: Option<ProfilesConfig>,
}

/// Everything the UI can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Show a tab.
    SelectTab(Tab),
    /// Show PCA or ESA in the client-certificates tab.
    SelectClientSection(ClientSection),
    /// Show an ESA site.
    SelectEsaSite(i64),
    /// Reload the ESA site list.
    RefreshSites,
    /// Fetch an inventory from the cloud (all pages).
    Refresh(PaneKey),
    /// Continue a failed fetch from the page that failed.
    RetryFetch(PaneKey),
    /// Stop a fetch.
    CancelFetch(PaneKey),
    /// Change the text filter.
    SetFilterText(PaneKey, String),
    /// Change the status filter.
    SetStatusFilter(PaneKey, StatusFilter),
    /// Change the expiry filter.
    SetExpiryFilter(PaneKey, ExpiryFilter),
    /// Sort by a column; the same column again flips the direction.
    SortBy(PaneKey, SortColumn),
    /// A click on the row at a position of the shown rows.
    ClickRow(PaneKey, usize, ClickMods),
    /// Keyboard cursor move (Shift extends).
    MoveCursor(PaneKey, CursorMove, bool),
    /// Space: toggle the cursor row.
    ToggleCursorRow(PaneKey),
    /// Select every row the filter shows.
    SelectAllFiltered(PaneKey),
    /// Clear the selection.
    ClearSelection(PaneKey),
    /// (Re)load details of the cursor row.
    LoadDetail(PaneKey),
    /// Ask to change a row's status (opens the confirmation).
    RequestChange(PaneKey, RowId, Change),
    /// Confirm the pending change.
    ConfirmChange,
    /// Drop the pending change.
    CancelChange,
    /// KMS: edit the paste box.
    SetKmsPaste(String),
    /// KMS: add the ids in the paste box.
    AddKmsIds,
    /// KMS: forget an id.
    ForgetKmsId(String),
    /// KMS: edit the create form.
    SetKmsForm(KmsCreateForm),
    /// KMS: send the create form.
    CreateKmsCertificate,
    /// KMS: write the last CSR to a file chosen in a dialog.
    SaveCsr,
    /// Colour theme.
    SetTheme(Theme),
    /// Something in Settings.
    Settings(SettingsAction),
    /// Drop a notice.
    DismissNotice(usize),
    /// Bulk jobs, the resume offer and the Audit tab.
    Bulk(bulk::BulkAction),
    /// Something in the import dialog (files, passphrase, checks, upload).
    Import(ImportAction),
    /// Overview: open an inventory's tab showing only the rows of an expiry filter.
    ShowExpiring(PaneKey, ExpiryFilter),
    /// Overview: open an inventory's tab filtered by expiry with one certificate (provider id)
    /// selected under the cursor.
    ShowCertificate(PaneKey, String, ExpiryFilter),
    /// Change the expiry thresholds (saved with the preferences).
    SetThresholds(overview::Thresholds),
    /// Fetch every inventory again (the Overview's refresh).
    RefreshAll,
}

/// The whole application state.
pub struct AppState {
    /// Connected to.
    pub workspace: Workspace,
    /// Tab shown.
    pub tab: Tab,
    /// Section of the client-certificates tab.
    pub client_section: ClientSection,
    /// Theme.
    pub theme: Theme,
    /// Inventories by key.
    pub panes: HashMap<PaneKey, Pane>,
    /// ESA sites.
    pub esa: EsaSites,
    /// KMS ids and create flow.
    pub kms: KmsState,
    /// Details by (inventory, provider id).
    pub details: HashMap<(PaneKey, String), DetailEntry>,
    /// A status change awaiting confirmation.
    pub confirm: Option<PendingChange>,
    /// Messages.
    pub notices: Vec<Notice>,
    /// Settings tab.
    pub settings: SettingsState,
    /// A workspace is being opened (accounts resolved, clients built).
    pub opening: bool,
    /// Bulk jobs, the resume offer and the audit log.
    pub bulk: bulk::BulkState,
    /// The import dialog, when open.
    pub import: Option<import_flow::ImportFlow>,
    /// The Overview's cached aggregate and the expiry thresholds.
    pub overview: overview::OverviewState,
    profiles: Option<ProfilesConfig>,
    /// Bumped when the workspace changes; results of the previous one are dropped.
    epoch: u64,
    source: SharedSource,
    store: Option<Arc<Mutex<Store>>>,
    runtime: tokio::runtime::Handle,
    tx: Sender<(u64, Event)>,
    rx: Receiver<(u64, Event)>,
    repaint: Arc<dyn Fn() + Send + Sync>,
    in_flight: usize,
    detail_in_flight: Option<(PaneKey, String)>,
    auto_refresh: bool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("workspace", &self.workspace)
            .field("tab", &self.tab)
            .field("panes", &self.panes.len())
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

/// Current time, UNIX seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The inventories every workspace has from the start (ESA panes appear per site).
const FIXED_PANES: [Service; 4] = [Service::Kms, Service::Pca, Service::Vod, Service::Iotda];

impl AppState {
    /// A new state; starts reading the cache of every inventory and the known KMS ids.
    pub fn new(config: AppConfig) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut state = AppState {
            workspace: config.workspace,
            tab: Tab::Overview,
            client_section: ClientSection::default(),
            theme: Theme::default(),
            panes: FIXED_PANES
                .iter()
                .map(|&s| (PaneKey::service(s), Pane::new(PaneKey::service(s))))
                .collect(),
            esa: EsaSites::default(),
            kms: KmsState::default(),
            details: HashMap::new(),
            confirm: None,
            notices: Vec::new(),
            settings: SettingsState::default(),
            opening: false,
            bulk: bulk::BulkState::default(),
            import: None,
            overview: overview::OverviewState::default(),
            profiles: config.profiles,
            epoch: 0,
            source: config.source,
            store: config.store,
            runtime: config.runtime,
            tx,
            rx,
            repaint: Arc::new(|| {}),
            in_flight: 0,
            detail_in_flight: None,
            auto_refresh: config.auto_refresh,
        };
        state.load_preferences();
        state.load_kms_ids();
        for service in FIXED_PANES {
            state.load_cache(PaneKey::service(service));
        }
        state
    }

    /// Sets how background work wakes the UI (`egui::Context::request_repaint`).
    pub fn set_repaint(&mut self, repaint: impl Fn() + Send + Sync + 'static) {
        self.repaint = Arc::new(repaint);
    }

    /// `true` while background work is running (tests wait for it).
    pub fn is_busy(&self) -> bool {
        self.in_flight > 0 || self.overview.computing
    }

    /// The source in use.
    pub fn source(&self) -> &SharedSource {
        &self.source
    }

    /// The inventory key a tab shows (`None` for Settings, or ESA without a site).
    pub fn pane_key_of(&self, tab: Tab) -> Option<PaneKey> {
        match tab {
            Tab::Kms => Some(PaneKey::service(Service::Kms)),
            Tab::ClientCertificates => match self.client_section {
                ClientSection::PrivateCa => Some(PaneKey::service(Service::Pca)),
                ClientSection::Esa => self.esa.selected.map(PaneKey::esa),
            },
            Tab::CdnDomains => Some(PaneKey::service(Service::Vod)),
            Tab::IotDevices => Some(PaneKey::service(Service::Iotda)),
            Tab::Overview | Tab::Settings | Tab::Audit => None,
        }
    }

    /// The pane shown now.
    pub fn current_pane(&self) -> Option<&Pane> {
        self.pane_key_of(self.tab).and_then(|k| self.panes.get(&k))
    }

    /// Details of the cursor row of `key`, when any.
    pub fn detail_of(&self, key: PaneKey) -> Option<&DetailEntry> {
        let pane = self.panes.get(&key)?;
        let row = pane.cursor_row()?;
        self.details.get(&(key, pane.inventory.id(row).to_string()))
    }

    fn cache_key(&self, key: PaneKey) -> CacheKey {
        CacheKey {
            account: self
                .workspace
                .account_for(key.service.provider())
                .to_string(),
            service: key.service,
            site_id: key.site_id,
        }
    }

    /// Adds a message to the notice area (the five most recent are kept).
    pub fn notice(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notices.push(Notice {
            level,
            text: text.into(),
        });
        if self.notices.len() > 5 {
            self.notices.remove(0);
        }
    }

    /// Applies one action.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::SelectTab(tab) => {
                self.tab = tab;
                if tab == Tab::Settings && self.settings.store.is_none() && !self.settings.busy {
                    self.load_profiles();
                }
                if tab == Tab::Audit {
                    self.ensure_audit_loaded();
                }
                self.ensure_loaded();
            }
            Action::SelectClientSection(section) => {
                self.client_section = section;
                self.ensure_loaded();
            }
            Action::SelectEsaSite(site) => {
                self.esa.selected = Some(site);
                let key = PaneKey::esa(site);
                let fresh = match self.panes.entry(key) {
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(Pane::new(key));
                        true
                    }
                    std::collections::hash_map::Entry::Occupied(_) => false,
                };
                if fresh {
                    self.load_cache(key);
                }
                self.ensure_loaded();
            }
            Action::RefreshSites => self.load_sites(),
            Action::Refresh(key) => self.start_fetch(key),
            Action::RetryFetch(key) => self.retry_fetch(key),
            Action::CancelFetch(key) => self.cancel_fetch(key),
            Action::SetFilterText(key, text) => self.edit_table(key, |t| t.filter.text = text),
            Action::SetStatusFilter(key, f) => self.edit_table(key, |t| t.filter.status = f),
            Action::SetExpiryFilter(key, f) => self.edit_table(key, |t| t.filter.expiry = f),
            Action::SortBy(key, column) => self.edit_table(key, |t| {
                if t.sort.column == column {
                    t.sort.descending = !t.sort.descending;
                } else {
                    t.sort.column = column;
                    t.sort.descending = false;
                }
            }),
            Action::ClickRow(key, pos, mods) => {
                if let Some(p) = self.panes.get_mut(&key) {
                    p.table.click(pos, mods);
                }
                self.load_detail(key, false);
            }
            Action::MoveCursor(key, movement, extend) => {
                if let Some(p) = self.panes.get_mut(&key) {
                    p.table.move_cursor(movement, extend);
                }
                self.load_detail(key, false);
            }
            Action::ToggleCursorRow(key) => {
                if let Some(p) = self.panes.get_mut(&key) {
                    p.table.toggle_cursor();
                }
            }
            Action::SelectAllFiltered(key) => {
                if let Some(p) = self.panes.get_mut(&key) {
                    p.table.select_all_filtered();
                }
            }
            Action::ClearSelection(key) => {
                if let Some(p) = self.panes.get_mut(&key) {
                    p.table.selection.clear();
                }
            }
            Action::LoadDetail(key) => self.load_detail(key, true),
            Action::RequestChange(key, row, change) => {
                if let Some(p) = self.panes.get(&key)
                    && (row as usize) < p.inventory.len()
                {
                    self.confirm = Some(PendingChange {
                        key,
                        id: p.inventory.id(row).to_string(),
                        name: p.inventory.name(row).to_string(),
                        change,
                    });
                }
            }
            Action::ConfirmChange => {
                if let Some(pending) = self.confirm.take() {
                    self.start_change(pending);
                }
            }
            Action::CancelChange => self.confirm = None,
            Action::SetKmsPaste(text) => self.kms.paste = text,
            Action::AddKmsIds => self.add_kms_ids(),
            Action::ForgetKmsId(id) => self.forget_kms_id(id),
            Action::SetKmsForm(form) => {
                self.kms.form = form;
                self.kms.form_error = None;
            }
            Action::CreateKmsCertificate => self.create_kms(),
            Action::SaveCsr => self.save_csr(),
            Action::SetTheme(theme) => self.theme = theme,
            Action::Settings(a) => self.apply_settings(a),
            Action::DismissNotice(i) => {
                if i < self.notices.len() {
                    self.notices.remove(i);
                }
            }
            Action::Bulk(a) => self.apply_bulk(a),
            Action::Import(a) => self.apply_import(a),
            Action::ShowExpiring(key, expiry) => self.show_expiring(key, expiry),
            Action::ShowCertificate(key, id, expiry) => self.show_certificate(key, &id, expiry),
            Action::SetThresholds(t) => self.set_thresholds(t),
            Action::RefreshAll => self.refresh_all(),
        }
    }

    /// Applies several actions in order.
    pub fn apply_all(&mut self, actions: impl IntoIterator<Item = Action>) {
        for a in actions {
            self.apply(a);
        }
    }

    /// Starts the first fetch of the shown inventory (once per session) and the ESA site list.
    pub fn ensure_loaded(&mut self) {
        if self.opening {
            return;
        }
        if self.tab == Tab::Overview {
            self.ensure_overview_loaded();
            return;
        }
        if self.tab == Tab::ClientCertificates
            && self.client_section == ClientSection::Esa
            && self.esa.sites.is_empty()
            && !self.esa.loading
            && self.esa.error.is_none()
        {
            self.load_sites();
        }
        let Some(key) = self.pane_key_of(self.tab) else {
            return;
        };
        let start = self.auto_refresh
            && self.panes.get(&key).is_some_and(|p| {
                !p.refreshed_once && !p.is_fetching() && p.load != LoadState::ReadingCache
            });
        if start {
            self.start_fetch(key);
        }
    }

    fn edit_table(&mut self, key: PaneKey, edit: impl FnOnce(&mut TableState)) {
        if let Some(p) = self.panes.get_mut(&key) {
            edit(&mut p.table);
            self.recompute_view(key);
        }
    }

    /// Recomputes a pane's shown rows: inline for small inventories, on a worker otherwise.
    fn recompute_view(&mut self, key: PaneKey) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let target = pane
            .incoming
            .as_ref()
            .map_or(&pane.inventory, |(inv, _)| inv);
        let input = ViewInput {
            data: Arc::clone(target.data()),
            states: Arc::clone(target.states()),
            build_id: target.build_id(),
            state_version: target.state_version(),
            filter: pane.table.filter.clone(),
            sort: pane.table.sort,
            now: now_unix(),
        };
        let generation = pane
            .table
            .view_generation
            .fetch_add(1, AtomicOrdering::SeqCst)
            + 1;
        if target.len() <= INLINE_VIEW_LIMIT {
            let cancel = Cancel::never();
            if let Some(out) =
                view::compute_view_cached(&input, &mut pane.table.sort_cache, &cancel)
            {
                install_view(pane, &input, out.index);
            }
            return;
        }
        pane.table.view_pending = true;
        let cache = pane.table.sort_cache.clone();
        let cancel = Cancel::new(Arc::clone(&pane.table.view_generation), generation);
        self.spawn_blocking(move || {
            let output = view::compute_view(&input, &cache, &cancel);
            Event::ViewReady {
                key,
                generation,
                input: Box::new(input),
                output,
            }
        });
    }

    /// Drains finished background work into the state. Call once per frame.
    pub fn poll(&mut self) {
        while let Ok((epoch, event)) = self.rx.try_recv() {
            self.receive(epoch, event);
        }
        self.refresh_overview();
    }

    /// Blocks until no background work is left or `timeout` passes (tests and benchmarks only:
    /// the UI never calls it). Returns `true` when idle.
    pub fn wait_idle(&mut self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            self.poll();
            if !self.is_busy() {
                return true;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            match self
                .rx
                .recv_timeout(left.min(std::time::Duration::from_millis(50)))
            {
                Ok((epoch, event)) => self.receive(epoch, event),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return true,
            }
        }
    }

    fn receive(&mut self, epoch: u64, event: Event) {
        if event.completes_task() {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        if epoch != self.epoch && event.is_workspace_bound() {
            // A result of the workspace that was replaced.
            return;
        }
        self.handle(event);
    }

    /// Replaces the source and workspace: every inventory starts over from its cache.
    pub fn replace_source(&mut self, source: SharedSource, workspace: Workspace) {
        self.epoch += 1;
        for pane in self.panes.values() {
            if let Some(abort) = &pane.abort {
                abort.abort();
            }
        }
        self.source = source;
        self.workspace = workspace;
        self.panes = FIXED_PANES
            .iter()
            .map(|&s| (PaneKey::service(s), Pane::new(PaneKey::service(s))))
            .collect();
        self.esa = EsaSites::default();
        self.kms.known_ids = Arc::new(Vec::new());
        // A read of the previous workspace's ids is dropped with its epoch.
        self.kms.ids_loading = false;
        self.kms.fetch_waiting = false;
        self.kms.created = None;
        self.details.clear();
        self.detail_in_flight = None;
        self.confirm = None;
        self.import = None;
        self.load_kms_ids();
        for service in FIXED_PANES {
            self.load_cache(PaneKey::service(service));
        }
        self.notice(
            NoticeLevel::Info,
            format!("Opened {}", self.workspace.description),
        );
        self.ensure_loaded();
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Nothing => {}
            Event::Notice(level, text) => self.notice(level, text),
            Event::KmsIds(result) => {
                self.kms.ids_loading = false;
                match result {
                    Ok(ids) => self.kms.known_ids = Arc::new(ids),
                    Err(e) => self.notice(
                        NoticeLevel::Error,
                        format!("Reading the known KMS ids failed: {e}"),
                    ),
                }
                if std::mem::take(&mut self.kms.fetch_waiting) {
                    self.start_fetch(PaneKey::service(Service::Kms));
                }
            }
            Event::CacheLoaded { key, result } => {
                let Some(pane) = self.panes.get_mut(&key) else {
                    return;
                };
                if pane.load == LoadState::ReadingCache {
                    pane.load = LoadState::Idle;
                }
                match result {
                    // Only when nothing fresher arrived meanwhile.
                    Ok(Some((inventory, fetched_at))) if pane.fetched_at.is_none() => {
                        pane.stale = true;
                        self.install_inventory(key, *inventory, fetched_at);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.notice(NoticeLevel::Error, format!("Reading the cache failed: {e}"))
                    }
                }
                self.ensure_loaded();
            }
            Event::Progress {
                key,
                generation,
                pages,
                rows,
                total,
                phase,
            } => {
                if let Some(p) = self
                    .panes
                    .get_mut(&key)
                    .filter(|p| p.load_generation == generation)
                {
                    p.load = LoadState::Fetching {
                        pages,
                        rows,
                        total,
                        phase,
                    };
                }
            }
            Event::Listed {
                key,
                generation,
                rows,
            } => {
                if let Some((_, listed)) = self
                    .panes
                    .get_mut(&key)
                    .filter(|p| p.load_generation == generation)
                    .and_then(|p| p.listed.as_mut())
                {
                    for row in &rows {
                        // What the Overview reads: status, expiry, id and name.
                        listed.push(RowRecord {
                            serial: None,
                            fingerprint: None,
                            pem: None,
                            extra: None,
                            ..RowRecord::from(row)
                        });
                    }
                }
            }
            Event::Fetched {
                key,
                generation,
                inventory,
                fetched_at,
            } => {
                let Some(p) = self
                    .panes
                    .get_mut(&key)
                    .filter(|p| p.load_generation == generation)
                else {
                    return;
                };
                p.load = LoadState::Idle;
                p.stale = false;
                p.resume = None;
                p.abort = None;
                p.listed = None;
                let inventory = *inventory;
                self.save_cache(key, inventory.clone(), fetched_at);
                self.install_inventory(key, inventory, fetched_at);
            }
            Event::FetchFailed {
                key,
                generation,
                error,
                resume,
            } => {
                let Some(p) = self
                    .panes
                    .get_mut(&key)
                    .filter(|p| p.load_generation == generation)
                else {
                    return;
                };
                p.load = LoadState::Failed {
                    at: match resume.second_phase_done {
                        Some(n) => format!("detail call {}", n + 1),
                        None => resume.cursor.to_string(),
                    },
                    pages: resume.pages,
                    rows: resume.builder.len() as u64,
                    error,
                };
                p.resume = Some(*resume);
                p.abort = None;
            }
            Event::ViewReady {
                key,
                generation,
                input,
                output,
            } => {
                let Some(pane) = self.panes.get_mut(&key) else {
                    return;
                };
                let Some(out) = output else {
                    return;
                };
                view::remember_order(&mut pane.table.sort_cache, &input, Arc::clone(&out.order));
                if pane.table.view_generation.load(AtomicOrdering::SeqCst) != generation {
                    return;
                }
                pane.table.view_pending = false;
                install_view(pane, &input, out.index);
            }
            Event::Detail { key, id, result } => {
                self.detail_in_flight = None;
                let entry = self.details.entry((key, id)).or_default();
                entry.loading = false;
                match result {
                    Ok(detail) => {
                        entry.error = None;
                        entry.facts = detail.facts;
                        if let Some(pem) = detail.pem {
                            entry.parsed = Some(certs::parse_first_pem(&pem));
                            entry.pem = Some(pem);
                        }
                        self.apply_row_update(key, &detail.row);
                    }
                    Err(e) => entry.error = Some(e),
                }
                // The cursor may have moved on while this call ran.
                self.load_detail(key, false);
            }
            Event::CachedPem { key, id, pem } => {
                let entry = self.details.entry((key, id)).or_default();
                if entry.pem.is_none() {
                    entry.parsed = Some(certs::parse_first_pem(&pem));
                    entry.pem = Some(pem);
                }
            }
            Event::Changed {
                key,
                id,
                change,
                result,
            } => self.finish_change(key, id, change, result),
            Event::Sites(result) => {
                self.esa.loading = false;
                match result {
                    Ok(sites) => {
                        self.esa.error = None;
                        if self
                            .esa
                            .selected
                            .is_none_or(|s| !sites.iter().any(|x| x.id == s))
                            && let Some(first) = sites.first()
                        {
                            let first = first.id;
                            self.esa.sites = sites;
                            self.apply(Action::SelectEsaSite(first));
                        } else {
                            self.esa.sites = sites;
                        }
                    }
                    Err(e) => self.esa.error = Some(e),
                }
                self.add_esa_site_panes();
            }
            Event::Profiles(result, message) => self.profiles_loaded(result, message),
            Event::Tested(key, result) => {
                let r = match result {
                    Ok(text) => TestResult::Passed(text),
                    Err(e) => TestResult::Failed(e),
                };
                self.settings.tests.insert(key, r);
            }
            Event::Opened(result) => self.workspace_opened(result),
            Event::Bulk(e) => self.bulk_event(e),
            Event::Import(e) => self.handle_import(*e),
            Event::KmsCreated(result) => {
                self.kms.creating = false;
                if let Ok(created) = &result {
                    let id = created.certificate_id.clone();
                    self.remember_kms_ids(vec![id]);
                }
                self.kms.created = Some(result);
            }
        }
    }

    /// Replaces a pane's rows (keeping the cursor on the same certificate when it still exists).
    fn install_inventory(&mut self, key: PaneKey, inventory: Inventory, fetched_at: i64) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        if inventory.len() <= INLINE_VIEW_LIMIT {
            swap_inventory(pane, inventory, fetched_at);
        } else {
            pane.incoming = Some((inventory, fetched_at));
        }
        self.recompute_view(key);
    }

    fn apply_row_update(&mut self, key: PaneKey, row: &crate::model::CertificateRow) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        if let Some(r) = pane.inventory.find(&row.id)
            && (pane.inventory.status(r) != row.status
                || pane.inventory.raw_status(r) != row.raw_status)
        {
            pane.inventory.set_status(r, row.status, &row.raw_status);
            self.recompute_view(key);
        }
    }

    fn load_detail(&mut self, key: PaneKey, force: bool) {
        let Some(pane) = self.panes.get(&key) else {
            return;
        };
        let Some(row) = pane.cursor_row() else {
            return;
        };
        let id = pane.inventory.id(row).to_string();
        let site_id = pane.inventory.site_id(row).or(key.site_id);
        let listed_pem = pane.inventory.pem(row).map(str::to_string);
        let entry_key = (key, id.clone());
        let known = self.details.contains_key(&entry_key);
        if known && !force {
            return;
        }
        let entry = self.details.entry(entry_key.clone()).or_default();
        if let Some(pem) = listed_pem
            && entry.pem.is_none()
        {
            entry.parsed = Some(certs::parse_first_pem(&pem));
            entry.pem = Some(pem);
        }
        // One describe call at a time: keyboard navigation through many rows must not fire one
        // call per row. When this one finishes, the row under the cursor then gets its turn.
        if self.detail_in_flight.is_some() {
            if !known {
                self.details.remove(&entry_key);
            }
            return;
        }
        entry.loading = true;
        if entry.pem.is_none()
            && let Some(store) = self.store.clone()
        {
            let cache_key = self.cache_key(key);
            let id2 = id.clone();
            self.spawn_blocking(move || {
                let pem = store
                    .lock()
                    .ok()
                    .and_then(|s| s.cached_pem(&cache_key, &id2).ok().flatten());
                match pem {
                    Some(pem) => Event::CachedPem { key, id: id2, pem },
                    None => Event::Nothing,
                }
            });
        }
        self.detail_in_flight = Some(entry_key);
        let fut = self.source.describe(key.service, &id, site_id);
        self.spawn(async move {
            Event::Detail {
                key,
                id,
                result: fut.await,
            }
        });
    }

    fn start_change(&mut self, pending: PendingChange) {
        let PendingChange {
            key, id, change, ..
        } = pending;
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let site_id = pane
            .inventory
            .find(&id)
            .and_then(|r| pane.inventory.site_id(r))
            .or(key.site_id);
        let name = pane
            .inventory
            .find(&id)
            .map(|r| pane.inventory.name(r).to_string())
            .unwrap_or_default();
        pane.notes.insert(id.clone(), RowNote::Busy(change));
        let item = BulkItem {
            service: key.service,
            id: id.clone(),
            site_id,
            name,
        };
        let principal = self.principal(key.service.provider());
        let backend = self.source.changes();
        let Some(journal) = self.journal() else {
            self.finish_change(
                key,
                id,
                change,
                Err(Error::not_recorded(
                    "there is no audit log to record the change in",
                )),
            );
            return;
        };
        self.spawn(async move {
            let result =
                crate::jobs::single::apply(journal, backend, &principal, item, change.into(), None)
                    .await;
            Event::Changed {
                key,
                id,
                change,
                result,
            }
        });
    }

    /// Who changes things in `provider`'s cloud: the account the workspace uses for it.
    pub(crate) fn principal(&self, provider: Provider) -> Principal {
        Principal::for_signer(
            self.workspace.account_for(provider),
            self.source.signer(provider),
        )
    }

    fn finish_change(
        &mut self,
        key: PaneKey,
        id: String,
        change: Change,
        result: Result<Applied, Error>,
    ) {
        self.refresh_audit();
        let cache_key = self.cache_key(key);
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let row = pane.inventory.find(&id);
        match result {
            Ok(outcome) => {
                pane.notes.insert(
                    id.clone(),
                    RowNote::Done {
                        change,
                        request_id: outcome.request_id.clone(),
                    },
                );
                match (row, outcome.status) {
                    (Some(r), Some((status, raw))) => {
                        pane.inventory.set_status(r, status, &raw);
                        self.persist(move |s| {
                            s.update_status(&cache_key, &id, status, &raw).map(|_| ())
                        });
                    }
                    (Some(r), None) => {
                        pane.inventory.remove(r);
                        pane.table.selection.remove(r);
                        if key.service == Service::Kms {
                            let account = self.workspace.account_for(Provider::Alibaba).to_string();
                            let id2 = id.clone();
                            self.kms.known_ids = Arc::new(
                                self.kms
                                    .known_ids
                                    .iter()
                                    .filter(|k| **k != id)
                                    .cloned()
                                    .collect(),
                            );
                            self.persist(move |s| s.remove_kms_id(&account, &id2).map(|_| ()));
                        } else {
                            self.persist(move |s| s.remove_row(&cache_key, &id).map(|_| ()));
                        }
                    }
                    (None, _) => {}
                }
                self.recompute_view(key);
            }
            Err(error) => {
                pane.notes.insert(id, RowNote::Failed { change, error });
            }
        }
    }

    /// Runs a store write on a worker; failures become notices.
    fn persist(
        &mut self,
        write: impl FnOnce(&mut Store) -> Result<(), crate::store::StoreError> + Send + 'static,
    ) {
        let Some(store) = self.store.clone() else {
            return;
        };
        self.spawn_blocking(move || {
            let result = match store.lock() {
                Ok(mut s) => write(&mut s),
                Err(_) => {
                    return Event::Notice(NoticeLevel::Error, "the cache is unavailable".into());
                }
            };
            match result {
                Ok(()) => Event::Nothing,
                Err(e) => Event::Notice(
                    NoticeLevel::Error,
                    format!("Updating the cache failed: {e}"),
                ),
            }
        });
    }

    fn load_sites(&mut self) {
        self.esa.loading = true;
        self.esa.error = None;
        let fut = self.source.esa_sites();
        self.spawn(async move { Event::Sites(fut.await) });
    }

    fn add_kms_ids(&mut self) {
        let ids: Vec<String> = self
            .kms
            .paste
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if ids.is_empty() {
            return;
        }
        self.kms.paste.clear();
        self.remember_kms_ids(ids);
    }

    fn remember_kms_ids(&mut self, ids: Vec<String>) {
        let mut known: Vec<String> = self.kms.known_ids.to_vec();
        let before = known.len();
        for id in &ids {
            if !known.contains(id) {
                known.push(id.clone());
            }
        }
        let added = known.len() - before;
        self.kms.known_ids = Arc::new(known);
        let account = self.workspace.account_for(Provider::Alibaba).to_string();
        self.persist(move |s| s.add_kms_ids(&account, &ids, now_unix()).map(|_| ()));
        self.notice(
            NoticeLevel::Info,
            format!("{added} KMS certificate id(s) added"),
        );
        self.start_fetch(PaneKey::service(Service::Kms));
    }

    fn forget_kms_id(&mut self, id: String) {
        self.kms.known_ids = Arc::new(
            self.kms
                .known_ids
                .iter()
                .filter(|k| **k != id)
                .cloned()
                .collect(),
        );
        let key = PaneKey::service(Service::Kms);
        if let Some(p) = self.panes.get_mut(&key)
            && let Some(r) = p.inventory.find(&id)
        {
            p.inventory.remove(r);
            p.table.selection.remove(r);
        }
        self.recompute_view(key);
        let account = self.workspace.account_for(Provider::Alibaba).to_string();
        self.persist(move |s| s.remove_kms_id(&account, &id).map(|_| ()));
    }

    fn create_kms(&mut self) {
        match self.kms.form.request() {
            Err(e) => self.kms.form_error = Some(e),
            Ok(request) => {
                self.kms.form_error = None;
                self.kms.creating = true;
                self.kms.created = None;
                let Some(journal) = self.journal() else {
                    self.kms.creating = false;
                    self.kms.created = Some(Err(Error::not_recorded(
                        "there is no audit log to record the change in",
                    )));
                    return;
                };
                // Audited like every change: the new certificate's id is in the entry's answer.
                let item = BulkItem {
                    service: Service::Kms,
                    id: request.subject.clone(),
                    site_id: None,
                    name: request.subject.clone(),
                };
                let mut entry = crate::jobs::single::audit_entry(
                    &self.principal(Provider::Alibaba),
                    &item,
                    Change::CreateCertificate,
                );
                entry.message = Some(format!("key spec {}", request.key_spec.api_name()));
                let source = Arc::clone(&self.source);
                self.spawn(async move {
                    let call = async move { source.kms_create(request).await };
                    let result = crate::jobs::single::audited(journal, entry, call)
                        .await
                        .map(|(created, _)| created);
                    Event::KmsCreated(result)
                });
            }
        }
    }

    fn save_csr(&mut self) {
        let Some(Ok(created)) = &self.kms.created else {
            return;
        };
        let csr = created.csr.clone();
        let file_name = format!("{}.csr", created.certificate_id);
        self.spawn(async move {
            let Some(handle) = rfd::AsyncFileDialog::new()
                .set_file_name(&file_name)
                .add_filter("Certificate request", &["csr", "pem"])
                .save_file()
                .await
            else {
                return Event::Nothing;
            };
            let path = handle.path().to_path_buf();
            match tokio::fs::write(&path, csr.as_bytes()).await {
                Ok(()) => Event::Notice(
                    NoticeLevel::Info,
                    format!("CSR saved to {}", path.display()),
                ),
                Err(e) => Event::Notice(
                    NoticeLevel::Error,
                    format!("Saving the CSR to {} failed: {e}", path.display()),
                ),
            }
        });
    }

    fn spawn(
        &mut self,
        fut: impl std::future::Future<Output = Event> + Send + 'static,
    ) -> tokio::task::AbortHandle {
        self.in_flight += 1;
        let tx = self.tx.clone();
        let repaint = Arc::clone(&self.repaint);
        let epoch = self.epoch;
        self.runtime
            .spawn(async move {
                // Reports even when the task is aborted, so the count of running work stays true.
                let mut report = tasks::Report::new(tx, repaint, epoch);
                let event = fut.await;
                report.send(event);
            })
            .abort_handle()
    }

    fn spawn_blocking(&mut self, work: impl FnOnce() -> Event + Send + 'static) {
        self.in_flight += 1;
        let tx = self.tx.clone();
        let repaint = Arc::clone(&self.repaint);
        let epoch = self.epoch;
        self.runtime.spawn_blocking(move || {
            let mut report = tasks::Report::new(tx, repaint, epoch);
            report.send(work());
        });
    }
}

fn swap_inventory(pane: &mut Pane, inventory: Inventory, fetched_at: i64) {
    let cursor_id = pane.cursor_row().map(|r| pane.inventory.id(r).to_string());
    pane.inventory = inventory;
    pane.fetched_at = Some(fetched_at);
    pane.table.reset_selection();
    if let Some(id) = cursor_id {
        pane.table.cursor = pane.inventory.find(&id);
        pane.table.anchor = pane.table.cursor;
        if let Some(c) = pane.table.cursor {
            pane.table.selection.insert(c);
        }
    }
}

fn install_view(pane: &mut Pane, input: &ViewInput, index: Arc<Vec<RowId>>) {
    if let Some((incoming, _)) = &pane.incoming
        && incoming.build_id() == input.build_id
        && let Some((inventory, fetched_at)) = pane.incoming.take()
    {
        swap_inventory(pane, inventory, fetched_at);
    }
    if pane.inventory.build_id() != input.build_id {
        // A view of an inventory that has since been replaced.
        return;
    }
    pane.table
        .set_index(index, (input.build_id, input.state_version));
}

#[cfg(test)]
mod tests;
