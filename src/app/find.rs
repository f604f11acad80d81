//! Find everywhere: one text — a SHA-256 or SHA-1 fingerprint (any case, with or without
//! colons), a serial number (hex, with or without colons), an id, or a name fragment — searched
//! in every inventory of every account and region at once.
//!
//! A hit is exactly a row the hit's tab shows when its filter holds the same text: both use
//! [`text_matches`], so "open the tab filtered to it" never shows more or fewer rows than the
//! find listed. Knows nothing of egui; the CLI's `find` uses the same search.

use super::context::ScopeId;
use super::inventory::view::{Cancel, text_matches};
use super::inventory::{Inventories, PaneKey, RowId};
use crate::model::{CertStatus, Service};

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
    let text = text.trim();
    if text.is_empty() {
        return Some(Vec::new());
    }
    let mut keys: Vec<PaneKey> = inventories.panes.keys().copied().collect();
    keys.sort();
    let mut hits = Vec::new();
    for key in keys {
        let inventory = &inventories.panes[&key].inventory;
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
