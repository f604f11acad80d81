//! The Audit tab: every change certdesk made (time, profile, provider, operation, target, result,
//! provider code, RequestId — never a secret), a text filter and CSV export. Drawing only: the
//! journal is read by the app on a worker.

use crate::app::AuditAction;
use crate::app::{Action, AppState};
use crate::ui::style::format_datetime;
use crate::ui::widgets::text_table::TextTable;
use eframe::egui::{self, RichText};

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let audit = &state.audit;
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Reload")
            .on_hover_text("Read the audit log again")
            .clicked()
        {
            actions.push(Action::Audit(AuditAction::Refresh));
        }
        let label = ui.label("Audit filter:");
        let mut text = audit.filter.clone();
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .id_salt("audit_filter")
                    .hint_text("profile, service, target, result, code or RequestId")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
        if edit.changed() {
            actions.push(Action::Audit(AuditAction::SetFilter(text)));
        }
        if ui
            .add_enabled(
                !audit.shown.is_empty(),
                egui::Button::new("Export audit CSV…"),
            )
            .on_hover_text("Save the shown entries as CSV")
            .clicked()
        {
            actions.push(Action::Audit(AuditAction::Export));
        }
        ui.label(if audit.shown.len() == audit.entries.len() {
            format!("{} audit entries", audit.entries.len())
        } else {
            format!(
                "{} of {} audit entries",
                audit.shown.len(),
                audit.entries.len()
            )
        });
        if audit.loading {
            ui.spinner().on_hover_text("Reading the journal");
        }
    });
    match &audit.chain {
        Some(Ok(report)) if report.is_intact() => {
            ui.label(report.summary())
                .on_hover_text("Every row's hash covers its content and the row before it");
        }
        Some(Ok(report)) => {
            ui.label(
                RichText::new(format!("{} — the audit log was altered", report.summary()))
                    .color(ui.visuals().error_fg_color),
            );
        }
        Some(Err(e)) => {
            ui.label(
                RichText::new(format!("Checking the audit chain failed: {e}"))
                    .color(ui.visuals().error_fg_color),
            );
        }
        None => {}
    }
    if let Some(e) = &audit.error {
        ui.label(
            RichText::new(format!("Reading the audit log failed: {e}"))
                .color(ui.visuals().error_fg_color),
        );
    }
    ui.separator();
    if audit.loaded && audit.entries.is_empty() {
        ui.label("No changes yet: bulk jobs write every change they make here.");
        return;
    }
    TextTable {
        salt: "audit_table",
        headers: [
            "Time",
            "Profile",
            "Provider",
            "Service",
            "Operation",
            "Target",
            "Result",
            "Code",
            "RequestId",
        ],
        widths: &[140.0, 90.0, 70.0, 60.0, 80.0, 220.0, 70.0, 160.0],
        min_width: 40.0,
        max_height: None,
    }
    .show(ui, audit.shown.len(), |i| {
        let e = audit.entries.get(*audit.shown.get(i)?)?;
        let target = match e.site_id {
            Some(site) => format!("{} (site {site})", e.target),
            None => e.target.clone(),
        };
        Some([
            format_datetime(e.at),
            e.profile.clone(),
            e.provider.code().to_string(),
            e.service.code().to_string(),
            e.operation.as_str().to_string(),
            target,
            e.result.as_str().to_string(),
            e.code.clone().unwrap_or_default(),
            e.request_id.clone().unwrap_or_default(),
        ])
    });
}
