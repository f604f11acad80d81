//! IoT device certificates (Huawei IoTDA): every page by marker, ACTIVE / INACTIVE, delete.

use crate::app::{Action, AppState, PaneKey};
use crate::model::Service;
use crate::ui::widgets::cert_table::{ExtraColumn, TableConfig};
use crate::ui::widgets::inventory_view;
use eframe::egui;

/// Table configuration of the tab.
pub const CONFIG: TableConfig = TableConfig {
    name_header: "Common name",
    id_header: "Certificate id",
    extra: ExtraColumn::Fingerprint,
    status_header: "Status",
    noun: "device certificates",
};

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    inventory_view::show(
        ui,
        state,
        PaneKey::service(Service::Iotda),
        &CONFIG,
        actions,
    );
}
