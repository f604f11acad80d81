//! The one certificate table every inventory tab uses: toolbar (refresh, progress, filters,
//! selection and the bulk buttons for the selection), a virtualised, sortable `egui_extras` table
//! that draws only the rows on screen, and keyboard navigation. Configured per tab by
//! [`TableConfig`]; reads a [`Pane`] and the expiry thresholds, returns [`Action`]s.

use super::{busy, choice, error_details};
use crate::app::bulk::{BulkAction, button_label, operations_for};
use crate::app::context::Workspace;
use crate::app::inventory::RowId;
use crate::app::overview::{STATUSES, Thresholds};
use crate::app::view::{ExpiryFilter, SortColumn, StatusFilter};
use crate::app::{Action, ClickMods, CursorMove, LoadState, Pane, RowNote, now_unix};
use crate::model::ScopeId;
use crate::ui::style::{
    ROW_HEIGHT, capitalised, format_age, format_date, level_color, status_color, tinted,
};
use eframe::egui::{self, Key, RichText, Sense};
use egui_extras::{Column, TableBuilder};

/// What the last column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraColumn {
    /// Serial number.
    Serial,
    /// SHA-256 fingerprint.
    Fingerprint,
    /// The row's extra text (certificate type, key, VOD certificate), under this header.
    Info(&'static str),
}

/// How a tab configures the table.
#[derive(Debug, Clone, Copy)]
pub struct TableConfig {
    /// Header of the name column ("Common name", "Domain"...).
    pub name_header: &'static str,
    /// Header of the id column.
    pub id_header: &'static str,
    /// The last column.
    pub extra: ExtraColumn,
    /// Header of the status column ("Status", "HTTPS").
    pub status_header: &'static str,
    /// Noun for the rows ("certificates", "domains").
    pub noun: &'static str,
}

/// Toolbar, table and keyboard handling for one pane; rows past `thresholds` are coloured.
pub fn show(
    ui: &mut egui::Ui,
    pane: &Pane,
    workspace: &Workspace,
    config: &TableConfig,
    thresholds: Thresholds,
    actions: &mut Vec<Action>,
) {
    toolbar(ui, pane, workspace, config, actions);
    if pane.parts.len() > 1 {
        parts_status(ui, pane, workspace, actions);
    } else {
        load_status(ui, pane, actions);
    }
    ui.separator();
    keyboard(ui, pane, actions);
    table(ui, pane, workspace, config, thresholds, actions);
}

/// The Account filter's choices: every account and region of the pane, and each account's regions
/// together when it has several.
fn scope_choices(pane: &Pane, workspace: &Workspace) -> Vec<(String, Option<Vec<ScopeId>>)> {
    let mut choices = vec![("All accounts and regions".to_string(), None)];
    let mut by_profile: Vec<(&str, Vec<ScopeId>)> = Vec::new();
    for &id in pane.parts.keys() {
        let Some(scope) = workspace.scope(id) else {
            continue;
        };
        match by_profile.iter_mut().find(|(p, _)| *p == scope.profile) {
            Some((_, ids)) => ids.push(id),
            None => by_profile.push((&scope.profile, vec![id])),
        }
    }
    for (profile, ids) in by_profile {
        if ids.len() > 1 {
            choices.push((format!("{profile} (all regions)"), Some(ids.clone())));
        }
        for id in ids {
            if let Some(scope) = workspace.scope(id) {
                choices.push((format!("{profile} · {}", scope.region), Some(vec![id])));
            }
        }
    }
    choices
}

