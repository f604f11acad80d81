//! The import flow: certificate, key and PKCS#12 files picked in a native dialog or dropped on the
//! window are read and parsed off the UI thread ([`crate::import`]), inspected, checked for where
//! they are going (a VOD domain, a KMS certificate's CSR, or nowhere: inspection only), confirmed
//! and sent — with an audit entry written before the request and completed after it.
//!
//! A state machine the UI drives with [`ImportAction`]s; background results come back as
//! [`ImportEvent`]s. Knows `import`, `store` and the source; nothing of egui. Private key bytes
//! stay in the parsed [`Bundle`] (zeroizing) and a [`Secret`] for the one request that carries
//! them; they are never logged, cached or printed.

use super::context::{Cx, NoticeLevel, ScopeId, now_unix};
use super::inventory::PaneKey;
use super::runtime::{Generation, Ticket};
use crate::certs::ValidityState;
use crate::credentials::Secret;
use crate::import::{self, Bundle, ChainReport, Check, ImportError, Target, Verdict};
use crate::jobs::{Applied, BulkItem, CertificateUpload, ChangeRequest};
use crate::model::{CertStatus, Error, Service};
use std::path::PathBuf;
use std::sync::Arc;

/// A sent import, for its row: show the new status, then describe it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportSent {
    /// The pane of the row.
    pub key: PaneKey,
    /// The provider id.
    pub id: String,
    /// The status now, when the answer says.
    pub status: Option<(CertStatus, String)>,
}

/// The import dialog, when open.
#[derive(Debug, Default)]
pub struct ImportState {
    /// The flow of the open dialog.
    pub flow: Option<ImportFlow>,
}

/// Where the imported files are going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportPurpose {
    /// Only look at them.
    Inspect,
    /// Replace a VOD domain's certificate (SetVodDomainCertificate, HTTPS on).
    VodReplace {
        /// Row id of the domain in the CDN table.
        id: String,
        /// The domain name (what the certificate must cover).
        domain: String,
    },
    /// Upload the signed certificate of a KMS certificate created with a CSR (UploadCertificate).
    KmsUpload {
        /// The KMS certificate id.
        certificate_id: String,
    },
}

impl ImportPurpose {
    /// Dialog title.
    pub fn title(&self) -> String {
        match self {
            ImportPurpose::Inspect => "Inspect certificate files".into(),
            ImportPurpose::VodReplace { domain, .. } => format!("Replace certificate of {domain}"),
            ImportPurpose::KmsUpload { certificate_id } => {
                format!("Upload signed certificate for KMS {certificate_id}")
            }
        }
    }

    /// Text of the button that sends, `None` when nothing is sent.
    pub fn send_label(&self) -> Option<&'static str> {
        match self {
            ImportPurpose::Inspect => None,
            ImportPurpose::VodReplace { .. } => Some("Review and replace…"),
            ImportPurpose::KmsUpload { .. } => Some("Review and upload…"),
        }
    }

    /// Text of the confirmation button.
    pub fn confirm_label(&self) -> &'static str {
        match self {
            ImportPurpose::VodReplace { .. } => "Yes, replace the certificate",
            _ => "Yes, upload the certificate",
        }
    }

    /// The pane and provider id of the row the files go to.
    pub fn pane_key(&self) -> Option<(PaneKey, String)> {
        match self {
            ImportPurpose::Inspect => None,
            ImportPurpose::VodReplace { id, .. } => {
                Some((PaneKey::service(Service::Vod), id.clone()))
            }
            ImportPurpose::KmsUpload { certificate_id } => {
                Some((PaneKey::service(Service::Kms), certificate_id.clone()))
            }
        }
    }
}

/// What the UI can do in the import dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportAction {
    /// Opens the dialog for a purpose (replacing an open one).
    Open(ImportPurpose),
    /// Shows the native file dialog (its answer arrives as [`ImportAction::AddFiles`]).
    PickFiles,
    /// Adds files (what the file dialog and a drop on the window produce); opens an inspection
    /// dialog when none is open.
    AddFiles(Vec<PathBuf>),
    /// Edits the typed path field.
    SetTypedPath(String),
    /// Adds the typed path (`~/` is the home directory) and clears the field.
    AddTypedPath,
    /// Removes the file at this position.
    RemoveFile(usize),
    /// Edits the passphrase field.
    SetPassphrase(Secret),
    /// Reads the files again with the passphrase.
    Unlock,
    /// Edits the certificate name (VOD).
    SetCertName(String),
    /// The explicit override for an expired or not-yet-valid certificate.
    SetAllowExpired(bool),
    /// Asks to send (shows the confirmation).
    RequestSend,
    /// Back from the confirmation.
    BackToEdit,
    /// Sends.
    ConfirmSend,
    /// Closes the dialog (forgetting the files, the key and the passphrase).
    Close,
}

/// How reading one file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// Being read.
    Reading,
    /// Read: what it held.
    Read(String),
    /// Encrypted: the importer's message asking for the passphrase.
    NeedsPassphrase(String),
    /// The passphrase did not decrypt it.
    WrongPassphrase(String),
    /// Unusable: the importer's message.
    Failed(String),
}

impl FileStatus {
    /// `true` when the file needs (another) passphrase.
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            FileStatus::NeedsPassphrase(_) | FileStatus::WrongPassphrase(_)
        )
    }
}

/// One file of the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    /// Where it is.
    pub path: PathBuf,
    /// File name shown.
    pub name: String,
    /// How reading it went.
    pub status: FileStatus,
}

/// The CSR a KMS upload is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsrState {
    /// Not a KMS upload.
    NotNeeded,
    /// GetCertificate is running.
    Loading,
    /// The CSR's public key bits.
    Ready(Vec<u8>),
    /// It could not be had.
    Failed(String),
}

/// Where the flow stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportStage {
    /// Choosing files, looking at checks.
    Editing,
    /// Asking "are you sure?".
    Confirming,
    /// The request is on its way.
    Sending,
    /// The answer: the request id, or the error.
    Done(Result<Option<String>, Error>),
}

