//! The one detail panel every tab uses: the row under the cursor, what the describe call added,
//! and — when a PEM is known — the certificate parsed by `certs` (subject, issuer, SANs, serial,
//! validity, fingerprints, key) with the PEM to copy. Offers the status changes the service allows.

use super::{busy, copy_button, error_details, read_only_text};
use crate::app::{Action, AppState, PaneKey, RowNote, now_unix};
use crate::certs::CertificateInfo;
use crate::model::Change;
use crate::ui::style::{capitalised, format_datetime, status_color, success_color};
use eframe::egui::{self, RichText};

/// Draws the panel for `key`'s cursor row.
pub fn show(ui: &mut egui::Ui, state: &AppState, key: PaneKey, actions: &mut Vec<Action>) {
    let Some(pane) = state.inventory.panes.get(&key) else {
        return;
    };
    let Some(row) = pane.cursor_row() else {
        ui.weak("Select a row to see its details.");
        return;
    };
    let inv = &pane.inventory;
    let id = inv.id(row);
    let status = inv.status(row);
    let dark = ui.visuals().dark_mode;
    let now = now_unix();

    ui.heading(inv.name(row));
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(inv.raw_status(row))
                .color(status_color(status, dark))
                .strong(),
        );
        ui.weak(format!("({})", status.label()));
    });

    // Status changes, each confirmed in a dialog; the result shows here and in the row.
    let offered = Change::offered(key.service, status);
    let changing = matches!(pane.notes.get(id), Some(RowNote::Busy(_)));
    if !offered.is_empty() {
        ui.horizontal(|ui| {
            for change in offered {
                let button = egui::Button::new(change.label());
                if ui
                    .add_enabled(!changing, button)
                    .on_hover_text(format!("{} this certificate (asks first)", change.label()))
                    .clicked()
                {
                    actions.push(Action::RequestChange(key, row, change));
                }
            }
        });
    }
    match pane.notes.get(id) {
        Some(RowNote::Busy(change)) => busy(ui, format!("{}…", change.label())),
        Some(RowNote::Done { change, request_id }) => {
            ui.label(
                RichText::new(format!(
                    "Done: {}{}",
                    capitalised(change.done()),
                    request_id
                        .as_ref()
                        .map(|r| format!(" (RequestId {r})"))
                        .unwrap_or_default()
                ))
                .color(success_color(ui.visuals())),
            );
        }
        Some(RowNote::Failed { change, error }) => {
            ui.label(
                RichText::new(format!("{} failed", change.label()))
                    .color(ui.visuals().error_fg_color)
                    .strong(),
            );
            error_details::show(ui, error);
        }
        None => {}
    }
    ui.separator();

    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("detail_row")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    field(ui, "Id", id, true);
                    if let Some(site) = inv.site_id(row) {
                        field(ui, "Site id", &site.to_string(), true);
                    }
                    if let Some(t) = inv.not_after(row) {
                        field(ui, "Expires", &format_datetime(t), false);
                        field(
                            ui,
                            "Days left",
                            &crate::certs::days_left(t, now).to_string(),
                            false,
                        );
                    }
                    if let Some(s) = inv.serial(row) {
                        field(ui, "Serial", s, true);
                    }
                    if let Some(f) = inv.fingerprint(row) {
                        field(ui, "SHA-256 (listed)", f, true);
                    }
                });

            let entry = state.inventory.details.get(&(key, id.to_string()));
            let loading = entry.is_some_and(|e| e.loading);
            if loading {
                busy(ui, "Loading details…");
            } else if ui
                .button("Reload details")
                .on_hover_text("Call the service's describe API for this certificate")
                .clicked()
            {
                actions.push(Action::LoadDetail(key));
            }
            let Some(entry) = entry else {
                return;
            };
            if let Some(error) = &entry.error {
                ui.label(
                    RichText::new("Loading details failed").color(ui.visuals().error_fg_color),
                );
                error_details::show(ui, error);
            }
            if !entry.facts.is_empty() {
                ui.add_space(6.0);
                ui.strong("From the service");
                egui::Grid::new("detail_facts")
                    .num_columns(2)
                    .striped(true)
                    .show(ui, |ui| {
                        for (k, v) in &entry.facts {
                            field(ui, k, v, false);
                        }
                    });
            }
            match &entry.parsed {
                Some(Ok(info)) => certificate(ui, info, now),
                Some(Err(e)) => {
                    ui.label(
                        RichText::new(format!("The PEM could not be parsed: {e}"))
                            .color(ui.visuals().error_fg_color),
                    );
                }
                None if !loading => {
                    ui.weak("The service returned no certificate PEM for this row.");
                }
                None => {}
            }
        });
}

fn field(ui: &mut egui::Ui, label: &str, value: &str, mono: bool) {
    ui.label(label);
    let text = if mono {
        RichText::new(value).monospace()
    } else {
        RichText::new(value)
    };
    ui.add(egui::Label::new(text).wrap());
    ui.end_row();
}

/// The facts every view of a parsed certificate shows, in order: (label, value, monospace).
/// SANs are joined with `sans_separator`. The detail panel and the import dialog lay them out
/// differently (a grid; wrapped rows) and add their own lines after them.
pub(crate) fn certificate_facts(
    info: &CertificateInfo,
    now: i64,
    sans_separator: &str,
) -> [(&'static str, String, bool); 9] {
    let sans = if info.subject_alt_names.is_empty() {
        "none".to_string()
    } else {
        info.subject_alt_names
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(sans_separator)
    };
    [
        ("Subject", info.subject.clone(), false),
        ("Issuer", info.issuer.clone(), false),
        ("SANs", sans, false),
        ("Serial", info.serial.clone(), true),
        ("Not before", format_datetime(info.not_before), false),
        ("Not after", format_datetime(info.not_after), false),
        ("Validity", info.validity_at(now).to_string(), false),
        ("SHA-256", info.sha256.colon_hex(), true),
        ("SHA-1", info.sha1.colon_hex(), true),
    ]
}

fn certificate(ui: &mut egui::Ui, info: &CertificateInfo, now: i64) {
    ui.add_space(6.0);
    ui.strong("Certificate");
    egui::Grid::new("detail_cert")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (label, value, mono) in certificate_facts(info, now, "\n") {
                field(ui, label, &value, mono);
            }
            field(ui, "Key", &info.public_key.to_string(), false);
            field(ui, "Signature", &info.signature_algorithm, false);
            if info.is_ca {
                field(ui, "CA", "yes", false);
            }
        });
    ui.horizontal(|ui| {
        ui.strong("PEM");
        copy_button(
            ui,
            "Copy PEM",
            "Copy the certificate in PEM form",
            &info.pem,
        );
        copy_button(
            ui,
            "Copy SHA-256",
            "Copy the SHA-256 fingerprint",
            &info.sha256.colon_hex(),
        );
    });
    read_only_text(ui, "Certificate PEM (read-only)", &info.pem, 8);
}
