//! Application state and the actions that change it. The UI sends [`Action`]s; [`AppState::apply`]
//! hands each to the feature that owns it; features start background work through `runtime`,
//! whose results come back as [`Event`]s that [`AppState::poll`] drains once per frame.
//! Testable without a window; knows nothing of egui.
//!
//! Each feature owns its state and handles its own actions and events: `inventory` (the panes,
//! their tables and details, the ESA sites), `kms` (the ids certdesk knows, the create form),
//! `changes` (status buttons and their confirmation), `bulk` (bulk jobs and the resume offer),
//! `audit` (the Audit tab), `import_flow` (the import dialog), `overview`, `settings`. This module
//! only composes them: the tab shown, the dispatch, and what one feature's result means for
//! another (a change's answer shown in its row, a new KMS id walked by the KMS pane…).

pub mod audit;
pub mod bulk;
pub mod changes;
pub mod cloud_source;
pub mod context;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod find;
pub mod headless;
pub mod import_flow;
pub mod inventory;
pub mod kms;
pub mod overview;
pub mod runtime;
pub mod settings;
pub mod source;
pub mod workspace;

pub use audit::{AuditAction, AuditView};
pub use changes::PendingChange;
pub use context::{Notice, NoticeLevel, Notices, Workspace, now_unix};
pub use import_flow::{ImportAction, ImportPurpose};
pub use inventory::{
    ClickMods, CursorMove, DetailEntry, EsaSites, LoadState, Pane, PaneKey, RowNote, TableState,
    pane, view,
};
pub use kms::{KmsCreateForm, KmsState};
pub use settings::{ProfileDraft, ProfilesConfig, SettingsAction, SettingsState, TestResult};
pub use source::{
    BulkTarget, CertificateDetail, EsaSite, InventorySource, KmsCreateRequest, KmsCreated,
    KmsKeySpec, SharedSource,
};

pub use inventory::INLINE_VIEW_LIMIT;

use crate::model::{ScopeId, Service};
use crate::store::Store;
use crate::store::journal::Journal;
use context::{Cx, Shared};
use inventory::{Inventories, InventoryEvent, RowId};
use runtime::{Spawner, Tasks};
use std::sync::{Arc, Mutex};
use view::{ExpiryFilter, SortColumn, StatusFilter};

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
    /// Show only these accounts and regions (`None`: all).
    SetScopeFilter(PaneKey, Option<Vec<ScopeId>>),
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
    RequestChange(PaneKey, RowId, crate::model::Change),
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
    /// Bulk jobs and the resume offer.
    Bulk(bulk::BulkAction),
    /// The Audit tab.
    Audit(AuditAction),
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
    /// Find everywhere (the top bar).
    Find(find::FindAction),
    /// Open a find hit: its tab filtered by the find's text, the hit under the cursor.
    ShowHit(usize),
}

/// Finished background work, by feature.
pub(crate) enum Event {
    Inventory(InventoryEvent),
    Kms(kms::KmsEvent),
    Change(changes::ChangeDone),
    Bulk(bulk::BulkEvent),
    Audit(audit::AuditRead),
    Import(import_flow::ImportEvent),
    Overview(overview::OverviewComputed),
    Settings(settings::SettingsEvent),
    Find(find::FindEvent),
    /// Work whose only result is (maybe) a message.
    Notice(Option<Notice>),
}

impl Event {
    /// `true` for results that belong to the workspace that started them (dropped once another
    /// workspace is open).
    fn is_workspace_bound(&self) -> bool {
        matches!(
            self,
            Event::Inventory(_)
                | Event::Kms(_)
                | Event::Change(_)
                | Event::Import(_)
                | Event::Find(_)
        )
    }
}