/// The open import dialog.
#[derive(Debug)]
pub struct ImportFlow {
    /// Where the files go.
    pub purpose: ImportPurpose,
    /// The account and region of the row they go to.
    pub scope: ScopeId,
    /// The files, in the order added.
    pub files: Vec<ImportFile>,
    /// Everything read from the readable files, merged.
    pub bundle: Option<Arc<Bundle>>,
    /// The certificates ordered into a chain.
    pub chain: Option<ChainReport>,
    /// Checks for the purpose, with the override applied.
    pub checks: Vec<Check>,
    /// Files are being read.
    pub reading: bool,
    /// Checks are being computed.
    pub checking: bool,
    /// The passphrase typed (kept until the dialog closes; zeroized then).
    pub passphrase: Secret,
    /// Certificate name sent with a VOD certificate.
    pub cert_name: String,
    /// The user typed the name (it is not derived from the certificate any more).
    pub cert_name_edited: bool,
    /// The explicit override for an expired or not-yet-valid certificate.
    pub allow_expired: bool,
    /// The leaf is expired or not valid yet (what the override is for).
    pub date_problem: Option<String>,
    /// The CSR a KMS upload must match.
    pub csr: CsrState,
    /// Where the flow stands.
    pub stage: ImportStage,
    /// A path being typed or pasted (the way in where no file chooser runs).
    pub typed_path: String,
    /// The last file dialog returned no file (the dialog then names the other ways in, in case
    /// no chooser could be shown at all).
    pub nothing_picked: bool,
    reads: Generation,
    checks_run: Generation,
    /// Stops the read in flight when dropped: a new read replaces it, closing the dialog drops it.
    reading_guard: import::CancelOnDrop,
}

/// The path a user typed: trimmed, surrounding quotes (a pasted "Copy as path") removed, and a
/// leading `~/` made the home directory. `None` when nothing was typed.
pub fn typed_path(text: &str) -> Option<PathBuf> {
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        .unwrap_or(text)
        .trim();
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(dirs) = directories::BaseDirs::new()
    {
        return Some(dirs.home_dir().join(rest));
    }
    Some(PathBuf::from(text))
}

impl ImportFlow {
    fn new(purpose: ImportPurpose) -> Self {
        let csr = match purpose {
            ImportPurpose::KmsUpload { .. } => CsrState::Loading,
            _ => CsrState::NotNeeded,
        };
        ImportFlow {
            scope: 0,
            purpose,
            files: Vec::new(),
            bundle: None,
            chain: None,
            checks: Vec::new(),
            reading: false,
            checking: false,
            passphrase: Secret::default(),
            cert_name: String::new(),
            cert_name_edited: false,
            allow_expired: false,
            date_problem: None,
            csr,
            stage: ImportStage::Editing,
            typed_path: String::new(),
            nothing_picked: false,
            reads: Generation::default(),
            checks_run: Generation::default(),
            reading_guard: import::CancelOnDrop::default(),
        }
    }

    /// `true` when some file waits for a passphrase (the dialog shows the field).
    pub fn needs_passphrase(&self) -> bool {
        self.files.iter().any(|f| f.status.is_locked())
    }

    /// Why sending is not possible now, or `None` when it is.
    pub fn blocker(&self) -> Option<String> {
        if self.purpose.send_label().is_none() {
            return Some("inspection only".into());
        }
        if self.stage != ImportStage::Editing && self.stage != ImportStage::Confirming {
            return Some("already sent".into());
        }
        if self.files.is_empty() {
            return Some("add the certificate (and key) files".into());
        }
        if self.reading || self.checking {
            return Some("reading the files…".into());
        }
        if let Some(f) = self.files.iter().find(|f| f.status.is_locked()) {
            return Some(format!("{} needs its passphrase", f.name));
        }
        if let Some(f) = self
            .files
            .iter()
            .find(|f| matches!(f.status, FileStatus::Failed(_)))
        {
            return Some(format!("{} cannot be used: remove it", f.name));
        }
        if self.bundle.is_none() {
            return Some("nothing was read".into());
        }
        if let Some(c) = self.checks.iter().find(|c| c.verdict == Verdict::Fail) {
            return Some(format!("check failed: {}", c.name));
        }
        if self.date_problem.is_some() && !self.allow_expired {
            return Some("the certificate's dates need the explicit override".into());
        }
        None
    }

    /// The leaf certificate (first of the chain).
    pub fn leaf(&self) -> Option<&import::ImportedCertificate> {
        let bundle = self.bundle.as_ref()?;
        let chain = self.chain.as_ref()?;
        bundle.certificates.get(*chain.order.first()?)
    }
}

/// Background results of the import flow.
pub(crate) enum ImportEvent {
    /// The file dialog answered.
    Picked(Vec<PathBuf>),
    /// The file dialog answered with no file.
    NothingPicked,
    /// Files were read.
    Read {
        generation: Ticket,
        statuses: Vec<FileStatus>,
        bundle: Option<Bundle>,
    },
    /// Checks were computed.
    Checked {
        generation: Ticket,
        chain: Option<ChainReport>,
        checks: Vec<Check>,
        date_problem: Option<String>,
    },
    /// GetCertificate answered with the CSR.
    Csr {
        certificate_id: String,
        result: Result<String, Error>,
    },
    /// The upload answered.
    Sent {
        purpose: ImportPurpose,
        result: Result<Applied, Error>,
    },
}

/// What one file held, in a few words.
fn summary(bundle: &Bundle) -> String {
    let mut parts = Vec::new();
    match bundle.certificates.len() {
        0 => {}
        1 => parts.push("1 certificate".to_string()),
        n => parts.push(format!("{n} certificates")),
    }
    if let Some(key) = &bundle.key {
        parts.push(format!(
            "private key ({}{})",
            key.algorithm.label(),
            key.bits.map(|b| format!(", {b} bits")).unwrap_or_default()
        ));
    }
    if parts.is_empty() {
        "nothing usable".into()
    } else {
        parts.join(" + ")
    }
}

