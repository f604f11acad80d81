//! The bulk dialog (plan, typed-count confirmation, dry run, live progress and per-item results),
//! the selection buttons every inventory table shows, the small running-job indicator and the
//! resume offer for unfinished jobs. Drawing only: reads `app::bulk` state and returns actions.

use crate::app::bulk::{
    BulkAction, BulkDialog, BulkPhase, DryRunState, button_label, format_eta, operations_for,
    outcome_text,
};
use crate::app::{Action, AppState, Pane};
use crate::model::Change;
use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

fn act(actions: &mut Vec<Action>, a: BulkAction) {
    actions.push(Action::Bulk(a));
}

/// "Revoke selected", "Disable selected"… for a table's selection (whatever its service offers).
pub fn selection_buttons(ui: &mut egui::Ui, pane: &Pane, actions: &mut Vec<Action>) {
    if pane.table.selection.is_empty() {
        return;
    }
    let n = pane.table.selection.len();
    for op in operations_for(pane.key.service) {
        let hover = format!(
            "{} the {n} selected certificate(s) in one job (asks to confirm first)",
            capitalised(op)
        );
        if ui.button(button_label(op)).on_hover_text(hover).clicked() {
            act(actions, BulkAction::Open(pane.key, op));
        }
    }
}

fn capitalised(op: Change) -> String {
    let s = op.as_str();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One line under the tab bar: a running or hidden job (click to reopen), and unfinished jobs
/// of the journal offered for resume.
pub fn status_line(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    if let Some(d) = &state.bulk.dialog
        && !state.bulk.visible
    {
        ui.horizontal(|ui| {
            let text = match (&d.progress, d.phase) {
                (Some(p), BulkPhase::Running | BulkPhase::Starting) => format!(
                    "Bulk {} running: {} of {} done",
                    d.operation,
                    p.total - p.remaining,
                    p.total
                ),
                (_, BulkPhase::Running | BulkPhase::Starting) => {
                    format!("Bulk {} starting…", d.operation)
                }
                (Some(p), _) => format!(
                    "Bulk {} finished: {} applied, {} failed",
                    d.operation, p.applied, p.failed
                ),
                (None, _) => format!("Bulk {} planned", d.operation),
            };
            if d.is_active() {
                ui.spinner();
            }
            ui.label(text);
            if ui
                .small_button("Show bulk job")
                .on_hover_text("Open the bulk dialog again")
                .clicked()
            {
                act(actions, BulkAction::Show);
            }
        });
    }
    for offer in &state.bulk.resumable {
        let fill = if ui.visuals().dark_mode {
            egui::Color32::from_rgb(60, 40, 20)
        } else {
            egui::Color32::from_rgb(255, 225, 190)
        };
        egui::Frame::new()
            .fill(fill)
            .inner_margin(egui::Margin::symmetric(8, 4))
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    let open = offer.counts.pending + offer.counts.sent;
                    ui.label(RichText::new("Unfinished bulk job").strong());
                    ui.label(format!(
                        "{} {} ({}), profile “{}”, started {}: {} done, {} failed, {} not finished.",
                        offer.job.operation,
                        offer.job.service,
                        short(&offer.job.id),
                        offer.job.profile,
                        crate::ui::widgets::cert_table::format_datetime(offer.job.created_at),
                        offer.counts.succeeded,
                        offer.counts.failed,
                        open
                    ));
                    if ui
                        .button("Resume")
                        .on_hover_text(
                            "Finish the job: uncertain items are re-read first, so nothing is applied twice",
                        )
                        .clicked()
                    {
                        act(actions, BulkAction::Resume(offer.job.id.clone()));
                    }
                    if ui
                        .button("Dismiss")
                        .on_hover_text(
                            "Stop offering it (it stays in the journal: `certdesk jobs resume`)",
                        )
                        .clicked()
                    {
                        act(actions, BulkAction::Dismiss(offer.job.id.clone()));
                    }
                });
            });
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The dialog window, when open.
pub fn show(ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
    let (Some(d), true) = (&state.bulk.dialog, state.bulk.visible) else {
        return;
    };
    let title = format!("Bulk {}", d.operation);
    let mut open = true;
    egui::Window::new(title)
        .id(egui::Id::unique("bulk_dialog"))
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        // Below the tab bar and the bulk status line, which stay visible and usable.
        .default_pos(egui::pos2(180.0, 150.0))
        .default_width(720.0)
        .default_height(520.0)
        .show(ctx, |ui| body(ui, d, actions));
    if !open {
        act(actions, BulkAction::Close);
    }
}

