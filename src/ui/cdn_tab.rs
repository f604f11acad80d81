//! CDN domains (Alibaba VOD): each domain's HTTPS state and certificate (name, CN, expiry, type
//! in the detail panel), switching HTTPS on or off.

use super::cert_table::{ExtraColumn, TableConfig};
use crate::app::{Action, AppState, PaneKey};
use crate::model::Service;
use eframe::egui;

/// Table configuration of the tab.
pub const CONFIG: TableConfig = TableConfig {
    name_header: "Domain",
    id_header: "Domain id",
    extra: ExtraColumn::Info("Certificate (type, CN, name)"),
    status_header: "HTTPS",
    noun: "domains",
};

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.weak(
        "HTTPS off uses SetVodDomainCertificate (Shanghai region). Switching HTTPS on needs a \
         certificate and its private key: that, and replacing a certificate, come with PEM import.",
    );
    super::inventory_view(ui, state, PaneKey::service(Service::Vod), &CONFIG, actions);
}