/// Reads and parses every file (blocking: runs on a worker). Returns each file's status and the
/// merge of the readable ones.
pub(crate) fn read_files(
    paths: &[PathBuf],
    passphrase: Option<&Secret>,
    cancel: &import::CancelFlag,
) -> (Vec<FileStatus>, Option<Bundle>) {
    let mut statuses = Vec::with_capacity(paths.len());
    let mut merged: Option<Bundle> = None;
    for path in paths {
        let name = import::display_name(path);
        let parsed = import::read_file(path)
            .and_then(|bytes| import::parse_cancellable(&name, &bytes, passphrase, cancel));
        let status = match parsed {
            Ok(bundle) => {
                let text = summary(&bundle);
                match merged.as_mut() {
                    None => {
                        merged = Some(bundle);
                        FileStatus::Read(text)
                    }
                    Some(all) => match all.merge(bundle) {
                        Ok(()) => FileStatus::Read(text),
                        Err(e) => FileStatus::Failed(e.to_string()),
                    },
                }
            }
            Err(e @ ImportError::NeedsPassphrase { .. }) => {
                FileStatus::NeedsPassphrase(e.to_string())
            }
            Err(e @ ImportError::WrongPassphrase { .. }) => {
                FileStatus::WrongPassphrase(e.to_string())
            }
            Err(e) => FileStatus::Failed(e.to_string()),
        };
        statuses.push(status);
    }
    (statuses, merged)
}

/// What the checks need from the flow.
#[derive(Debug, Clone)]
pub(crate) struct CheckInput {
    purpose: ImportPurpose,
    cert_name: String,
    allow_expired: bool,
    csr: CsrState,
    now: i64,
}

/// Runs the checks for a purpose (pure; on a worker). Dates are judged here: an expired or
/// not-yet-valid certificate is a warning that needs the explicit override.
pub(crate) fn run_checks(
    bundle: &Bundle,
    input: &CheckInput,
) -> (Option<ChainReport>, Vec<Check>, Option<String>) {
    let (domain, cert_name, needs_key) = match &input.purpose {
        ImportPurpose::Inspect => (None, None, false),
        ImportPurpose::VodReplace { domain, .. } => {
            (Some(domain.clone()), Some(input.cert_name.clone()), true)
        }
        ImportPurpose::KmsUpload { .. } => (None, None, false),
    };
    let target = Target {
        domain,
        cert_name,
        needs_key,
        allow_invalid_dates: true,
        now: input.now,
    };
    let chain = import::order_chain(bundle);
    let mut checks = import::check(bundle, &target);
    let leaf = chain
        .as_ref()
        .and_then(|c| bundle.certificates.get(c.order[0]));
    let date_problem = leaf.and_then(|l| match l.info.validity_at(input.now) {
        ValidityState::Expired { days_ago } => Some(format!("expired {days_ago} days ago")),
        ValidityState::NotYetValid => Some("not valid yet".to_string()),
        ValidityState::Valid { .. } => None,
    });
    if let Some(problem) = &date_problem
        && let Some(c) = checks.iter_mut().find(|c| c.name == "validity")
    {
        c.verdict = Verdict::Warn;
        c.detail = if input.allow_expired {
            format!("{problem} (override accepted)")
        } else {
            format!("{problem}: sending it needs the explicit override")
        };
    }
    if let ImportPurpose::KmsUpload { .. } = input.purpose {
        checks.push(match &input.csr {
            CsrState::Ready(key) => import::csr_key_check(bundle, key),
            CsrState::Loading | CsrState::NotNeeded => Check {
                name: "public key matches CSR",
                verdict: Verdict::Fail,
                detail: "waiting for the certificate request (GetCertificate)".into(),
            },
            CsrState::Failed(e) => Check {
                name: "public key matches CSR",
                verdict: Verdict::Fail,
                detail: format!("the certificate request could not be read: {e}"),
            },
        });
        if bundle.key.is_some() {
            checks.push(Check {
                name: "private key",
                verdict: Verdict::Warn,
                detail: "KMS keeps its own private key: the imported key is not sent".into(),
            });
        }
    }
    (chain, checks, date_problem)
}

/// A certificate name from the leaf's CN and today's date (`www.example.com-20261126`).
fn default_cert_name(bundle: &Bundle, chain: Option<&ChainReport>, now: i64) -> String {
    let leaf = chain.and_then(|c| bundle.certificates.get(c.order[0]));
    let cn = leaf
        .and_then(|l| l.info.common_name.clone())
        .unwrap_or_else(|| "certificate".into());
    let cn: String = cn
        .replace('*', "wildcard")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let date = time::OffsetDateTime::from_unix_timestamp(now)
        .map(|t| format!("{:04}{:02}{:02}", t.year(), t.month() as u8, t.day()))
        .unwrap_or_default();
    let mut name = format!("{cn}-{date}");
    name.truncate(import::MAX_CERT_NAME_CHARS);
    name
}

type Ctx<'a, 'b> = &'a mut Cx<'b, ImportEvent>;

impl ImportState {
    /// Applies one import action. For [`ImportAction::Open`], `target` is the account and region
    /// of the row the files go to, and `known_csr` a CSR certdesk already has (id, PEM).
    pub(crate) fn apply(
        &mut self,
        action: ImportAction,
        target: Option<ScopeId>,
        known_csr: Option<(String, String)>,
        cx: Ctx<'_, '_>,
    ) {
        match action {
            ImportAction::Open(purpose) => {
                self.open_import(purpose, target.unwrap_or(0), known_csr, cx)
            }
            ImportAction::PickFiles => self.pick_import_files(cx),
            ImportAction::AddFiles(paths) => self.add_import_files(paths, cx),
            ImportAction::SetTypedPath(text) => {
                if let Some(flow) = self.flow.as_mut() {
                    flow.typed_path = text;
                }
            }
            ImportAction::AddTypedPath => {
                let Some(flow) = self.flow.as_mut() else {
                    return;
                };
                let typed = std::mem::take(&mut flow.typed_path);
                if let Some(path) = typed_path(&typed) {
                    self.add_import_files(vec![path], cx);
                }
            }
            ImportAction::RemoveFile(i) => {
                let Some(flow) = self.editable() else {
                    return;
                };
                if i < flow.files.len() {
                    flow.files.remove(i);
                    self.read_import_files(cx);
                }
            }
            ImportAction::SetPassphrase(p) => {
                if let Some(flow) = self.flow.as_mut() {
                    flow.passphrase = p;
                }
            }
            ImportAction::Unlock => {
                if self.editable().is_some() {
                    self.read_import_files(cx);
                }
            }
            ImportAction::SetCertName(name) => {
                if let Some(flow) = self.editable() {
                    flow.cert_name = name;
                    flow.cert_name_edited = true;
                    self.check_import(cx);
                }
            }
            ImportAction::SetAllowExpired(allow) => {
                if let Some(flow) = self.editable() {
                    flow.allow_expired = allow;
                    self.check_import(cx);
                }
            }
            ImportAction::RequestSend => {
                if let Some(flow) = self.flow.as_mut()
                    && flow.stage == ImportStage::Editing
                    && flow.blocker().is_none()
                {
                    flow.stage = ImportStage::Confirming;
                }
            }
            ImportAction::BackToEdit => {
                if let Some(flow) = self.flow.as_mut()
                    && flow.stage == ImportStage::Confirming
                {
                    flow.stage = ImportStage::Editing;
                }
            }
            ImportAction::ConfirmSend => self.send_import(cx),
            ImportAction::Close => {
                // A request in flight still finishes (and is audited); only its dialog goes.
                self.flow = None;
            }
        }
    }

