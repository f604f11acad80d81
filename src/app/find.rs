//! Find everywhere: one text — a SHA-256 or SHA-1 fingerprint (any case, with or without
//! colons), a serial number (hex, with or without colons), an id, or a name fragment — searched
//! in every inventory of every account and region at once.
//!
//! A hit is exactly a row the hit's tab shows when its filter holds the same text: both use
//! [`text_matches`], so "open the tab filtered to it" never shows more or fewer rows than the
//! find listed. The window's find ([`FindState`]) lists the cached rows at once (the search runs
//! on a worker over snapshots of every inventory), then checks each hit live with a describe
//! call. Knows nothing of egui; the CLI's `find` uses the same search.

use super::context::{Cx, ScopeId};
use super::inventory::view::{Cancel, text_matches};
use super::inventory::{Inventories, Inventory, PaneKey, RowId};
use super::runtime::{Generation, Ticket};
use crate::model::{CertStatus, Error, ErrorKind, Service};
use std::collections::HashMap;

/// What a find text looks like, to say what was searched ("SHA-256 fingerprint", …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// 64 hex digits: a SHA-256 fingerprint.
    Sha256,
    /// 40 hex digits: a SHA-1 fingerprint.
    Sha1,
    /// Other hex (colons allowed): a serial number, or part of an id or fingerprint.
    Hex,
    /// Anything else: an id or a name fragment.
    Text,
}

impl QueryKind {
    /// The kind of `text`, once trimmed.
    pub fn of(text: &str) -> QueryKind {
        let hex: String = text
            .trim()
            .chars()
            .filter(|&c| c != ':' && c != ' ')
            .collect();
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return QueryKind::Text;
        }
        match hex.len() {
            64 => QueryKind::Sha256,
            40 => QueryKind::Sha1,
            _ => QueryKind::Hex,
        }
    }

    /// What was searched, for the results' heading.
    pub fn label(self) -> &'static str {
        match self {
            QueryKind::Sha256 => "SHA-256 fingerprint",
            QueryKind::Sha1 => "SHA-1 fingerprint",
            QueryKind::Hex => "serial number, id or fingerprint",
            QueryKind::Text => "id or name",
        }
    }
}

/// One row that matched, with what a results list shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The inventory (tab) it is in.
    pub pane: PaneKey,
    /// Its row there (valid until that inventory changes).
    pub row: RowId,
    /// Its account and region.
    pub scope: ScopeId,
    /// Provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Status as last read.
    pub status: CertStatus,
    /// Expiry (Unix seconds), when known.
    pub not_after: Option<i64>,
    /// SHA-256 fingerprint (lower-case hex), when known.
    pub sha256: Option<String>,
}

impl Hit {
    /// The service the hit belongs to.
    pub fn service(&self) -> Service {
        self.pane.service
    }
}

/// Every row of every inventory that matches `text` (the table filter's rules), by service, then
/// account and region, then name. Rows marked removed (deleted since the last refresh) are left
/// out. `None` when `cancel` fired; an empty or blank text finds nothing.
pub fn search(inventories: &Inventories, text: &str, cancel: &Cancel) -> Option<Vec<Hit>> {
    search_in(&snapshot(inventories), text, cancel)
}

/// Every pane's inventory (cheap clones of shared columns), for a search off the UI thread.
pub fn snapshot(inventories: &Inventories) -> Vec<(PaneKey, Inventory)> {
    let mut panes: Vec<(PaneKey, Inventory)> = inventories
        .panes
        .iter()
        .map(|(k, p)| (*k, p.inventory.clone()))
        .collect();
    panes.sort_by_key(|(k, _)| *k);
    panes
}

/// [`search`] over snapshots of the inventories.
pub fn search_in(panes: &[(PaneKey, Inventory)], text: &str, cancel: &Cancel) -> Option<Vec<Hit>> {
    let text = text.trim();
    if text.is_empty() {
        return Some(Vec::new());
    }
    let mut hits = Vec::new();
    for (key, inventory) in panes {
        let key = *key;
        let Some(rows) = text_matches(inventory.data(), text, cancel)? else {
            continue;
        };
        hits.extend(
            rows.iter()
                .filter(|&row| (row as usize) < inventory.len() && !inventory.is_removed(row))
                .map(|row| Hit {
                    pane: key,
                    row,
                    scope: inventory.scope(row),
                    id: inventory.id(row).to_string(),
                    name: inventory.name(row).to_string(),
                    status: inventory.status(row),
                    not_after: inventory.not_after(row),
                    sha256: inventory.fingerprint(row).map(normalise_hex),
                }),
        );
    }
    hits.sort_by(|a, b| (a.pane, a.scope, &a.name, &a.id).cmp(&(b.pane, b.scope, &b.name, &b.id)));
    Some(hits)
}