fn body(ui: &mut egui::Ui, d: &BulkDialog, actions: &mut Vec<Action>) {
    plan(ui, d);
    ui.separator();
    match d.phase {
        BulkPhase::Confirm => confirm(ui, d, actions),
        BulkPhase::Starting | BulkPhase::Running | BulkPhase::Finished => {
            progress(ui, d, actions);
        }
    }
    if let Some(e) = &d.error {
        ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
    }
}

fn plan(ui: &mut egui::Ui, d: &BulkDialog) {
    egui::Grid::new("bulk_plan").striped(true).show(ui, |ui| {
        for h in ["Provider", "Service", "Account", "Items"] {
            ui.strong(h);
        }
        ui.end_row();
        for g in &d.groups {
            ui.label(g.provider.to_string());
            ui.label(g.service.label());
            ui.label(&g.account);
            ui.label(g.count.to_string());
            ui.end_row();
        }
    });
    if d.resumed {
        ui.label("Resuming an unfinished job: items sent without a recorded answer are re-read first, so nothing is applied twice.");
    } else {
        ui.label(d.description());
    }
    if d.operation == Change::Revoke {
        ui.label(
            RichText::new("Revoking cannot be undone.")
                .color(ui.visuals().error_fg_color)
                .strong(),
        );
    }
}

fn confirm(ui: &mut egui::Ui, d: &BulkDialog, actions: &mut Vec<Action>) {
    let n = d.items.len();
    ui.horizontal(|ui| {
        let label = ui.label(format!("Type {n} to confirm:"));
        let mut typed = d.typed.clone();
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut typed)
                    .id_salt("bulk_typed_count")
                    .hint_text(n.to_string())
                    .desired_width(80.0),
            )
            .labelled_by(label.id);
        if edit.changed() {
            act(actions, BulkAction::SetTyped(typed));
        }
        let start = format!("Start {} of {n}", d.operation);
        let danger = d.operation == Change::Revoke;
        let button = if danger {
            egui::Button::new(RichText::new(&start).color(ui.visuals().error_fg_color))
        } else {
            egui::Button::new(&start)
        };
        if ui
            .add(button)
            .on_hover_text("Runs only when the typed number matches the item count")
            .clicked()
        {
            act(actions, BulkAction::Start);
        }
        let dry_running = d.dry_run == Some(DryRunState::Running);
        if ui
            .add_enabled(!dry_running, egui::Button::new("Dry run"))
            .on_hover_text(
                "Read every item (exists, current status, allowed change) without changing anything",
            )
            .clicked()
        {
            act(actions, BulkAction::DryRun);
        }
        if ui
            .button("Close dialog")
            .on_hover_text("Close without changing anything")
            .clicked()
        {
            act(actions, BulkAction::Close);
        }
    });
    match &d.dry_run {
        None => {}
        Some(DryRunState::Running) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Dry run: reading {n} item(s)…"));
            });
        }
        Some(DryRunState::Done(verdicts)) => {
            let sending = verdicts.iter().filter(|v| v.would_send).count();
            ui.label(
                RichText::new(format!(
                    "Dry run: {sending} of {} would be sent; nothing was changed.",
                    verdicts.len()
                ))
                .strong(),
            );
            rows_table(
                ui,
                "bulk_dry_run",
                ["Id", "Name", "Current status", "Verdict"],
                verdicts.len(),
                |i| {
                    let v = &verdicts[i];
                    [
                        v.item.id.clone(),
                        v.item.name.clone(),
                        v.current.map(|s| s.label()).unwrap_or("-").to_string(),
                        v.verdict.clone(),
                    ]
                },
            );
        }
    }
}