    /// The flow, when files may still change (editing or confirming; a confirmation goes back
    /// to editing).
    fn editable(&mut self) -> Option<&mut ImportFlow> {
        let flow = self.flow.as_mut()?;
        match flow.stage {
            ImportStage::Editing => Some(flow),
            ImportStage::Confirming => {
                flow.stage = ImportStage::Editing;
                Some(flow)
            }
            ImportStage::Sending | ImportStage::Done(_) => None,
        }
    }

    fn open_import(
        &mut self,
        purpose: ImportPurpose,
        scope: ScopeId,
        known_csr: Option<(String, String)>,
        cx: Ctx<'_, '_>,
    ) {
        if self
            .flow
            .as_ref()
            .is_some_and(|f| f.stage == ImportStage::Sending)
        {
            cx.notice(
                NoticeLevel::Error,
                "An upload is still running; wait for its answer first.",
            );
            return;
        }
        let mut flow = ImportFlow::new(purpose.clone());
        flow.scope = scope;
        if let ImportPurpose::KmsUpload { certificate_id } = &purpose {
            let created_csr = match known_csr {
                Some((id, csr)) if &id == certificate_id => Some(csr),
                _ => None,
            };
            match created_csr {
                Some(csr) => {
                    flow.csr = match import::csr_public_key(&csr) {
                        Ok(key) => CsrState::Ready(key),
                        Err(e) => CsrState::Failed(e),
                    }
                }
                None => {
                    let id = certificate_id.clone();
                    let source = Arc::clone(&cx.shared.source);
                    cx.tasks.spawn(async move {
                        let result = source.kms_csr(scope, &id).await;
                        ImportEvent::Csr {
                            certificate_id: id,
                            result,
                        }
                    });
                }
            }
        }
        self.flow = Some(flow);
    }

    fn pick_import_files(&mut self, cx: Ctx<'_, '_>) {
        if self.flow.is_none() {
            self.open_import(ImportPurpose::Inspect, 0, None, cx);
        }
        cx.tasks.spawn(async move {
            let picked = rfd::AsyncFileDialog::new()
                .set_title("Import certificate, key or PKCS#12 files")
                .add_filter(
                    "Certificates and keys",
                    &["pem", "crt", "cer", "der", "key", "p12", "pfx", "p8", "pk8"],
                )
                .add_filter("All files", &["*"])
                .pick_files()
                .await;
            match picked {
                Some(handles) => {
                    ImportEvent::Picked(handles.iter().map(|h| h.path().to_path_buf()).collect())
                }
                // Cancelled, or no chooser could be shown: rfd answers the same to both (on Linux
                // without xdg-desktop-portal and zenity it fails after a D-Bus timeout).
                None => ImportEvent::NothingPicked,
            }
        });
    }

    fn add_import_files(&mut self, paths: Vec<PathBuf>, cx: Ctx<'_, '_>) {
        if paths.is_empty() {
            return;
        }
        if self.flow.is_none() {
            self.open_import(ImportPurpose::Inspect, 0, None, cx);
        }
        let Some(flow) = self.editable() else {
            cx.notice(
                NoticeLevel::Error,
                "The import was already sent; close it to import other files.",
            );
            return;
        };
        flow.nothing_picked = false;
        for path in paths {
            if !flow.files.iter().any(|f| f.path == path) {
                flow.files.push(ImportFile {
                    name: import::display_name(&path),
                    path,
                    status: FileStatus::Reading,
                });
            }
        }
        self.read_import_files(cx);
    }

    /// Reads every file of the flow again (with the passphrase) on a worker.
    fn read_import_files(&mut self, cx: Ctx<'_, '_>) {
        let Some(flow) = self.flow.as_mut() else {
            return;
        };
        let generation = flow.reads.start();
        flow.checks_run.start();
        flow.checking = false;
        let paths: Vec<PathBuf> = flow.files.iter().map(|f| f.path.clone()).collect();
        if paths.is_empty() {
            flow.reading = false;
            flow.bundle = None;
            flow.chain = None;
            flow.checks.clear();
            flow.date_problem = None;
            return;
        }
        flow.reading = true;
        for f in &mut flow.files {
            f.status = FileStatus::Reading;
        }
        let passphrase = Some(flow.passphrase.clone()).filter(|p| !p.is_empty());
        let cancel = import::CancelFlag::new();
        flow.reading_guard = cancel.cancel_on_drop();
        cx.tasks.spawn_blocking(move || {
            let (statuses, bundle) = read_files(&paths, passphrase.as_ref(), &cancel);
            ImportEvent::Read {
                generation,
                statuses,
                bundle,
            }
        });
    }

    /// Recomputes the checks on a worker (after the files, the name, the override or the CSR
    /// changed).
    fn check_import(&mut self, cx: Ctx<'_, '_>) {
        let Some(flow) = self.flow.as_mut() else {
            return;
        };
        if flow.reading {
            // The checks run when the files arrive.
            return;
        }
        let Some(bundle) = flow.bundle.clone() else {
            return;
        };
        let generation = flow.checks_run.start();
        flow.checking = true;
        let input = CheckInput {
            purpose: flow.purpose.clone(),
            cert_name: flow.cert_name.clone(),
            allow_expired: flow.allow_expired,
            csr: flow.csr.clone(),
            now: now_unix(),
        };
        cx.tasks.spawn_blocking(move || {
            let (chain, checks, date_problem) = run_checks(&bundle, &input);
            ImportEvent::Checked {
                generation,
                chain,
                checks,
                date_problem,
            }
        });
    }