fn toolbar(
    ui: &mut egui::Ui,
    pane: &Pane,
    workspace: &Workspace,
    config: &TableConfig,
    actions: &mut Vec<Action>,
) {
    let key = pane.key;
    let table = &pane.table;
    ui.horizontal_wrapped(|ui| {
        let refreshing = pane.is_fetching();
        if refreshing {
            if ui
                .button("Stop")
                .on_hover_text("Stop fetching pages")
                .clicked()
            {
                actions.push(Action::CancelFetch(key));
            }
        } else if ui
            .button("Refresh")
            .on_hover_text("Fetch every page from the cloud")
            .clicked()
        {
            actions.push(Action::Refresh(key));
        }

        let filter_label = ui.label("Filter:");
        let mut text = table.filter.text.clone();
        let edit = ui.add(
            egui::TextEdit::singleline(&mut text)
                .id_salt(("filter", key.service, key.site_id))
                .hint_text("id, name, serial or fingerprint")
                .desired_width(220.0),
        );
        if edit.labelled_by(filter_label.id).changed() {
            actions.push(Action::SetFilterText(key, text));
        }

        let statuses = std::iter::once(StatusFilter::Any).chain(STATUSES.map(StatusFilter::Only));
        let status = choice(
            ui,
            "Status:",
            ("status_filter", key.service, key.site_id),
            table.filter.status,
            statuses,
            StatusFilter::label,
        );
        if status != table.filter.status {
            actions.push(Action::SetStatusFilter(key, status));
        }

        let expiry = choice(
            ui,
            "Expiry:",
            ("expiry_filter", key.service, key.site_id),
            table.filter.expiry,
            ExpiryFilter::CHOICES,
            ExpiryFilter::label,
        );
        if expiry != table.filter.expiry {
            actions.push(Action::SetExpiryFilter(key, expiry));
        }

        if pane.parts.len() > 1 {
            let choices = scope_choices(pane, workspace);
            let current = choices
                .iter()
                .position(|(_, scopes)| *scopes == table.filter.scopes)
                .unwrap_or(0);
            let picked = choice(
                ui,
                "Account:",
                ("scope_filter", key.service, key.site_id),
                current,
                0..choices.len(),
                |i| choices[i].0.clone(),
            );
            if picked != current {
                actions.push(Action::SetScopeFilter(key, choices[picked].1.clone()));
            }
        }

        if ui
            .button("Select all filtered")
            .on_hover_text("Select every row the filters show (Ctrl+A)")
            .clicked()
        {
            actions.push(Action::SelectAllFiltered(key));
        }
        if !table.selection.is_empty()
            && ui
                .button("Clear selection")
                .on_hover_text("Unselect every row (Esc)")
                .clicked()
        {
            actions.push(Action::ClearSelection(key));
        }
        selection_buttons(ui, pane, actions);

        let shown = table.index.len();
        let total = pane.inventory.present_count();
        let mut summary = if shown == total {
            format!("{shown} {}", config.noun)
        } else {
            format!("{shown} of {total} {}", config.noun)
        };
        if !table.selection.is_empty() {
            summary.push_str(&format!(", {} selected", table.selection.len()));
        }
        ui.label(summary);
        if table.view_pending {
            ui.spinner().on_hover_text("Filtering and sorting");
        }
    });
}

/// "Revoke selected", "Disable selected"… for the selection (whatever its service offers).
fn selection_buttons(ui: &mut egui::Ui, pane: &Pane, actions: &mut Vec<Action>) {
    if pane.table.selection.is_empty() {
        return;
    }
    let n = pane.table.selection.len();
    for op in operations_for(pane.key.service) {
        let hover = format!(
            "{} the {n} selected certificate(s) in one job (asks to confirm first)",
            capitalised(op.as_str())
        );
        if ui.button(button_label(op)).on_hover_text(hover).clicked() {
            actions.push(Action::Bulk(BulkAction::Open(pane.key, op)));
        }
    }
}

/// One line per account and region while a pane covers several: its rows, its walk, or why it
/// failed (the other accounts' rows are shown meanwhile), then "Retry failed" for all of them.
fn parts_status(ui: &mut egui::Ui, pane: &Pane, workspace: &Workspace, actions: &mut Vec<Action>) {
    let failed = pane
        .parts
        .values()
        .filter(|p| matches!(p.load, LoadState::Failed { .. }))
        .count();
    let fetching = pane.parts.values().filter(|p| p.is_fetching()).count();
    let header = match (fetching, failed) {
        (0, 0) => format!("{} accounts and regions", pane.parts.len()),
        (f, 0) => format!("{} accounts and regions, {f} fetching", pane.parts.len()),
        (_, n) => format!("{} accounts and regions, {n} failed", pane.parts.len()),
    };
    egui::CollapsingHeader::new(header)
        .id_salt(("parts", pane.key.service, pane.key.site_id))
        .default_open(failed > 0)
        .show(ui, |ui| {
            egui::Grid::new(("parts_grid", pane.key.service, pane.key.site_id))
                .striped(true)
                .show(ui, |ui| {
                    for (&id, part) in &pane.parts {
                        let (profile, region) = workspace
                            .scope(id)
                            .map_or(("?", "?"), |s| (s.profile.as_str(), s.region.as_str()));
                        ui.label(profile);
                        ui.label(region);
                        match &part.load {
                            LoadState::Fetching { pages, rows, .. } => {
                                ui.horizontal(|ui| {
                                    ui.spinner();
                                    ui.label(format!("{pages} pages, {rows} rows"));
                                });
                            }
                            LoadState::Failed { error, .. } => {
                                ui.label(
                                    RichText::new(error.to_string())
                                        .color(ui.visuals().error_fg_color),
                                )
                                .on_hover_text(error.advice());
                            }
                            LoadState::ReadingCache => {
                                ui.label("reading the cache…");
                            }
                            LoadState::Idle => {
                                let age = part
                                    .fetched_at
                                    .map(|t| format!(", fetched {}", format_age(now_unix() - t)))
                                    .unwrap_or_default();
                                let stale = if part.stale { " (cached)" } else { "" };
                                ui.label(format!("{} rows{age}{stale}", part.rows.len()));
                            }
                        }
                        ui.end_row();
                    }
                });
        });
    if failed > 0
        && ui
            .button("Retry failed")
            .on_hover_text(
                "Fetch again the accounts and regions that failed, from where they stopped",
            )
            .clicked()
    {
        actions.push(Action::RetryFetch(pane.key));
    }
}

