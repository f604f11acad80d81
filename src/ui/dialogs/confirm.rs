//! The confirmation of a single status change started from the detail panel ("Revoke?", with
//! "This cannot be undone." for irreversible changes). Drawing only: reads the pending change
//! from `app::changes` and returns [`Action::ConfirmChange`] or [`Action::CancelChange`].

use crate::app::{Action, AppState};
use eframe::egui::{self, RichText};

/// The modal, while a change waits for its answer.
pub fn show(ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
    let Some(pending) = &state.changes.confirm else {
        return;
    };
    let response = egui::Modal::new(egui::Id::unique("confirm_change")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading(format!("{}?", pending.change.label()));
        ui.label(format!(
            "{} {} “{}” ({}).",
            pending.change.label(),
            pending.key.service.label(),
            pending.name,
            pending.id
        ));
        if pending.change.is_irreversible() {
            ui.label(
                RichText::new("This cannot be undone.")
                    .color(ui.visuals().error_fg_color)
                    .strong(),
            );
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let yes = format!("Yes, {}", pending.change.label().to_lowercase());
            if ui.button(yes).clicked() {
                actions.push(Action::ConfirmChange);
            }
            if ui.button("Cancel").clicked() {
                actions.push(Action::CancelChange);
            }
        });
    });
    if response.should_close() && !actions.contains(&Action::ConfirmChange) {
        actions.push(Action::CancelChange);
    }
}