    fn send_import(&mut self, cx: Ctx<'_, '_>) {
        let journal = Arc::clone(&cx.shared.journal);
        let Some(flow) = self.flow.as_mut() else {
            return;
        };
        if flow.stage != ImportStage::Confirming || flow.blocker().is_some() {
            return;
        }
        let (Some(bundle), Some(chain)) = (flow.bundle.clone(), flow.chain.clone()) else {
            return;
        };
        let Some(leaf) = flow.leaf().cloned() else {
            return;
        };
        let purpose = flow.purpose.clone();
        let (service, target, request) = match &purpose {
            ImportPurpose::Inspect => return,
            ImportPurpose::VodReplace { domain, .. } => {
                let Some(key) = bundle.key.as_ref() else {
                    return;
                };
                let upload = CertificateUpload {
                    cert_name: flow.cert_name.trim().to_string(),
                    certificate_pem: bundle.chain_pem(&chain),
                    private_key: key.to_pkcs8_pem(),
                };
                (
                    Service::Vod,
                    domain.clone(),
                    ChangeRequest::SetCertificate(upload),
                )
            }
            ImportPurpose::KmsUpload { certificate_id } => {
                let rest: String = chain
                    .order
                    .iter()
                    .skip(1)
                    .filter_map(|&i| bundle.certificates.get(i))
                    .map(|c| c.info.pem.clone())
                    .collect();
                (
                    Service::Kms,
                    certificate_id.clone(),
                    ChangeRequest::UploadCertificate {
                        certificate_pem: leaf.info.pem.clone(),
                        chain_pem: Some(rest).filter(|r| !r.trim().is_empty()),
                    },
                )
            }
        };
        flow.stage = ImportStage::Sending;
        let note = format!(
            "certificate {} SHA-256 {}",
            leaf.info
                .common_name
                .clone()
                .unwrap_or_else(|| leaf.info.subject.clone()),
            leaf.info.sha256.hex()
        );
        let item = BulkItem {
            service,
            id: target.clone(),
            site_id: None,
            name: target,
        };
        let principal = cx.shared.principal(flow.scope);
        let backend = cx.shared.source.changes(flow.scope);
        cx.tasks.spawn(async move {
            // `request` (and the key in it) is dropped, and zeroized, when this task ends.
            let result =
                crate::jobs::single::apply(journal, backend, &principal, item, request, Some(note))
                    .await;
            ImportEvent::Sent { purpose, result }
        });
    }

    /// Applies a background result of the import flow.
    /// Applies a result of background work; a successful send returns what to show in its row
    /// (the pane, the provider id, the status now).
    pub(crate) fn handle(&mut self, event: ImportEvent, cx: Ctx<'_, '_>) -> Option<ImportSent> {
        match event {
            ImportEvent::Picked(paths) => self.add_import_files(paths, cx),
            ImportEvent::NothingPicked => {
                if let Some(flow) = self.flow.as_mut() {
                    flow.nothing_picked = true;
                }
            }
            ImportEvent::Read {
                generation,
                statuses,
                bundle,
            } => {
                let flow = self.flow.as_mut()?;
                if !flow.reads.is_current(generation) {
                    return None;
                }
                flow.reading = false;
                for (file, status) in flow.files.iter_mut().zip(statuses) {
                    file.status = status;
                }
                flow.bundle = bundle.map(Arc::new);
                flow.chain = None;
                flow.checks.clear();
                flow.date_problem = None;
                if let Some(bundle) = &flow.bundle
                    && !flow.cert_name_edited
                    && matches!(flow.purpose, ImportPurpose::VodReplace { .. })
                {
                    let chain = import::order_chain(bundle);
                    flow.cert_name = default_cert_name(bundle, chain.as_ref(), now_unix());
                }
                self.check_import(cx);
            }
            ImportEvent::Checked {
                generation,
                chain,
                checks,
                date_problem,
            } => {
                let flow = self.flow.as_mut()?;
                if !flow.checks_run.is_current(generation) {
                    return None;
                }
                flow.checking = false;
                flow.chain = chain;
                flow.checks = checks;
                flow.date_problem = date_problem;
            }
            ImportEvent::Csr {
                certificate_id,
                result,
            } => {
                let flow = self.flow.as_mut()?;
                if flow.purpose
                    != (ImportPurpose::KmsUpload {
                        certificate_id: certificate_id.clone(),
                    })
                {
                    return None;
                }
                flow.csr = match result {
                    Ok(csr) => match import::csr_public_key(&csr) {
                        Ok(key) => CsrState::Ready(key),
                        Err(e) => CsrState::Failed(e),
                    },
                    Err(e) => CsrState::Failed(e.to_string()),
                };
                self.check_import(cx);
            }
            ImportEvent::Sent { purpose, result } => return self.import_sent(purpose, result, cx),
        }
        None
    }

