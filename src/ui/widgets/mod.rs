//! Widgets more than one tab or dialog draws: the inventory view (certificate table with its
//! toolbar and selection buttons, plus the detail panel) every inventory tab configures, a
//! provider error's details, the expiry-thresholds editor, the virtual-scrolling text table, and
//! here the small parts everything uses (a busy line, a banner, copy buttons, read-only text, a
//! form row). Configured through arguments; they know nothing of tabs or dialogs.

pub mod cert_table;
pub mod detail_panel;
pub mod error_details;
pub mod inventory_view;
pub mod text_table;
pub mod thresholds;

use eframe::egui::{self, Color32};

/// A spinner and what is being waited for, on one line.
pub fn busy(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(text);
    });
}

/// A rounded strip in `fill` across the window (demo mode, an unfinished job).
pub fn banner(ui: &mut egui::Ui, fill: Color32, add_contents: impl FnOnce(&mut egui::Ui)) {
    egui::Frame::new()
        .fill(fill)
        .inner_margin(egui::Margin::symmetric(8, 4))
        .corner_radius(4.0)
        .show(ui, add_contents);
}

/// A button that copies `text` to the clipboard.
pub fn copy_button(ui: &mut egui::Ui, label: &str, hover: &str, text: &str) {
    if ui.button(label).on_hover_text(hover).clicked() {
        ui.ctx().copy_text(text.to_string());
    }
}

/// A weak caption and, under it, `text` in a read-only code box `rows` lines high (a PEM, a CSR)
/// the user can select and copy from.
pub fn read_only_text(ui: &mut egui::Ui, caption: &str, text: &str, rows: usize) {
    let label = ui.weak(caption);
    let mut text = text;
    ui.add(
        egui::TextEdit::multiline(&mut text)
            .code_editor()
            .desired_rows(rows)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
}

/// One row of a two-column form grid: `label`, then a single-line field `width` points wide
/// showing `hint` while empty (dots for a `password`). Returns whether the user changed `value`.
pub fn text_row(
    ui: &mut egui::Ui,
    label: &str,
    hint: &str,
    value: &mut String,
    password: bool,
    width: f32,
) -> bool {
    let l = ui.label(label);
    let changed = ui
        .add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .password(password)
                .desired_width(width),
        )
        .labelled_by(l.id)
        .changed();
    ui.end_row();
    changed
}

/// `label`, then a drop-down over `choices` (each shown as `label_of` names it). Returns the
/// value picked this frame, or `value` when nothing was.
pub fn choice<T: Copy + PartialEq, L: Into<egui::WidgetText>>(
    ui: &mut egui::Ui,
    label: &str,
    id_salt: impl std::hash::Hash + std::fmt::Debug,
    value: T,
    choices: impl IntoIterator<Item = T>,
    label_of: impl Fn(T) -> L,
) -> T {
    let mut picked = value;
    let l = ui.label(label);
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(label_of(value))
        .show_ui(ui, |ui| {
            for c in choices {
                ui.selectable_value(&mut picked, c, label_of(c));
            }
        })
        .response
        .labelled_by(l.id);
    picked
}