/// One spawner per feature, each sending that feature's events.
struct Spawners {
    inventory: Spawner<InventoryEvent>,
    kms: Spawner<kms::KmsEvent>,
    changes: Spawner<changes::ChangeDone>,
    bulk: Spawner<bulk::BulkEvent>,
    audit: Spawner<audit::AuditRead>,
    import: Spawner<import_flow::ImportEvent>,
    overview: Spawner<overview::OverviewComputed>,
    settings: Spawner<settings::SettingsEvent>,
    find: Spawner<find::FindEvent>,
    quiet: Spawner<Option<Notice>>,
}

/// A feature's context over the app's shared parts: `cx!(self, inventory)`.
macro_rules! cx {
    ($app:expr, $feature:ident) => {
        Cx {
            shared: &$app.shared,
            notices: &mut $app.notices,
            tasks: &$app.spawners.$feature,
            quiet: &$app.spawners.quiet,
        }
    };
}

/// The whole application state: the features, and what the window shows.
pub struct AppState {
    /// Tab shown.
    pub tab: Tab,
    /// Section of the client-certificates tab.
    pub client_section: ClientSection,
    /// Theme.
    pub theme: Theme,
    /// Every inventory: panes, details, ESA sites.
    pub inventory: Inventories,
    /// KMS ids and create flow.
    pub kms: KmsState,
    /// A single change awaiting confirmation.
    pub changes: changes::Changes,
    /// Bulk jobs and the resume offer.
    pub bulk: bulk::BulkState,
    /// The Audit tab.
    pub audit: AuditView,
    /// The import dialog.
    pub import: import_flow::ImportState,
    /// The Overview's cached aggregate and the expiry thresholds.
    pub overview: overview::OverviewState,
    /// Settings tab.
    pub settings: SettingsState,
    /// Find everywhere.
    pub find: find::FindState,
    /// Messages.
    pub notices: Notices,
    shared: Shared,
    tasks: Tasks<Event>,
    spawners: Spawners,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("workspace", &self.shared.workspace)
            .field("tab", &self.tab)
            .field("panes", &self.inventory.panes.len())
            .field("busy", &self.tasks.is_busy())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// A new state; starts reading the cache of every inventory and the known KMS ids.
    pub fn new(config: AppConfig) -> Self {
        let tasks = Tasks::new(config.runtime);
        let spawners = Spawners {
            inventory: tasks.spawner(Event::Inventory),
            find: tasks.spawner(Event::Find),
            kms: tasks.spawner(Event::Kms),
            changes: tasks.spawner(Event::Change),
            bulk: tasks.spawner(Event::Bulk),
            audit: tasks.spawner(Event::Audit),
            import: tasks.spawner(Event::Import),
            overview: tasks.spawner(Event::Overview),
            settings: tasks.spawner(Event::Settings),
            quiet: tasks.spawner(Event::Notice),
        };
        // Bulk jobs and the audit log are journaled in memory for the session until a journal
        // file is set (`set_journal`); an in-memory SQLite cannot fail to open short of no memory.
        let journal = match Journal::in_memory() {
            Ok(j) => Arc::new(Mutex::new(j)),
            Err(e) => panic!("an in-memory journal could not be opened: {e}"),
        };
        let mut state = AppState {
            tab: Tab::Overview,
            client_section: ClientSection::default(),
            theme: Theme::default(),
            inventory: Inventories::for_workspace(&config.workspace),
            kms: KmsState::default(),
            changes: changes::Changes::default(),
            bulk: bulk::BulkState::default(),
            audit: AuditView::default(),
            import: import_flow::ImportState::default(),
            overview: overview::OverviewState::default(),
            settings: SettingsState {
                config: config.profiles,
                ..SettingsState::default()
            },
            find: find::FindState::default(),
            notices: Notices::default(),
            shared: Shared {
                workspace: config.workspace,
                source: config.source,
                store: config.store,
                journal,
                auto_refresh: config.auto_refresh,
            },
            tasks,
            spawners,
        };
        if let Some(path) = state.preferences_path() {
            state.overview.load_preferences(&path, &mut state.notices);
        }
        state.open_inventories();
        state
    }

