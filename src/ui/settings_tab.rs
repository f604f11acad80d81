//! Settings: the workspace in use and the colour theme. (Profiles per cloud come with the
//! profiles store.)

use crate::app::{Action, AppState, Theme};
use eframe::egui;

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.heading("Workspace");
    ui.label(&state.workspace.description);
    ui.add_space(8.0);
    ui.heading("Appearance");
    ui.horizontal(|ui| {
        let mut theme = state.theme;
        ui.radio_value(&mut theme, Theme::Dark, "Dark");
        ui.radio_value(&mut theme, Theme::Light, "Light");
        if theme != state.theme {
            actions.push(Action::SetTheme(theme));
        }
    });
}
