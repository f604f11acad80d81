//! CDN domains (Alibaba VOD): each domain's HTTPS state and certificate (name, CN, expiry, type
//! in the detail panel), switching HTTPS off, and replacing a domain's certificate (which switches
//! HTTPS on) through the import dialog.

use crate::app::{Action, AppState, ImportAction, ImportPurpose, PaneKey};
use crate::model::Service;
use crate::ui::widgets::cert_table::{ExtraColumn, TableConfig};
use crate::ui::widgets::inventory_view;
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
    let key = PaneKey::service(Service::Vod);
    ui.horizontal(|ui| {
        let cursor = state.inventory.panes.get(&key).and_then(|p| {
            p.cursor_row().map(|r| {
                (
                    p.inventory.id(r).to_string(),
                    p.inventory.name(r).to_string(),
                )
            })
        });
        if let Some((id, domain)) = cursor
            && ui
                .button("Replace certificate…")
                .on_hover_text(format!(
                    "Import a certificate and key for {domain}, check them, and install them"
                ))
                .clicked()
        {
            actions.push(Action::Import(ImportAction::Open(
                ImportPurpose::VodReplace { id, domain },
            )));
        }
        ui.weak(
            "SetVodDomainCertificate (Shanghai region). Replacing the certificate needs the \
             certificate and its private key, and switches HTTPS on.",
        );
    });
    inventory_view::show(ui, state, key, &CONFIG, actions);
}