    /// Reads the known KMS ids and every pane's cache (a new state or workspace).
    fn open_inventories(&mut self) {
        self.kms.load_ids(&mut cx!(self, kms));
        if self.kms.ids_loading {
            self.inventory.set_kms_ids(None, &mut cx!(self, inventory));
        }
        self.inventory.load_caches(&mut cx!(self, inventory));
    }

    /// Where preferences are kept (`None`: not persisted, as in tests without profiles).
    fn preferences_path(&self) -> Option<std::path::PathBuf> {
        self.settings
            .config
            .as_ref()
            .map(|p| p.path.with_file_name(overview::PREFERENCES_FILE))
    }

    /// Sets how background work wakes the UI (`egui::Context::request_repaint`).
    pub fn set_repaint(&mut self, repaint: impl Fn() + Send + Sync + 'static) {
        self.tasks.set_repaint(repaint);
    }

    /// Uses `journal` for changes, bulk jobs and the audit log, and looks for unfinished jobs in
    /// it (on a worker). Without one, the app keeps an in-memory journal for the session.
    pub fn set_journal(&mut self, journal: Arc<Mutex<Journal>>) {
        self.shared.journal = journal;
        self.bulk.load_resumable(&mut cx!(self, bulk));
    }

    /// The journal and audit log in use.
    pub fn journal(&self) -> &Arc<Mutex<Journal>> {
        &self.shared.journal
    }

    /// What the window is connected to.
    pub fn workspace(&self) -> &Workspace {
        &self.shared.workspace
    }

    /// `true` while background work is running (tests wait for it).
    pub fn is_busy(&self) -> bool {
        self.tasks.is_busy() || self.overview.computing
    }

    /// The source in use.
    pub fn source(&self) -> &SharedSource {
        &self.shared.source
    }

    /// The inventory key a tab shows (`None` for Settings, or ESA without a site).
    pub fn pane_key_of(&self, tab: Tab) -> Option<PaneKey> {
        match tab {
            Tab::Kms => Some(PaneKey::service(Service::Kms)),
            Tab::ClientCertificates => match self.client_section {
                ClientSection::PrivateCa => Some(PaneKey::service(Service::Pca)),
                ClientSection::Esa => self.inventory.esa.selected.map(PaneKey::esa),
            },
            Tab::CdnDomains => Some(PaneKey::service(Service::Vod)),
            Tab::IotDevices => Some(PaneKey::service(Service::Iotda)),
            Tab::Overview | Tab::Settings | Tab::Audit => None,
        }
    }

    /// The pane shown now.
    pub fn current_pane(&self) -> Option<&Pane> {
        self.pane_key_of(self.tab)
            .and_then(|k| self.inventory.panes.get(&k))
    }

    /// Details of the cursor row of `key`, when any.
    pub fn detail_of(&self, key: PaneKey) -> Option<&DetailEntry> {
        self.inventory.detail_of(key)
    }

    /// Adds a message to the notice area (the five most recent are kept).
    pub fn notice(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notices.push(level, text);
    }

