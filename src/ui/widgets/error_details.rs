//! A provider error as the user needs it for a support ticket or a fix: code, message, HTTP
//! status, RequestId (with a copy button) and what to do. Every tab and dialog that shows a
//! failed call uses it.

use crate::model::Error;
use eframe::egui;

/// Code, message, HTTP status, RequestId and advice of `error`, in a two-column grid.
pub fn show(ui: &mut egui::Ui, error: &Error) {
    egui::Grid::new(ui.next_auto_id())
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Code");
            ui.monospace(&error.code);
            ui.end_row();
            ui.label("Message");
            ui.label(&error.message);
            ui.end_row();
            if let Some(status) = error.http_status {
                ui.label("HTTP status");
                ui.monospace(status.to_string());
                ui.end_row();
            }
            ui.label("RequestId");
            match &error.request_id {
                Some(id) => {
                    ui.horizontal(|ui| {
                        ui.monospace(id);
                        if ui
                            .small_button("Copy RequestId")
                            .on_hover_text("Copy the request id for a support ticket")
                            .clicked()
                        {
                            ui.ctx().copy_text(id.clone());
                        }
                    });
                }
                None => {
                    ui.weak("none returned");
                }
            }
            ui.end_row();
            ui.label("What to do");
            ui.label(error.advice());
            ui.end_row();
        });
}
