//! The layout of every inventory tab: the detail panel on the right, the certificate table (with
//! its toolbar) in the rest. A tab configures it with a [`TableConfig`]; the expiry thresholds
//! come from the app state.

use super::cert_table::{self, TableConfig};
use super::detail_panel;
use crate::app::{Action, AppState, PaneKey};
use eframe::egui;

/// Draws `key`'s pane (a spinner until it exists).
pub fn show(
    ui: &mut egui::Ui,
    state: &AppState,
    key: PaneKey,
    config: &TableConfig,
    actions: &mut Vec<Action>,
) {
    let Some(pane) = state.inventory.panes.get(&key) else {
        ui.spinner();
        return;
    };
    egui::Panel::right(("detail", key.service, key.site_id))
        .resizable(true)
        .default_size(380.0)
        .show(ui, |ui| detail_panel::show(ui, state, key, actions));
    cert_table::show(
        ui,
        pane,
        state.workspace(),
        config,
        state.overview.thresholds,
        actions,
    );
}