fn load_status(ui: &mut egui::Ui, pane: &Pane, actions: &mut Vec<Action>) {
    let key = pane.key;
    match &pane.load() {
        LoadState::Idle => {}
        LoadState::ReadingCache => busy(ui, "Reading the cache…"),
        LoadState::Fetching {
            pages,
            rows,
            total,
            phase,
        } => {
            let text = match total {
                Some(t) => format!("{phase}: {pages} pages fetched, {rows} of {t} rows"),
                None => format!("{phase}: {pages} pages fetched, {rows} rows"),
            };
            let fraction = total
                .filter(|t| *t > 0)
                .map_or(0.0, |t| (*rows as f32 / t as f32).min(1.0));
            ui.add(
                egui::ProgressBar::new(fraction)
                    .text(text)
                    .animate(total.is_none()),
            );
        }
        LoadState::Failed {
            error,
            at,
            pages,
            rows,
        } => {
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.0, ui.visuals().error_fg_color))
                .show(ui, |ui| {
                    ui.label(
                        RichText::new(format!(
                            "Fetching {at} failed after {pages} pages ({rows} rows)."
                        ))
                        .color(ui.visuals().error_fg_color)
                        .strong(),
                    );
                    error_details::show(ui, error);
                    ui.horizontal(|ui| {
                        if ui
                            .button("Retry failed page")
                            .on_hover_text("Continue from the page that failed")
                            .clicked()
                        {
                            actions.push(Action::RetryFetch(key));
                        }
                        if ui
                            .button("Start over")
                            .on_hover_text("Fetch every page again")
                            .clicked()
                        {
                            actions.push(Action::Refresh(key));
                        }
                    });
                });
        }
    }
    if pane.stale() && !pane.is_fetching() {
        let age = pane
            .fetched_at()
            .map(|t| format_age(now_unix() - t))
            .unwrap_or_default();
        ui.label(
            RichText::new(format!(
                "Stale: last known state from the cache, fetched {age}. Refresh to update."
            ))
            .italics()
            .color(ui.visuals().warn_fg_color),
        );
    } else if let Some(t) = pane.fetched_at() {
        ui.weak(format!("Fetched {}", format_age(now_unix() - t)));
    }
}

/// Which keys move the cursor: only when no text field has the keyboard.
fn keyboard(ui: &mut egui::Ui, pane: &Pane, actions: &mut Vec<Action>) {
    if ui.ctx().egui_wants_keyboard_input() || pane.table.index.is_empty() {
        return;
    }
    let key = pane.key;
    let page =
        ((ui.available_height() / (ROW_HEIGHT + ui.spacing().item_spacing.y)) as isize - 2).max(1);
    ui.input(|i| {
        let shift = i.modifiers.shift;
        let moves = [
            (Key::ArrowDown, CursorMove::By(1)),
            (Key::ArrowUp, CursorMove::By(-1)),
            (Key::PageDown, CursorMove::By(page)),
            (Key::PageUp, CursorMove::By(-page)),
            (Key::Home, CursorMove::First),
            (Key::End, CursorMove::Last),
        ];
        for (k, m) in moves {
            if i.key_pressed(k) {
                actions.push(Action::MoveCursor(key, m, shift));
            }
        }
        if i.modifiers.command && i.key_pressed(Key::A) {
            actions.push(Action::SelectAllFiltered(key));
        }
        if i.key_pressed(Key::Space) {
            actions.push(Action::ToggleCursorRow(key));
        }
        if i.key_pressed(Key::Escape) {
            actions.push(Action::ClearSelection(key));
        }
        if i.key_pressed(Key::Enter) {
            actions.push(Action::LoadDetail(key));
        }
    });
    if actions.iter().any(|a| matches!(a, Action::MoveCursor(..))) {
        // Follow the cursor on the next frame, once the app has moved it.
        ui.data_mut(|d| d.insert_temp(scroll_id(pane), true));
    }
}