/// Hits checked live at most (each is one describe call); the others show their cached state.
pub const LIVE_CHECK_LIMIT: usize = 50;

/// What a describe call said of a hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveCheck {
    /// The call is running.
    Checking,
    /// The certificate exists; its status now (as the provider writes it, and classified).
    Confirmed(String, CertStatus),
    /// The provider does not know it any more.
    Gone,
    /// The call failed (the cached state stays shown).
    Failed(Error),
}

/// Finished work of the find.
pub(crate) enum FindEvent {
    /// The cached rows that match.
    Searched(Ticket, Option<Vec<Hit>>),
    /// A hit checked live.
    Checked(Ticket, usize, LiveCheck),
}

/// What the find field and its results can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindAction {
    /// The text in the field changed.
    SetText(String),
    /// Search every inventory for the text (Enter).
    Search,
    /// Close the results.
    Close,
}

/// The find field and its results.
#[derive(Debug, Default)]
pub struct FindState {
    /// The text in the field.
    pub text: String,
    /// The text the shown hits were found for.
    pub searched: String,
    /// The hits, cached state (`None` while the search runs).
    pub hits: Option<Vec<Hit>>,
    /// Live checks of the first [`LIVE_CHECK_LIMIT`] hits, by position in `hits`.
    pub live: HashMap<usize, LiveCheck>,
    /// The results are shown.
    pub open: bool,
    searches: Generation,
}

type Ctx<'a, 'b> = &'a mut Cx<'b, FindEvent>;

impl FindState {
    /// Applies an action (`inventories`: what is searched).
    pub(crate) fn apply(&mut self, action: FindAction, inventories: &Inventories, cx: Ctx<'_, '_>) {
        match action {
            FindAction::SetText(text) => self.text = text,
            FindAction::Close => self.open = false,
            FindAction::Search => self.search(inventories, cx),
        }
    }

    fn search(&mut self, inventories: &Inventories, cx: Ctx<'_, '_>) {
        let text = self.text.trim().to_string();
        if text.is_empty() {
            return;
        }
        self.open = true;
        self.searched = text.clone();
        self.hits = None;
        self.live.clear();
        let id = self.searches.start();
        let panes = snapshot(inventories);
        cx.tasks.spawn_blocking(move || {
            FindEvent::Searched(id, search_in(&panes, &text, &Cancel::never()))
        });
    }

    /// Applies finished work; checks the first hits live once the cached ones are in.
    pub(crate) fn handle(&mut self, event: FindEvent, cx: Ctx<'_, '_>) {
        match event {
            FindEvent::Searched(id, hits) if self.searches.is_current(id) => {
                let hits = hits.unwrap_or_default();
                for (i, hit) in hits.iter().take(LIVE_CHECK_LIMIT).enumerate() {
                    self.live.insert(i, LiveCheck::Checking);
                    let call = cx.shared.source.describe(
                        hit.scope,
                        hit.pane.service,
                        &hit.id,
                        hit.pane.site_id,
                    );
                    cx.tasks.spawn(async move {
                        let check = match call.await {
                            Ok(detail) => LiveCheck::Confirmed(
                                detail.row.raw_status.clone(),
                                detail.row.status,
                            ),
                            Err(e) if e.kind == ErrorKind::NotFound => LiveCheck::Gone,
                            Err(e) => LiveCheck::Failed(e),
                        };
                        FindEvent::Checked(id, i, check)
                    });
                }
                self.hits = Some(hits);
            }
            FindEvent::Checked(id, i, check) if self.searches.is_current(id) => {
                self.live.insert(i, check);
            }
            // A newer search replaced this one.
            FindEvent::Searched(..) | FindEvent::Checked(..) => {}
        }
    }
}

/// Lower-case hex without colons or spaces, the form fingerprints are printed in.
pub fn normalise_hex(hex: &str) -> String {
    hex.chars()
        .filter(|&c| c != ':' && c != ' ')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_classified_by_their_hex_length() {
        let sha256 = "AB:".repeat(31) + "AB";
        assert_eq!(QueryKind::of(&sha256), QueryKind::Sha256);
        assert_eq!(QueryKind::of(&"0f".repeat(20)), QueryKind::Sha1);
        assert_eq!(QueryKind::of(" 01:02:0a "), QueryKind::Hex);
        assert_eq!(QueryKind::of("example.com"), QueryKind::Text);
        assert_eq!(QueryKind::of(":::"), QueryKind::Text);
    }

    #[test]
    fn hex_is_printed_lower_case_without_colons() {
        assert_eq!(normalise_hex("AB:cd:EF"), "abcdef");
    }
}