    /// Applies one action.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::SelectTab(tab) => {
                self.tab = tab;
                if tab == Tab::Settings && self.settings.store.is_none() && !self.settings.busy {
                    self.settings.load_profiles(&mut cx!(self, settings));
                }
                if tab == Tab::Audit {
                    self.audit.ensure_loaded(&mut cx!(self, audit));
                }
                self.ensure_loaded();
            }
            Action::SelectClientSection(section) => {
                self.client_section = section;
                self.ensure_loaded();
            }
            Action::SelectEsaSite(site) => {
                self.inventory
                    .select_esa_site(site, &mut cx!(self, inventory));
                self.ensure_loaded();
            }
            Action::RefreshSites => self.inventory.load_sites(&mut cx!(self, inventory)),
            Action::Refresh(key) => self.inventory.start_fetch(key, &mut cx!(self, inventory)),
            Action::RetryFetch(key) => self.inventory.retry_fetch(key, &mut cx!(self, inventory)),
            Action::CancelFetch(key) => self.inventory.cancel_fetch(key),
            Action::SetFilterText(key, text) => {
                self.inventory
                    .edit_table(key, |t| t.filter.text = text, &mut cx!(self, inventory))
            }
            Action::SetStatusFilter(key, f) => {
                self.inventory
                    .edit_table(key, |t| t.filter.status = f, &mut cx!(self, inventory))
            }
            Action::SetExpiryFilter(key, f) => {
                self.inventory
                    .edit_table(key, |t| t.filter.expiry = f, &mut cx!(self, inventory))
            }
            Action::SetScopeFilter(key, scopes) => self.inventory.edit_table(
                key,
                |t| t.filter.scopes = scopes,
                &mut cx!(self, inventory),
            ),
            Action::SortBy(key, column) => self.inventory.edit_table(
                key,
                |t| {
                    if t.sort.column == column {
                        t.sort.descending = !t.sort.descending;
                    } else {
                        t.sort.column = column;
                        t.sort.descending = false;
                    }
                },
                &mut cx!(self, inventory),
            ),
            Action::ClickRow(key, pos, mods) => self.inventory.edit_selection(
                key,
                |t| t.click(pos, mods),
                true,
                &mut cx!(self, inventory),
            ),
            Action::MoveCursor(key, movement, extend) => self.inventory.edit_selection(
                key,
                |t| t.move_cursor(movement, extend),
                true,
                &mut cx!(self, inventory),
            ),
            Action::ToggleCursorRow(key) => self.inventory.edit_selection(
                key,
                TableState::toggle_cursor,
                false,
                &mut cx!(self, inventory),
            ),
            Action::SelectAllFiltered(key) => self.inventory.edit_selection(
                key,
                TableState::select_all_filtered,
                false,
                &mut cx!(self, inventory),
            ),
            Action::ClearSelection(key) => self.inventory.edit_selection(
                key,
                |t| t.selection.clear(),
                false,
                &mut cx!(self, inventory),
            ),
            Action::LoadDetail(key) => {
                self.inventory
                    .load_detail(key, true, &mut cx!(self, inventory))
            }
            Action::RequestChange(key, row, change) => {
                if let Some(p) = self.inventory.panes.get(&key)
                    && (row as usize) < p.inventory.len()
                {
                    self.changes.ask(PendingChange {
                        key,
                        scope: p.inventory.scope(row),
                        id: p.inventory.id(row).to_string(),
                        name: p.inventory.name(row).to_string(),
                        change,
                    });
                }
            }
            Action::ConfirmChange => {
                if let Some(pending) = self.changes.take_confirmed() {
                    let (name, site_id) = self
                        .inventory
                        .row_identity(pending.key, &pending.id)
                        .map(|(_, name, site)| (name, site))
                        .unwrap_or_else(|| (pending.name.clone(), pending.key.site_id));
                    let item = crate::jobs::BulkItem {
                        service: pending.key.service,
                        id: pending.id.clone(),
                        site_id,
                        name,
                    };
                    let (key, id) = (pending.key, pending.id.clone());
                    let note = self.changes.send(pending, item, &mut cx!(self, changes));
                    self.inventory.note(key, &id, note);
                }
            }
            Action::CancelChange => self.changes.cancel(),
            Action::SetKmsPaste(text) => self.kms.paste = text,
            Action::AddKmsIds => {
                let changed = self.kms.add_pasted(&mut cx!(self, kms));
                self.kms_ids_changed(changed);
            }
            Action::ForgetKmsId(id) => {
                let changed = self.kms.forget(id, &mut cx!(self, kms));
                self.kms_ids_changed(changed);
            }
            Action::SetKmsForm(form) => self.kms.set_form(form),
            Action::CreateKmsCertificate => self.kms.create(&mut cx!(self, kms)),
            Action::SaveCsr => self.kms.save_csr(&mut cx!(self, kms)),
            Action::SetTheme(theme) => self.theme = theme,
            Action::Settings(a) => self.settings.apply(a, &mut cx!(self, settings)),
            Action::DismissNotice(i) => self.notices.dismiss(i),
            Action::Bulk(bulk::BulkAction::Open(key, change)) => {
                let items = self.inventory.selected_items(key);
                self.bulk
                    .plan(key.service, change, items, &mut cx!(self, bulk));
            }
            Action::Bulk(a) => self.bulk.apply(a, &mut cx!(self, bulk)),
            Action::Audit(a) => self.audit.apply(a, &mut cx!(self, audit)),
            Action::Import(a) => {
                let known_csr = match &self.kms.created {
                    Some(Ok(c)) => Some((c.certificate_id.clone(), c.csr.clone())),
                    _ => None,
                };
                let target = match &a {
                    ImportAction::Open(purpose) => purpose
                        .pane_key()
                        .and_then(|(key, id)| self.inventory.row_identity(key, &id))
                        .map(|(scope, ..)| scope),
                    _ => None,
                };
                self.import
                    .apply(a, target, known_csr, &mut cx!(self, import));
            }
            Action::ShowExpiring(key, expiry) => self.show_expiring(key, expiry),
            Action::ShowCertificate(key, id, expiry) => self.show_certificate(key, &id, expiry),
            Action::SetThresholds(t) => {
                let path = self.preferences_path();
                self.overview.set_thresholds(t, path, &self.spawners.quiet);
            }
            Action::RefreshAll => self.inventory.refresh_all(&mut cx!(self, inventory)),
            Action::Find(a) => self.find.apply(a, &self.inventory, &mut cx!(self, find)),
            Action::ShowHit(i) => self.show_hit(i),
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
        if self.settings.opening {
            return;
        }
        if self.tab == Tab::Overview {
            self.inventory.ensure_all_loaded(&mut cx!(self, inventory));
            return;
        }
        if self.tab == Tab::ClientCertificates && self.client_section == ClientSection::Esa {
            self.inventory.ensure_sites(&mut cx!(self, inventory));
        }
        if let Some(key) = self.pane_key_of(self.tab) {
            self.inventory.ensure_loaded(key, &mut cx!(self, inventory));
        }
    }

    /// Passes a change of the known KMS ids on to the KMS pane.
    fn kms_ids_changed(&mut self, changed: kms::KmsIdsChanged) {
        let kms = PaneKey::service(Service::Kms);
        match changed {
            kms::KmsIdsChanged::No => {}
            kms::KmsIdsChanged::Yes { fetch } => {
                let ids = self.kms.known_ids.clone();
                self.inventory
                    .set_kms_ids(Some(ids), &mut cx!(self, inventory));
                if fetch {
                    self.inventory.start_fetch(kms, &mut cx!(self, inventory));
                }
            }
            kms::KmsIdsChanged::Forgotten(id) => {
                let ids = self.kms.known_ids.clone();
                self.inventory
                    .set_kms_ids(Some(ids), &mut cx!(self, inventory));
                self.inventory
                    .forget_row(kms, &id, &mut cx!(self, inventory));
            }
        }
    }

    /// Shows the tab of `key`'s inventory (PCA/ESA: its section, ESA: its site).
    fn show_pane_tab(&mut self, key: PaneKey) {
        let tab = match key.service {
            Service::Kms => Tab::Kms,
            Service::Pca => {
                self.client_section = ClientSection::PrivateCa;
                Tab::ClientCertificates
            }
            Service::Esa => {
                self.client_section = ClientSection::Esa;
                if let Some(site) = key.site_id
                    && self.inventory.esa.selected != Some(site)
                {
                    self.apply(Action::SelectEsaSite(site));
                }
                Tab::ClientCertificates
            }
            Service::Vod | Service::Cdn => Tab::CdnDomains,
            Service::Iotda => Tab::IotDevices,
            // Neither has a tab of its own.
            Service::Ssl | Service::Sts => return,
        };
        self.apply(Action::SelectTab(tab));
    }

    /// Opens `key`'s tab with only the expiry filter `expiry` (the text and status filters
    /// cleared), so the table shows exactly those certificates.
    fn show_expiring(&mut self, key: PaneKey, expiry: ExpiryFilter) {
        self.show_pane_tab(key);
        self.inventory.edit_table(
            key,
            |t| {
                t.filter.text.clear();
                t.filter.status = StatusFilter::Any;
                t.filter.expiry = expiry;
            },
            &mut cx!(self, inventory),
        );
    }

    /// Opens `key`'s tab filtered to `expiry` with the certificate `id` selected under the cursor.
    fn show_certificate(&mut self, key: PaneKey, id: &str, expiry: ExpiryFilter) {
        self.show_expiring(key, expiry);
        let Some(row) = self
            .inventory
            .panes
            .get(&key)
            .and_then(|p| p.inventory.find(id))
        else {
            return;
        };
        self.inventory.edit_selection(
            key,
            |t| {
                t.selection.clear();
                t.selection.insert(row);
                t.cursor = Some(row);
                t.anchor = Some(row);
                t.cursor_pos = t.index.iter().position(|&r| r == row);
            },
            true,
            &mut cx!(self, inventory),
        );
    }

    /// Opens the tab of the find's hit `i` filtered by the find's text (so it shows every hit of
    /// that inventory, as the find did), with the hit selected under the cursor.
    fn show_hit(&mut self, i: usize) {
        let Some(hit) = self.find.hits.as_ref().and_then(|h| h.get(i)).cloned() else {
            return;
        };
        let key = hit.pane;
        self.show_pane_tab(key);
        let text = self.find.searched.clone();
        self.inventory.edit_table(
            key,
            |t| {
                t.filter.text = text;
                t.filter.status = StatusFilter::Any;
                t.filter.expiry = ExpiryFilter::Any;
                t.filter.scopes = None;
            },
            &mut cx!(self, inventory),
        );
        // The row, if the inventory did not change since the search (else by id and scope).
        let Some(pane) = self.inventory.panes.get(&key) else {
            return;
        };
        let inv = &pane.inventory;
        let same = (hit.row as usize) < inv.len()
            && inv.id(hit.row) == hit.id
            && inv.scope(hit.row) == hit.scope;
        let row = if same {
            Some(hit.row)
        } else {
            (0..inv.len() as RowId).find(|&r| inv.id(r) == hit.id && inv.scope(r) == hit.scope)
        };
        let Some(row) = row else {
            return;
        };
        self.inventory.edit_selection(
            key,
            |t| {
                t.selection.clear();
                t.selection.insert(row);
                t.cursor = Some(row);
                t.anchor = Some(row);
                t.cursor_pos = t.index.iter().position(|&r| r == row);
            },
            true,
            &mut cx!(self, inventory),
        );
    }

    /// Opens a workspace over saved profiles (on a worker: the keyring may block).
    pub fn open_workspace(&mut self, profile: Option<String>) {
        self.settings
            .open_workspace(profile, &mut cx!(self, settings));
    }

    /// Drains finished background work into the state. Call once per frame.
    pub fn poll(&mut self) {
        while let Some(delivery) = self.tasks.try_recv() {
            self.receive(delivery);
        }
        self.overview
            .refresh(&self.inventory, &self.spawners.overview);
    }

    /// Blocks until no background work is left or `timeout` passes (tests and benchmarks only:
    /// the UI never calls it). Returns `true` when idle.
    pub fn wait_idle(&mut self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            // Work ends after sending its event: nothing running means everything delivered.
            let idle_before = !self.tasks.is_busy();
            self.poll();
            if idle_before && !self.is_busy() {
                return true;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            if let Some(d) = self
                .tasks
                .recv_timeout(left.min(std::time::Duration::from_millis(20)))
            {
                self.receive(d);
            }
        }
    }

    /// Applies `event` as if background work of the current workspace had sent it (tests).
    #[cfg(test)]
    pub(crate) fn deliver(&mut self, event: Event) {
        let epoch = self.tasks.epoch();
        self.receive(runtime::Delivery { epoch, event });
    }

    fn receive(&mut self, delivery: runtime::Delivery<Event>) {
        let event = delivery.event;
        if delivery.epoch != self.tasks.epoch() && event.is_workspace_bound() {
            // A result of the workspace that was replaced.
            return;
        }
        match event {
            Event::Inventory(e) => {
                if self.inventory.handle(e, &mut cx!(self, inventory)) {
                    self.ensure_loaded();
                }
            }
            Event::Kms(e) => {
                let changed = self.kms.handle(e, &mut cx!(self, kms));
                self.kms_ids_changed(changed);
                self.audit.refresh_if_shown(&mut cx!(self, audit));
            }
            Event::Change(done) => {
                let deleted = self.inventory.record_change(
                    done.key,
                    &done.id,
                    done.change,
                    done.result,
                    &mut cx!(self, inventory),
                );
                if deleted && done.key.service == Service::Kms {
                    self.kms.deleted(&done.id, &mut cx!(self, kms));
                    let ids = self.kms.known_ids.clone();
                    self.inventory
                        .set_kms_ids(Some(ids), &mut cx!(self, inventory));
                }
                self.audit.refresh_if_shown(&mut cx!(self, audit));
            }
            Event::Bulk(e) => {
                let update = self.bulk.handle(e, &mut cx!(self, bulk));
                if !update.statuses.is_empty() || update.finished {
                    self.inventory.show_statuses(
                        update.statuses,
                        update.finished,
                        &mut cx!(self, inventory),
                    );
                }
                if update.finished {
                    self.audit.refresh_if_shown(&mut cx!(self, audit));
                }
            }
            Event::Audit(e) => self.audit.handle(e, &mut cx!(self, audit)),
            Event::Find(e) => self.find.handle(e, &mut cx!(self, find)),
            Event::Import(e) => {
                if let Some(sent) = self.import.handle(e, &mut cx!(self, import)) {
                    if let Some(status) = sent.status {
                        self.inventory.show_change(
                            sent.key,
                            &sent.id,
                            Some(status),
                            true,
                            &mut cx!(self, inventory),
                        );
                    }
                    // Described again so the row and the detail panel show the new certificate.
                    self.inventory
                        .redescribe(sent.key, sent.id, &mut cx!(self, inventory));
                    self.audit.refresh_if_shown(&mut cx!(self, audit));
                }
            }
            Event::Overview(computed) => self.overview.computed(computed),
            Event::Settings(e) => match self.settings.handle(e) {
                Some(Ok((source, workspace))) => self.replace_source(source, workspace),
                Some(Err(e)) => self.notice(
                    NoticeLevel::Error,
                    format!("Opening the account failed: {e}"),
                ),
                None => {}
            },
            Event::Notice(Some(n)) => self.notices.push(n.level, n.text),
            Event::Notice(None) => {}
        }
    }

    /// Replaces the source and workspace: every inventory starts over from its cache.
    pub fn replace_source(&mut self, source: SharedSource, workspace: Workspace) {
        self.tasks.next_epoch();
        self.inventory.abort_all();
        self.shared.source = source;
        self.shared.workspace = workspace;
        self.inventory = Inventories::for_workspace(&self.shared.workspace);
        self.kms = KmsState::default();
        self.changes = changes::Changes::default();
        self.import = import_flow::ImportState::default();
        self.find = find::FindState::default();
        self.open_inventories();
        let opened = format!("Opened {}", self.shared.workspace.description);
        self.notice(NoticeLevel::Info, opened);
        self.ensure_loaded();
    }
}

#[cfg(test)]
mod tests;