fn scroll_id(pane: &Pane) -> egui::Id {
    egui::Id::unique(("cert_table_scroll", pane.key.service, pane.key.site_id))
}

fn sort_header(
    ui: &mut egui::Ui,
    pane: &Pane,
    label: &str,
    column: SortColumn,
    actions: &mut Vec<Action>,
) {
    let sort = pane.table.sort;
    ui.horizontal(|ui| {
        let clicked = ui
            .add(egui::Button::new(RichText::new(label).strong()).frame(false))
            .on_hover_text(format!("Sort by {}", label.to_lowercase()))
            .clicked();
        if sort.column == column {
            sort_arrow(ui, sort.descending);
        }
        if clicked {
            actions.push(Action::SortBy(pane.key, column));
        }
    });
}

/// A small triangle (drawn, not a glyph: the bundled fonts have no arrows).
fn sort_arrow(ui: &mut egui::Ui, descending: bool) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), Sense::hover());
    let c = rect.center();
    let (tip, base) = if descending { (4.0, -4.0) } else { (-4.0, 4.0) };
    let points = vec![
        egui::pos2(c.x, c.y + tip),
        egui::pos2(c.x - 4.5, c.y + base),
        egui::pos2(c.x + 4.5, c.y + base),
    ];
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        ui.visuals().strong_text_color(),
        egui::Stroke::NONE,
    ));
    response.on_hover_text(if descending {
        "Sorted descending"
    } else {
        "Sorted ascending"
    });
}

