//! Client certificates: the private CA's client and server certificates (all pages, statuses
//! refreshed with batched DescribeClientCertificateStatus, revoke) and ESA client certificates per
//! site (site picker, revoke, activate).

use crate::app::{Action, AppState, ClientSection, PaneKey};
use crate::model::Service;
use crate::ui::widgets::cert_table::{ExtraColumn, TableConfig};
use crate::ui::widgets::{busy, error_details, inventory_view};
use eframe::egui;

/// Table configuration of the private CA section.
pub const PCA_CONFIG: TableConfig = TableConfig {
    name_header: "Common name",
    id_header: "Identifier",
    extra: ExtraColumn::Info("Type, key"),
    status_header: "Status",
    noun: "client and server certificates",
};

/// Table configuration of the ESA section.
pub const ESA_CONFIG: TableConfig = TableConfig {
    name_header: "Common name",
    id_header: "Certificate id",
    extra: ExtraColumn::Fingerprint,
    status_header: "Status",
    noun: "client certificates",
};

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        for (section, label) in [
            (ClientSection::PrivateCa, "Private CA"),
            (ClientSection::Esa, "ESA"),
        ] {
            if ui
                .selectable_label(state.client_section == section, label)
                .clicked()
                && state.client_section != section
            {
                actions.push(Action::SelectClientSection(section));
            }
        }
        if state.client_section == ClientSection::Esa {
            ui.separator();
            site_picker(ui, state, actions);
        }
    });
    match state.client_section {
        ClientSection::PrivateCa => {
            inventory_view::show(
                ui,
                state,
                PaneKey::service(Service::Pca),
                &PCA_CONFIG,
                actions,
            );
        }
        ClientSection::Esa => {
            if let Some(error) = &state.inventory.esa.error {
                ui.label(
                    egui::RichText::new("Listing the ESA sites failed")
                        .color(ui.visuals().error_fg_color),
                );
                error_details::show(ui, error);
            }
            match state.inventory.esa.selected {
                Some(site) => {
                    inventory_view::show(ui, state, PaneKey::esa(site), &ESA_CONFIG, actions)
                }
                None if state.inventory.esa.loading => busy(ui, "Listing sites…"),
                None => {
                    ui.label("No ESA sites in this account.");
                }
            }
        }
    }
}

fn site_picker(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let current = state
        .inventory
        .esa
        .selected
        .and_then(|id| state.inventory.esa.sites.iter().find(|s| s.id == id))
        .map_or_else(|| "choose a site".to_string(), |s| s.name.clone());
    let mut chosen = state.inventory.esa.selected;
    egui::ComboBox::from_label("Site")
        .selected_text(current)
        .show_ui(ui, |ui| {
            for site in &state.inventory.esa.sites {
                ui.selectable_value(
                    &mut chosen,
                    Some(site.id),
                    format!("{} ({})", site.name, site.id),
                );
            }
        });
    if chosen != state.inventory.esa.selected
        && let Some(site) = chosen
    {
        actions.push(Action::SelectEsaSite(site));
    }
    if state.inventory.esa.loading {
        ui.spinner();
    } else if ui
        .button("Reload sites")
        .on_hover_text("List the account's ESA sites again")
        .clicked()
    {
        actions.push(Action::RefreshSites);
    }
}
