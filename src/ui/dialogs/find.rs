//! Find everywhere: the top bar's field and the window listing every hit across services,
//! accounts and regions — the cached state at once, then each hit checked live. Clicking a hit
//! opens its tab filtered by the same text with the hit under the cursor.

use crate::app::find::{Hit, LIVE_CHECK_LIMIT, LiveCheck, QueryKind};
use crate::app::{Action, AppState};
use crate::ui::style::{format_date, status_color};
use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

/// The field in the top bar; Enter searches.
pub fn field(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let label = ui.label("Find everywhere:");
    let mut text = state.find.text.clone();
    let edit = ui
        .add(
            egui::TextEdit::singleline(&mut text)
                .id_salt("find_everywhere")
                .hint_text("fingerprint, serial, id or name")
                .desired_width(260.0),
        )
        .labelled_by(label.id)
        .on_hover_text(
            "SHA-256 or SHA-1 fingerprint (any case, colons or not), serial number, id or \
             name fragment: every service, account and region. Enter to search.",
        );
    if edit.changed() {
        actions.push(Action::Find(crate::app::find::FindAction::SetText(text)));
    }
    let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let clicked = ui
        .add_enabled(
            !state.find.text.trim().is_empty(),
            egui::Button::new("Find"),
        )
        .clicked();
    if entered || clicked {
        actions.push(Action::Find(crate::app::find::FindAction::Search));
    }
}

/// The results window, while open.
pub fn show(ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
    let find = &state.find;
    if !find.open {
        return;
    }
    let mut open = true;
    egui::Window::new(format!("Find “{}”", find.searched))
        .id(egui::Id::unique("find_results"))
        .open(&mut open)
        .default_size([900.0, 360.0])
        .resizable(true)
        .show(ctx, |ui| {
            ui.set_min_width(880.0);
            ui.label(format!(
                "Searched as {} in every inventory of every account and region.",
                QueryKind::of(&find.searched).label()
            ));
            let Some(hits) = &find.hits else {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Searching the cached rows…");
                });
                return;
            };
            if hits.is_empty() {
                ui.label("No certificate matches in the rows certdesk has read. Refresh the tabs to read the clouds again.");
                return;
            }
            let checking = find
                .live
                .values()
                .filter(|c| **c == LiveCheck::Checking)
                .count();
            let mut summary = format!("{} hit(s)", hits.len());
            if hits.len() > LIVE_CHECK_LIMIT {
                summary.push_str(&format!(
                    "; the first {LIVE_CHECK_LIMIT} are checked live, the others show their cached state"
                ));
            }
            if checking > 0 {
                summary.push_str(&format!("; checking {checking} live…"));
            }
            ui.label(summary);
            results(ui, state, hits, actions);
        });
    if !open {
        actions.push(Action::Find(crate::app::find::FindAction::Close));
    }
}

fn results(ui: &mut egui::Ui, state: &AppState, hits: &[Hit], actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    let workspace = state.workspace();
    // Labels must not swallow clicks for text selection: a click opens the hit.
    ui.style_mut().interaction.selectable_labels = false;
    TableBuilder::new(ui)
        .id_salt("find_hits")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .min_scrolled_height(120.0)
        .column(Column::initial(90.0).at_least(60.0).clip(true))
        .column(Column::initial(100.0).at_least(60.0).clip(true))
        .column(Column::initial(100.0).at_least(60.0).clip(true))
        .column(Column::initial(180.0).at_least(80.0).clip(true))
        .column(Column::initial(90.0).at_least(80.0))
        .column(Column::initial(150.0).at_least(100.0).clip(true))
        .column(Column::remainder().at_least(100.0).clip(true))
        .header(20.0, |mut header| {
            for h in [
                "Service", "Account", "Region", "Name", "Expires", "Status", "Id",
            ] {
                header.col(|ui| {
                    ui.strong(h);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, hits.len(), |mut row| {
                let i = row.index();
                let hit = &hits[i];
                let scope = workspace.scope(hit.scope);
                row.col(|ui| {
                    ui.label(hit.service().label());
                });
                row.col(|ui| {
                    ui.label(scope.map_or("?", |s| s.profile.as_str()));
                });
                row.col(|ui| {
                    ui.label(scope.map_or("?", |s| s.region.as_str()));
                });
                row.col(|ui| {
                    ui.label(&hit.name);
                });
                row.col(|ui| {
                    ui.label(hit.not_after.map_or_else(|| "—".into(), format_date));
                });
                row.col(|ui| live_status(ui, hit, state.find.live.get(&i), dark));
                row.col(|ui| {
                    ui.monospace(&hit.id);
                });
                if row
                    .response()
                    .on_hover_text("Open its tab filtered to the find, with this row selected")
                    .clicked()
                {
                    actions.push(Action::ShowHit(i));
                }
            });
        });
}

/// The cached status, then what the live check said.
fn live_status(ui: &mut egui::Ui, hit: &Hit, live: Option<&LiveCheck>, dark: bool) {
    match live {
        None => {
            ui.label(RichText::new(hit.status.label()).color(status_color(hit.status, dark)))
                .on_hover_text("cached state (not checked live)");
        }
        Some(LiveCheck::Checking) => {
            ui.spinner();
            ui.label(RichText::new(hit.status.label()).color(status_color(hit.status, dark)));
        }
        Some(LiveCheck::Confirmed(raw, status)) => {
            let text = if *status == hit.status {
                format!("{raw} (checked)")
            } else {
                format!("{raw} (was {})", hit.status.label())
            };
            ui.label(RichText::new(text).color(status_color(*status, dark)))
                .on_hover_text("checked live just now");
        }
        Some(LiveCheck::Gone) => {
            ui.label(RichText::new("gone").color(ui.visuals().warn_fg_color))
                .on_hover_text("the provider no longer knows this certificate");
        }
        Some(LiveCheck::Failed(e)) => {
            ui.label(RichText::new(hit.status.label()).color(status_color(hit.status, dark)));
            ui.label(RichText::new("?").color(ui.visuals().error_fg_color))
                .on_hover_text(format!("the live check failed: {e}"));
        }
    }
}