fn table(
    ui: &mut egui::Ui,
    pane: &Pane,
    workspace: &Workspace,
    config: &TableConfig,
    thresholds: Thresholds,
    actions: &mut Vec<Action>,
) {
    let inventory = &pane.inventory;
    let index = &pane.table.index;
    if index.is_empty() {
        ui.add_space(12.0);
        ui.vertical_centered(|ui| {
            if pane.inventory.is_empty() {
                if pane.is_fetching() {
                    ui.label(format!("Fetching {}…", config.noun));
                } else {
                    ui.label(format!("No {} yet.", config.noun));
                }
            } else {
                ui.label(format!("No {} match the filters.", config.noun));
            }
        });
        return;
    }
    log_first_draw(ui, pane);
    let now = now_unix();
    let dark = ui.visuals().dark_mode;
    // Rows past the expiry thresholds (Settings) are coloured: name, expiry and days left.
    let visuals = ui.visuals().clone();
    // Labels must not swallow clicks for text selection: a click selects the row.
    ui.style_mut().interaction.selectable_labels = false;
    let scroll = ui.data_mut(|d| d.remove_temp::<bool>(scroll_id(pane)).unwrap_or(false));
    let mut builder = TableBuilder::new(ui)
        .id_salt(("cert_table", pane.key.service, pane.key.site_id))
        .striped(true)
        .resizable(true)
        .sense(Sense::click())
        .animate_scrolling(false)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(240.0).at_least(80.0).clip(true))
        .column(Column::initial(110.0).at_least(60.0).clip(true))
        .column(Column::initial(90.0).at_least(60.0))
        .column(Column::initial(70.0).at_least(40.0))
        .column(Column::initial(200.0).at_least(60.0).clip(true));
    // Account and region columns when the pane covers several accounts or regions.
    let estate = pane.parts.len() > 1;
    if estate {
        builder = builder
            .column(Column::initial(110.0).at_least(50.0).clip(true))
            .column(Column::initial(100.0).at_least(50.0).clip(true));
    }
    builder = builder.column(Column::remainder().at_least(60.0).clip(true));
    if scroll && let Some(pos) = pane.table.cursor_pos {
        builder = builder.scroll_to_row(pos, None);
    }
    builder
        .header(ROW_HEIGHT + 2.0, |mut header| {
            header.col(|ui| sort_header(ui, pane, config.name_header, SortColumn::Name, actions));
            header
                .col(|ui| sort_header(ui, pane, config.status_header, SortColumn::Status, actions));
            header.col(|ui| sort_header(ui, pane, "Expires", SortColumn::Expiry, actions));
            header.col(|ui| {
                ui.strong("Days left");
            });
            header.col(|ui| sort_header(ui, pane, config.id_header, SortColumn::Id, actions));
            if estate {
                header.col(|ui| sort_header(ui, pane, "Account", SortColumn::Account, actions));
                header.col(|ui| {
                    ui.strong("Region");
                });
            }
            header.col(|ui| {
                ui.strong(match config.extra {
                    ExtraColumn::Serial => "Serial",
                    ExtraColumn::Fingerprint => "SHA-256 fingerprint",
                    ExtraColumn::Info(header) => header,
                });
            });
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, index.len(), |mut row| {
                let pos = row.index();
                let r: RowId = index[pos];
                row.set_selected(pane.table.selection.contains(r));
                row.set_overline(pane.table.cursor_pos == Some(pos));
                let status = inventory.status(r);
                let id = inventory.id(r);
                let not_after = inventory.not_after(r);
                let level = level_color(thresholds.level(not_after, now), &visuals);
                let paint = |t: RichText| tinted(t, level);
                row.col(|ui| {
                    ui.label(paint(RichText::new(inventory.name(r))));
                });
                row.col(|ui| {
                    ui.label(
                        RichText::new(inventory.raw_status(r)).color(status_color(status, dark)),
                    );
                    match pane.notes.get(id) {
                        Some(RowNote::Busy(_)) => {
                            ui.spinner();
                        }
                        Some(RowNote::Done { change, .. }) => {
                            ui.label(RichText::new("done").small())
                                .on_hover_text(format!("{} just now", change.done()));
                        }
                        Some(RowNote::Failed { change, error }) => {
                            ui.label(
                                RichText::new("failed")
                                    .small()
                                    .color(ui.visuals().error_fg_color),
                            )
                            .on_hover_text(format!("{} failed: {error}", change.label()));
                        }
                        None => {}
                    }
                });
                row.col(|ui| {
                    ui.label(paint(RichText::new(
                        not_after.map_or_else(|| "—".into(), format_date),
                    )));
                });
                row.col(|ui| {
                    if let Some(t) = not_after {
                        let days = crate::certs::days_left(t, now);
                        ui.label(paint(RichText::new(days.to_string())));
                    }
                });
                row.col(|ui| {
                    ui.monospace(id);
                });
                if estate {
                    let scope = workspace.scope(inventory.scope(r));
                    row.col(|ui| {
                        ui.label(scope.map_or("?", |s| s.profile.as_str()));
                    });
                    row.col(|ui| {
                        ui.label(scope.map_or("?", |s| s.region.as_str()));
                    });
                }
                row.col(|ui| {
                    match config.extra {
                        ExtraColumn::Serial => ui.monospace(inventory.serial(r).unwrap_or("")),
                        ExtraColumn::Fingerprint => {
                            ui.monospace(inventory.fingerprint(r).unwrap_or(""))
                        }
                        ExtraColumn::Info(_) => ui.label(inventory.extra(r)),
                    };
                });
                let response = row.response();
                if response.clicked() {
                    let mods = ui_mods(&response.ctx);
                    actions.push(Action::ClickRow(pane.key, pos, mods));
                }
            });
        });
}

/// Logs once per table when it first draws rows (the GUI smoke test waits for this line).
fn log_first_draw(ui: &mut egui::Ui, pane: &Pane) {
    let id = egui::Id::unique(("cert_table_drawn", pane.key.service, pane.key.site_id));
    let first = ui.data_mut(|d| {
        let seen = d.get_temp::<bool>(id).unwrap_or(false);
        d.insert_temp(id, true);
        !seen
    });
    if first {
        tracing::info!(
            service = %pane.key.service,
            rows = pane.table.index.len(),
            "table drawn"
        );
    }
}

fn ui_mods(ctx: &egui::Context) -> ClickMods {
    ctx.input(|i| ClickMods {
        toggle: i.modifiers.command,
        range: i.modifiers.shift,
    })
}
