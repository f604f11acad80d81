//! The expiry-thresholds editor (warning and critical days) of the Settings tab. The thresholds
//! it edits colour every table and the Overview; they reach those as arguments from
//! `state.overview.thresholds`, never through egui's memory.

use crate::app::Action;
use crate::app::overview::Thresholds;
use eframe::egui;

/// Heading, explanation and the two day counts; a change becomes [`Action::SetThresholds`].
pub fn show(ui: &mut egui::Ui, thresholds: Thresholds, actions: &mut Vec<Action>) {
    ui.heading("Expiry thresholds");
    ui.label(
        "Rows with fewer days left than these are coloured in every table and in the Overview.",
    );
    let mut t = thresholds;
    ui.horizontal(|ui| {
        let l = ui.label("Warning (days)");
        ui.add(egui::DragValue::new(&mut t.warning_days).range(1..=3650))
            .labelled_by(l.id);
        let l = ui.label("Critical (days)");
        ui.add(egui::DragValue::new(&mut t.critical_days).range(0..=3650))
            .labelled_by(l.id);
    });
    if t != thresholds {
        actions.push(Action::SetThresholds(t));
    }
}
