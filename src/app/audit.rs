//! The Audit tab's data: every change certdesk made, read from the journal off the UI thread,
//! filtered by text, newest first, exported to CSV. Re-read after a change when it has been shown.
//! Knows nothing of egui.

use super::context::{Cx, NoticeLevel};
use crate::store::audit_chain::ChainReport;
use crate::store::journal::{AuditEntry, write_audit_csv};
use std::sync::Arc;

/// What the Audit tab can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditAction {
    /// Read the audit log again.
    Refresh,
    /// Filter the audit log.
    SetFilter(String),
    /// Save the shown audit entries as CSV (file dialog).
    Export,
}

/// The audit log as read, and its hash chain as checked in the same read.
pub(crate) struct AuditRead {
    entries: Result<Vec<AuditEntry>, String>,
    chain: Result<ChainReport, String>,
}

/// The Audit tab's data.
#[derive(Debug, Clone, Default)]
pub struct AuditView {
    /// Every entry, oldest first.
    pub entries: Vec<AuditEntry>,
    /// Positions of the entries the filter shows, newest first.
    pub shown: Vec<usize>,
    /// The text filter.
    pub filter: String,
    /// A read is running.
    pub loading: bool,
    /// Read at least once.
    pub loaded: bool,
    /// The read failed.
    pub error: Option<String>,
    /// The hash chain's state, checked with every read ([`ChainReport::summary`] says it in one
    /// line); `None` until checked.
    pub chain: Option<Result<ChainReport, String>>,
}

fn audit_matches(e: &AuditEntry, needle: &str) -> bool {
    [
        e.profile.as_str(),
        e.provider.code(),
        e.service.code(),
        e.operation.as_str(),
        &e.target,
        e.result.as_str(),
        e.code.as_deref().unwrap_or(""),
        e.request_id.as_deref().unwrap_or(""),
        e.job_id.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|f| f.to_lowercase().contains(needle))
}

type Ctx<'a, 'b> = &'a mut Cx<'b, AuditRead>;

impl AuditView {
    fn refilter(&mut self) {
        let needle = self.filter.trim().to_lowercase();
        self.shown = (0..self.entries.len())
            .rev()
            .filter(|&i| needle.is_empty() || audit_matches(&self.entries[i], &needle))
            .collect();
    }

    /// Applies an action of the tab.
    pub(crate) fn apply(&mut self, action: AuditAction, cx: Ctx<'_, '_>) {
        match action {
            AuditAction::Refresh => self.load(cx),
            AuditAction::SetFilter(text) => {
                self.filter = text;
                self.refilter();
            }
            AuditAction::Export => {
                let entries: Vec<AuditEntry> = self
                    .shown
                    .iter()
                    .rev()
                    .filter_map(|&i| self.entries.get(i).cloned())
                    .collect();
                super::bulk::save_csv(cx.quiet, "certdesk-audit.csv".into(), move |out| {
                    write_audit_csv(&entries, out)
                });
            }
        }
    }

    /// Reads the audit log (once at a time).
    pub(crate) fn load(&mut self, cx: Ctx<'_, '_>) {
        if self.loading {
            return;
        }
        self.loading = true;
        let journal = Arc::clone(&cx.shared.journal);
        cx.tasks.spawn_blocking(move || {
            let Ok(journal) = journal.lock() else {
                let gone = "the journal is unavailable".to_string();
                return AuditRead {
                    entries: Err(gone.clone()),
                    chain: Err(gone),
                };
            };
            AuditRead {
                entries: journal.audit(None).map_err(|e| e.to_string()),
                chain: journal.verify_audit().map_err(|e| e.to_string()),
            }
        });
    }

    /// Reads the audit log the first time its tab is shown.
    pub(crate) fn ensure_loaded(&mut self, cx: Ctx<'_, '_>) {
        if !self.loaded {
            self.load(cx);
        }
    }

    /// Reads the audit log again if the tab has shown it (after a change was recorded).
    pub(crate) fn refresh_if_shown(&mut self, cx: Ctx<'_, '_>) {
        if self.loaded {
            self.load(cx);
        }
    }

    /// Applies a read.
    pub(crate) fn handle(&mut self, read: AuditRead, cx: Ctx<'_, '_>) {
        self.loading = false;
        self.loaded = true;
        self.chain = Some(read.chain);
        match read.entries {
            Ok(entries) => {
                self.entries = entries;
                self.error = None;
                self.refilter();
            }
            Err(e) => {
                cx.notice(
                    NoticeLevel::Error,
                    format!("Reading the audit log failed: {e}"),
                );
                self.error = Some(e);
            }
        }
    }
}
