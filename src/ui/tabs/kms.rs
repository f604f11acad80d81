//! KMS certificates: the ids certdesk knows (added by hand, pasted as a list, or created here —
//! KMS has no list call), details from DescribeCertificate, and CreateCertificate with its CSR to
//! copy or save. Status ACTIVE / INACTIVE / REVOKED from the shared detail panel.

use crate::app::{Action, AppState, ImportAction, ImportPurpose, KmsKeySpec, PaneKey};
use crate::model::CertStatus;
use crate::model::Service;
use crate::ui::widgets::cert_table::{ExtraColumn, TableConfig};
use crate::ui::widgets::{
    choice, copy_button, error_details, inventory_view, read_only_text, text_row,
};
use eframe::egui::{self, RichText};

/// Table configuration of the tab.
pub const CONFIG: TableConfig = TableConfig {
    name_header: "Subject",
    id_header: "Certificate id",
    extra: ExtraColumn::Info("Key spec"),
    status_header: "Status",
    noun: "KMS certificates",
};

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let key = PaneKey::service(Service::Kms);
    egui::CollapsingHeader::new(format!(
        "Known certificate ids ({})",
        state.kms.known_count()
    ))
    .id_salt("kms_ids")
    .default_open(state.kms.known_count() == 0)
    .show(ui, |ui| {
        ui.label("KMS has no list call: certdesk describes the ids it knows. Paste ids (one per line, or separated by commas).");
        let label = ui.label("Certificate ids to add");
        let mut paste = state.kms.paste.clone();
        let edit = ui.add(
            egui::TextEdit::multiline(&mut paste)
                .id_salt("kms_paste")
                .hint_text("12345678-1234-1234-1234-123456789012")
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        );
        if edit.labelled_by(label.id).changed() {
            actions.push(Action::SetKmsPaste(paste));
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!state.kms.paste.trim().is_empty(), egui::Button::new("Add ids"))
                .on_hover_text("Remember these ids and describe them")
                .clicked()
            {
                actions.push(Action::AddKmsIds);
            }
            let cursor_id = state
                .inventory.panes
                .get(&key)
                .and_then(|p| p.cursor_row().map(|r| p.inventory.id(r).to_string()));
            if let Some(id) = cursor_id
                && ui
                    .button("Forget selected id")
                    .on_hover_text(format!("Stop tracking {id} (the certificate stays in KMS)"))
                    .clicked()
            {
                actions.push(Action::ForgetKmsId(id));
            }
        });
    });
    let pending = state.inventory.panes.get(&key).and_then(|p| {
        p.cursor_row()
            .filter(|&r| p.inventory.status(r) == CertStatus::Pending)
            .map(|r| p.inventory.id(r).to_string())
    });
    if let Some(id) = pending {
        upload_button(ui, &id, actions);
    }
    egui::CollapsingHeader::new("Create certificate")
        .id_salt("kms_create")
        .show(ui, |ui| create_form(ui, state, actions));
    ui.separator();
    inventory_view::show(ui, state, key, &CONFIG, actions);
}

fn upload_button(ui: &mut egui::Ui, certificate_id: &str, actions: &mut Vec<Action>) {
    if ui
        .button("Upload signed certificate…")
        .on_hover_text(format!(
            "Import the certificate signed from {certificate_id}'s CSR (and its chain), check it against the CSR, and upload it"
        ))
        .clicked()
    {
        actions.push(Action::Import(ImportAction::Open(ImportPurpose::KmsUpload {
            certificate_id: certificate_id.to_string(),
        })));
    }
}

fn create_form(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let mut form = state.kms.form.clone();
    let mut changed = false;
    egui::Grid::new("kms_form").num_columns(2).show(ui, |ui| {
        let fields: [(&str, &str, &mut String); 4] = [
            ("Country (C)", "CN", &mut form.country),
            ("Organization (O)", "Example Ltd", &mut form.organization),
            ("Organizational unit (OU)", "Security", &mut form.unit),
            (
                "Common name (CN)",
                "service.example.com",
                &mut form.common_name,
            ),
        ];
        for (label, hint, value) in fields {
            changed |= text_row(ui, label, hint, value, false, 260.0);
        }
        let picked = choice(
            ui,
            "Key spec",
            "kms_key_spec",
            form.key_spec,
            KmsKeySpec::ALL,
            KmsKeySpec::api_name,
        );
        changed |= picked != form.key_spec;
        form.key_spec = picked;
        ui.end_row();
        let l = ui.label("SANs (DNS names)");
        if ui
            .add(
                egui::TextEdit::multiline(&mut form.sans)
                    .hint_text("a.example.com, b.example.com")
                    .desired_rows(2)
                    .desired_width(260.0),
            )
            .labelled_by(l.id)
            .changed()
        {
            changed = true;
        }
        ui.end_row();
        ui.label("");
        changed |= ui
            .checkbox(&mut form.exportable, "Private key exportable")
            .changed();
        ui.end_row();
    });
    if changed {
        actions.push(Action::SetKmsForm(form));
    }
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!state.kms.creating, egui::Button::new("Create certificate"))
            .on_hover_text("Call CreateCertificate and show the CSR")
            .clicked()
        {
            actions.push(Action::CreateKmsCertificate);
        }
        if state.kms.creating {
            ui.spinner();
        }
    });
    if let Some(e) = &state.kms.form_error {
        ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
    }
    match &state.kms.created {
        Some(Ok(created)) => {
            ui.label(format!(
                "Created {} (status PENDING until a signed certificate is uploaded).",
                created.certificate_id
            ));
            ui.horizontal(|ui| {
                copy_button(ui, "Copy CSR", "Copy the CSR in PEM form", &created.csr);
                if ui
                    .button("Save CSR…")
                    .on_hover_text("Write the CSR to a file")
                    .clicked()
                {
                    actions.push(Action::SaveCsr);
                }
                upload_button(ui, &created.certificate_id, actions);
            });
            read_only_text(ui, "CSR (read-only)", &created.csr, 6);
        }
        Some(Err(error)) => {
            ui.label(RichText::new("CreateCertificate failed").color(ui.visuals().error_fg_color));
            error_details::show(ui, error);
        }
        None => {}
    }
}