    fn import_sent(
        &mut self,
        purpose: ImportPurpose,
        result: Result<Applied, Error>,
        cx: Ctx<'_, '_>,
    ) -> Option<ImportSent> {
        let what = match &purpose {
            ImportPurpose::VodReplace { domain, .. } => {
                format!("The certificate of {domain} was replaced; HTTPS is on")
            }
            ImportPurpose::KmsUpload { certificate_id } => {
                format!("The signed certificate of KMS {certificate_id} was uploaded")
            }
            ImportPurpose::Inspect => String::new(),
        };
        let stage = match &result {
            Ok(outcome) => ImportStage::Done(Ok(outcome.request_id.clone())),
            Err(e) => ImportStage::Done(Err(e.clone())),
        };
        if let Some(flow) = self.flow.as_mut()
            && flow.purpose == purpose
            && flow.stage == ImportStage::Sending
        {
            flow.stage = stage;
            // The key and the passphrase are not needed any more: drop (and so zeroize) them
            // now rather than when the dialog closes.
            flow.bundle = None;
            flow.passphrase = Secret::default();
        }
        match result {
            Err(e) => {
                cx.notice(
                    NoticeLevel::Error,
                    format!("{} failed: {e}", purpose.title()),
                );
                None
            }
            Ok(outcome) => {
                cx.notice(
                    NoticeLevel::Info,
                    format!(
                        "{what}{}",
                        outcome
                            .request_id
                            .as_ref()
                            .map(|r| format!(" (RequestId {r})"))
                            .unwrap_or_default()
                    ),
                );
                let (key, id) = purpose.pane_key()?;
                Some(ImportSent {
                    key,
                    id,
                    status: outcome.status,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fake::{FakeSource, app_over};
    use crate::app::{Action, AppState, Workspace};
    use crate::store::Store;
    use std::path::Path;
    use std::sync::Mutex;
    use std::time::Duration;

    struct Rig {
        _runtime: tokio::runtime::Runtime,
        fake: FakeSource,
        app: AppState,
        dir: tempfile::TempDir,
    }

    fn rig() -> Rig {
        let fake = FakeSource::generated(8);
        let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
        let (runtime, mut app) = app_over(
            fake.clone(),
            Workspace::single("test", false, "fake"),
            Some(store),
            false,
        );
        app.set_journal(Arc::new(Mutex::new(
            crate::store::journal::Journal::in_memory().unwrap(),
        )));
        let mut rig = Rig {
            _runtime: runtime,
            fake,
            app,
            dir: tempfile::tempdir().unwrap(),
        };
        rig.act(Action::Refresh(PaneKey::service(Service::Vod)));
        rig
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import")
            .join(name)
    }

    impl Rig {
        fn act(&mut self, action: Action) {
            self.app.apply(action);
            assert!(self.app.wait_idle(Duration::from_secs(30)), "not idle");
        }

        fn import(&mut self, action: ImportAction) {
            self.act(Action::Import(action));
        }

        fn flow(&self) -> &ImportFlow {
            self.app.import.flow.as_ref().expect("the dialog is open")
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        }

        /// A self-signed certificate for `domain` (valid from `days` ago for a year) and its key.
        fn pair(&self, stem: &str, domain: &str, start_days_ago: i64) -> (PathBuf, PathBuf) {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(vec![domain.to_string()]).unwrap();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, domain);
            let start = time::OffsetDateTime::now_utc() - time::Duration::days(start_days_ago);
            params.not_before = start;
            params.not_after = start + time::Duration::days(365);
            let cert = params.self_signed(&key).unwrap();
            (
                self.write(&format!("{stem}.pem"), &cert.pem()),
                self.write(&format!("{stem}.key"), &key.serialize_pem()),
            )
        }

        fn vod_calls(&self) -> Vec<String> {
            self.fake
                .calls()
                .into_iter()
                .filter(|c| c.starts_with("vod set-certificate") || c.starts_with("kms upload"))
                .collect()
        }

        fn audit(&self) -> Vec<crate::store::journal::AuditEntry> {
            let journal = self.app.journal().clone();
            journal.lock().unwrap().audit(None).unwrap()
        }

        fn open_vod(&mut self) -> String {
            let domain = "cdn00002.example.com".to_string();
            self.import(ImportAction::Open(ImportPurpose::VodReplace {
                id: "vod-cdn-000002".into(),
                domain: domain.clone(),
            }));
            domain
        }

        /// Tries every way to send; returns whether the stage moved past editing.
        fn try_send(&mut self) {
            self.import(ImportAction::RequestSend);
            self.import(ImportAction::ConfirmSend);
        }
    }

    fn verdict(flow: &ImportFlow, name: &str) -> Verdict {
        flow.checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no check {name}: {:?}", flow.checks))
            .verdict
    }

    #[test]
    fn a_typed_path_is_trimmed_unquoted_and_expanded() {
        assert_eq!(typed_path("   "), None);
        assert_eq!(typed_path("\"\""), None);
        assert_eq!(
            typed_path("  /etc/ssl/a b.pem \n"),
            Some(PathBuf::from("/etc/ssl/a b.pem"))
        );
        assert_eq!(
            typed_path("\"/tmp/x.pem\""),
            Some(PathBuf::from("/tmp/x.pem"))
        );
        assert_eq!(
            typed_path("'/tmp/y.pem'"),
            Some(PathBuf::from("/tmp/y.pem"))
        );
        let home = directories::BaseDirs::new()
            .unwrap()
            .home_dir()
            .to_path_buf();
        assert_eq!(typed_path("~/certs/z.pem"), Some(home.join("certs/z.pem")));
        assert_eq!(
            typed_path("~user/z.pem"),
            Some(PathBuf::from("~user/z.pem"))
        );
    }

    #[test]
    fn a_typed_path_is_read_like_a_picked_file_and_a_missing_one_says_so() {
        let mut r = rig();
        let domain = r.open_vod();
        let (cert, _key) = r.pair("typed", &domain, 1);
        // The file dialog came back empty (cancelled, or none could be shown): the dialog says
        // how else files get in, until some do.
        r.app
            .deliver(crate::app::Event::Import(ImportEvent::NothingPicked));
        assert!(r.flow().nothing_picked);
        r.import(ImportAction::SetTypedPath(format!(
            "  \"{}\"  ",
            cert.display()
        )));
        r.import(ImportAction::AddTypedPath);
        let flow = r.flow();
        assert_eq!(flow.typed_path, "", "the field is cleared");
        assert!(!flow.nothing_picked);
        assert_eq!(flow.files.len(), 1);
        assert_eq!(flow.files[0].path, cert);
        assert!(matches!(&flow.files[0].status, FileStatus::Read(s) if s == "1 certificate"));

        let missing = r.dir.path().join("nope.pem");
        r.import(ImportAction::SetTypedPath(missing.display().to_string()));
        r.import(ImportAction::AddTypedPath);
        let flow = r.flow();
        assert_eq!(flow.files.len(), 2);
        assert!(
            matches!(&flow.files[1].status, FileStatus::Failed(e) if e.contains("nope.pem") || e.to_lowercase().contains("no such file")),
            "{:?}",
            flow.files[1].status
        );
    }

    #[test]
    fn a_vod_certificate_is_checked_confirmed_sent_audited_and_shown() {
        let mut r = rig();
        let vod = PaneKey::service(Service::Vod);
        assert_eq!(
            r.fake.status_of(Service::Vod, "vod-cdn-000002"),
            Some(crate::model::CertStatus::Inactive)
        );
        let domain = r.open_vod();
        let (cert, key) = r.pair("site", &domain, 1);
        r.import(ImportAction::AddFiles(vec![cert, key]));
        let flow = r.flow();
        assert!(matches!(&flow.files[0].status, FileStatus::Read(s) if s == "1 certificate"));
        assert!(
            matches!(&flow.files[1].status, FileStatus::Read(s) if s.starts_with("private key"))
        );
        assert_eq!(verdict(flow, "key matches certificate"), Verdict::Pass);
        assert_eq!(verdict(flow, "covers domain"), Verdict::Pass);
        assert!(
            flow.cert_name.starts_with("cdn00002.example.com-"),
            "{}",
            flow.cert_name
        );
        assert_eq!(flow.blocker(), None);

        // Nothing is sent before the confirmation.
        r.import(ImportAction::ConfirmSend);
        assert!(r.vod_calls().is_empty());
        r.import(ImportAction::SetCertName("site-2026".into()));
        r.import(ImportAction::RequestSend);
        assert_eq!(r.flow().stage, ImportStage::Confirming);
        r.import(ImportAction::ConfirmSend);
        assert_eq!(
            r.vod_calls(),
            vec![format!("vod set-certificate {domain} site-2026")]
        );
        assert_eq!(
            r.flow().stage,
            ImportStage::Done(Ok(Some("FAKE-REQUEST".into())))
        );
        // The key (and the passphrase) are dropped, so zeroized, once sent.
        assert!(r.flow().bundle.is_none());
        assert!(r.flow().passphrase.is_empty());
        // Sent once only: a second confirmation does nothing.
        r.import(ImportAction::ConfirmSend);
        assert_eq!(r.vod_calls().len(), 1);

        let audit = r.audit();
        assert_eq!(audit.len(), 1, "{audit:?}");
        assert_eq!(audit[0].operation.as_str(), "set-certificate");
        assert_eq!(audit[0].target, domain);
        assert_eq!(audit[0].result.as_str(), "applied");
        assert_eq!(audit[0].request_id.as_deref(), Some("FAKE-REQUEST"));
        assert!(!format!("{audit:?}").contains("PRIVATE KEY"));

        // The row and the detail show the new certificate.
        let pane = &r.app.inventory.panes[&vod];
        let row = pane.inventory.find("vod-cdn-000002").unwrap();
        assert_eq!(pane.inventory.status(row), crate::model::CertStatus::Active);
        let entry = &r.app.inventory.details[&(vod, "vod-cdn-000002".to_string())];
        let parsed = entry.parsed.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(parsed.common_name.as_deref(), Some(domain.as_str()));
        assert_eq!(pane.inventory.pem(row), entry.pem.as_deref());
    }

    #[test]
    fn bad_inputs_say_why_and_send_nothing() {
        let mut r = rig();
        let domain = r.open_vod();
        let (cert, _) = r.pair("site", &domain, 1);
        let (_, other_key) = r.pair("other", &domain, 1);

        // Mismatched pair.
        r.import(ImportAction::AddFiles(vec![cert.clone(), other_key]));
        assert_eq!(verdict(r.flow(), "key matches certificate"), Verdict::Fail);
        assert_eq!(
            r.flow().blocker().as_deref(),
            Some("check failed: key matches certificate")
        );
        r.try_send();
        assert_eq!(r.flow().stage, ImportStage::Editing);

        // A key without its certificate.
        r.import(ImportAction::RemoveFile(0));
        assert_eq!(verdict(r.flow(), "certificate present"), Verdict::Fail);
        assert!(
            r.flow().checks[0]
                .detail
                .contains("a private key without its certificate")
        );
        r.try_send();

        // A certificate without its key.
        r.import(ImportAction::RemoveFile(0));
        r.import(ImportAction::AddFiles(vec![cert.clone()]));
        assert_eq!(verdict(r.flow(), "key matches certificate"), Verdict::Fail);
        r.try_send();

        // Garbage, empty, not a certificate, unsupported algorithm: the importer's own message.
        for (name, says) in [
            (
                "garbage.bin",
                "is binary data that is not a DER certificate",
            ),
            ("empty.pem", "empty.pem is empty"),
            ("not-a-cert.txt", "holds no PEM block"),
            ("truncated.pem", "corrupted or truncated"),
            ("ed25519.key", "unsupported key algorithm"),
        ] {
            r.import(ImportAction::AddFiles(vec![fixture(name)]));
            let f = r.flow().files.last().unwrap();
            assert!(
                matches!(&f.status, FileStatus::Failed(m) if m.contains(says)),
                "{name}: {:?}",
                f.status
            );
            assert!(r.flow().blocker().unwrap().contains(name));
            r.try_send();
            r.import(ImportAction::RemoveFile(1));
        }
        // A 50 MB file is refused before it is read.
        let big = r.dir.path().join("huge.pem");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(50 * 1024 * 1024)
            .unwrap();
        r.import(ImportAction::AddFiles(vec![big]));
        assert!(
            matches!(&r.flow().files[1].status, FileStatus::Failed(m) if m.contains("52428800 bytes")),
            "{:?}",
            r.flow().files[1].status
        );
        r.try_send();
        assert!(r.vod_calls().is_empty());
        assert!(r.audit().is_empty());
    }

    #[test]
    fn the_wrong_domain_is_an_error() {
        let mut r = rig();
        r.open_vod();
        let (cert, key) = r.pair("site", "elsewhere.example.org", 1);
        r.import(ImportAction::AddFiles(vec![cert, key]));
        assert_eq!(verdict(r.flow(), "covers domain"), Verdict::Fail);
        r.try_send();
        assert!(r.vod_calls().is_empty());
    }

    #[test]
    fn an_expired_certificate_needs_the_override() {
        let mut r = rig();
        let domain = r.open_vod();
        let (cert, key) = r.pair("old", &domain, 400);
        r.import(ImportAction::AddFiles(vec![cert, key]));
        assert_eq!(verdict(r.flow(), "validity"), Verdict::Warn);
        assert!(
            r.flow()
                .date_problem
                .as_deref()
                .unwrap()
                .starts_with("expired")
        );
        assert_eq!(
            r.flow().blocker().as_deref(),
            Some("the certificate's dates need the explicit override")
        );
        r.try_send();
        assert!(r.vod_calls().is_empty());
        r.import(ImportAction::SetAllowExpired(true));
        assert!(
            r.flow()
                .checks
                .iter()
                .any(|c| c.detail.contains("override accepted"))
        );
        r.try_send();
        assert_eq!(r.vod_calls().len(), 1);
    }

    #[test]
    fn legacy_encrypted_pem_unlocks_in_the_dialog_and_empty_password_pkcs12_needs_nothing() {
        let mut r = rig();
        r.import(ImportAction::AddFiles(vec![
            fixture("leaf.pem"),
            fixture("legacy-aes128.key"),
        ]));
        assert!(r.flow().needs_passphrase());
        r.import(ImportAction::SetPassphrase(Secret::new("wrong")));
        r.import(ImportAction::Unlock);
        assert!(matches!(
            &r.flow().files[1].status,
            FileStatus::WrongPassphrase(_)
        ));
        r.import(ImportAction::SetPassphrase(Secret::new("correct-horse")));
        r.import(ImportAction::Unlock);
        assert!(!r.flow().needs_passphrase());
        assert_eq!(verdict(r.flow(), "key matches certificate"), Verdict::Pass);
        r.import(ImportAction::Close);
        r.import(ImportAction::AddFiles(vec![fixture("empty-password.p12")]));
        assert!(!r.flow().needs_passphrase(), "{:?}", r.flow().files);
        assert_eq!(verdict(r.flow(), "key matches certificate"), Verdict::Pass);
    }

    #[test]
    fn encrypted_keys_ask_for_the_passphrase_and_say_when_it_is_wrong() {
        let mut r = rig();
        r.import(ImportAction::AddFiles(vec![
            fixture("leaf.pem"),
            fixture("leaf-encrypted.key"),
        ]));
        // Dropped files open an inspection.
        assert_eq!(r.flow().purpose, ImportPurpose::Inspect);
        assert!(matches!(
            &r.flow().files[1].status,
            FileStatus::NeedsPassphrase(m) if m.contains("enter its passphrase")
        ));
        assert!(r.flow().needs_passphrase());
        r.import(ImportAction::SetPassphrase(Secret::new("nope")));
        r.import(ImportAction::Unlock);
        assert!(matches!(
            &r.flow().files[1].status,
            FileStatus::WrongPassphrase(m) if m.contains("wrong passphrase")
        ));
        r.import(ImportAction::SetPassphrase(Secret::new("correct-horse")));
        r.import(ImportAction::Unlock);
        assert!(!r.flow().needs_passphrase());
        assert_eq!(verdict(r.flow(), "key matches certificate"), Verdict::Pass);
        assert!(!format!("{:?}", r.flow()).contains("correct-horse"));
        // PKCS#12 with the same passphrase; chain order from a shuffled file.
        r.import(ImportAction::Close);
        assert!(r.app.import.flow.is_none());
        r.import(ImportAction::AddFiles(vec![fixture("chain-shuffled.pem")]));
        let flow = r.flow();
        let names: Vec<String> = flow
            .chain
            .as_ref()
            .unwrap()
            .order
            .iter()
            .map(|&i| {
                flow.bundle.as_ref().unwrap().certificates[i]
                    .info
                    .common_name
                    .clone()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            names,
            [
                "www.example.com",
                "certdesk test intermediate",
                "certdesk test root"
            ]
        );
    }

    /// A CSR for a fresh key, and certificates for that key and for another.
    fn csr_and_certs(r: &Rig) -> (String, PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["kms.example.com".to_string()]).unwrap();
        let csr = params.serialize_request(&key).unwrap().pem().unwrap();
        let good = params.clone().self_signed(&key).unwrap();
        let other = params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        (
            csr,
            r.write("signed.pem", &good.pem()),
            r.write("other.pem", &other.pem()),
        )
    }

    #[test]
    fn a_kms_upload_must_match_the_csr() {
        let mut r = rig();
        let (csr, good, other) = csr_and_certs(&r);
        r.fake.set_kms_csr("kms-000001", &csr);
        r.import(ImportAction::Open(ImportPurpose::KmsUpload {
            certificate_id: "kms-000001".into(),
        }));
        assert!(matches!(r.flow().csr, CsrState::Ready(_)));
        r.import(ImportAction::AddFiles(vec![other]));
        assert_eq!(verdict(r.flow(), "public key matches CSR"), Verdict::Fail);
        r.try_send();
        assert!(r.vod_calls().is_empty());
        r.import(ImportAction::RemoveFile(0));
        r.import(ImportAction::AddFiles(vec![good]));
        assert_eq!(verdict(r.flow(), "public key matches CSR"), Verdict::Pass);
        assert_eq!(r.flow().blocker(), None);
        r.try_send();
        assert_eq!(r.vod_calls(), vec!["kms upload kms-000001 chain=false"]);
        assert_eq!(r.audit()[0].operation.as_str(), "upload-certificate");

        // Without a CSR nothing can be checked, so nothing is sent.
        r.import(ImportAction::Open(ImportPurpose::KmsUpload {
            certificate_id: "kms-000002".into(),
        }));
        assert!(matches!(r.flow().csr, CsrState::Failed(_)));
        let (_, good, _) = csr_and_certs(&r);
        r.import(ImportAction::AddFiles(vec![good]));
        assert_eq!(verdict(r.flow(), "public key matches CSR"), Verdict::Fail);
        r.try_send();
        assert_eq!(r.vod_calls().len(), 1);
    }

    #[test]
    fn a_failed_audit_write_means_nothing_is_sent() {
        let mut r = rig();
        let domain = r.open_vod();
        let (cert, key) = r.pair("site", &domain, 1);
        r.import(ImportAction::AddFiles(vec![cert, key]));
        // Break the audit table so the next write fails.
        let journal = r.app.journal().clone();
        journal.lock().unwrap().break_audit_for_tests();
        r.try_send();
        assert!(r.vod_calls().is_empty());
        assert!(matches!(&r.flow().stage, ImportStage::Done(Err(e)) if e.code == "AuditFailed"));
    }
}