fn progress(ui: &mut egui::Ui, d: &BulkDialog, actions: &mut Vec<Action>) {
    match &d.progress {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Writing the job to the journal…");
            });
        }
        Some(p) => {
            let done = p.total.saturating_sub(p.remaining);
            let fraction = if p.total == 0 {
                1.0
            } else {
                done as f32 / p.total as f32
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .text(format!("{done} / {}", p.total))
                    .show_percentage(),
            );
            let rate = if p.rate_per_sec > 0.0 {
                format!("{:.1} items/s", p.rate_per_sec)
            } else {
                "- items/s".to_string()
            };
            let eta = p.eta.map(format_eta).unwrap_or_else(|| "-".to_string());
            ui.label(format!(
                "Done {} (applied {}, already {}) · Failed {} · Remaining {} · {rate} · ETA {eta}",
                p.applied + p.already,
                p.applied,
                p.already,
                p.failed,
                p.remaining
            ));
            if d.phase == BulkPhase::Finished {
                let verdict = if p.cancelled {
                    format!(
                        "Cancelled: {} item(s) not sent. The job can be resumed at the next start.",
                        p.remaining
                    )
                } else {
                    "Finished.".to_string()
                };
                ui.label(RichText::new(verdict).strong());
            }
        }
    }
    ui.horizontal(|ui| {
        if d.is_active() {
            let cancel = ui.add_enabled(!d.cancel_requested, egui::Button::new("Cancel job"));
            if cancel
                .on_hover_text("Stop sending; requests in flight finish and are journaled")
                .clicked()
            {
                act(actions, BulkAction::Cancel);
            }
            if d.cancel_requested {
                ui.spinner();
                ui.label("Cancelling…");
            }
            if ui
                .button("Hide")
                .on_hover_text("Keep the job running in the background")
                .clicked()
            {
                act(actions, BulkAction::Close);
            }
        } else {
            if ui
                .add_enabled(!d.results.is_empty(), egui::Button::new("Export CSV…"))
                .on_hover_text("Save every item's result as CSV")
                .clicked()
            {
                act(actions, BulkAction::ExportResults);
            }
            if ui.button("Close dialog").clicked() {
                act(actions, BulkAction::Close);
            }
        }
    });
    // Newest first, so the live table shows what just happened.
    let n = d.results.len();
    rows_table(
        ui,
        "bulk_results",
        ["Id", "Name", "Result", "Provider code", "RequestId"],
        n,
        |i| {
            let r = &d.results[n - 1 - i];
            [
                r.item.id.clone(),
                r.item.name.clone(),
                outcome_text(r),
                r.code.clone().unwrap_or_default(),
                r.request_id.clone().unwrap_or_default(),
            ]
        },
    );
}

/// A virtual-scrolling table of text rows: only the visible rows are built (`row(i)`), so
/// thousands of items cost no more per frame than a screenful.
fn rows_table<const N: usize>(
    ui: &mut egui::Ui,
    salt: &str,
    headers: [&str; N],
    len: usize,
    row: impl Fn(usize) -> [String; N],
) {
    let mut builder = TableBuilder::new(ui)
        .id_salt(salt)
        .striped(true)
        .resizable(true)
        .max_scroll_height(320.0)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
    for i in 0..N {
        builder = if i + 1 == N {
            builder.column(Column::remainder().at_least(80.0).clip(true))
        } else {
            builder.column(Column::initial(150.0).at_least(50.0).clip(true))
        };
    }
    builder
        .header(crate::ui::widgets::cert_table::ROW_HEIGHT, |mut header| {
            for h in headers {
                header.col(|ui| {
                    ui.strong(h);
                });
            }
        })
        .body(|body| {
            body.rows(
                crate::ui::widgets::cert_table::ROW_HEIGHT,
                len,
                |mut table_row| {
                    for cell in row(table_row.index()) {
                        table_row.col(|ui| {
                            ui.label(cell);
                        });
                    }
                },
            );
        });
}
