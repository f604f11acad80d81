//! The bulk dialog (plan, typed-count confirmation, dry run, live progress and per-item results),
//! the small running-job indicator and the resume offer for unfinished jobs. Drawing only: reads
//! `app::bulk` state and returns actions. (The buttons that open it belong to the table's toolbar.)

use crate::app::bulk::{BulkAction, BulkDialog, BulkPhase, DryRunState, format_eta, outcome_text};
use crate::app::{Action, AppState};
use crate::model::Change;
use crate::ui::style::{format_datetime, resume_banner_fill};
use crate::ui::widgets::text_table::TextTable;
use crate::ui::widgets::{banner, busy};
use eframe::egui::{self, RichText};

fn act(actions: &mut Vec<Action>, a: BulkAction) {
    actions.push(Action::Bulk(a));
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
        let fill = resume_banner_fill(ui.visuals());
        banner(ui, fill, |ui| {
            ui.horizontal_wrapped(|ui| {
                let open = offer.counts.pending + offer.counts.sent;
                ui.label(RichText::new("Unfinished bulk job").strong());
                ui.label(format!(
                    "{} {} ({}), profile “{}”, started {}: {} done, {} failed, {} not finished.",
                    offer.job.operation,
                    offer.job.service,
                    short(&offer.job.id),
                    offer.job.profile,
                    format_datetime(offer.job.created_at),
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
        for h in ["Provider", "Service", "Account", "Region", "Items"] {
            ui.strong(h);
        }
        ui.end_row();
        for g in &d.groups {
            ui.label(g.provider.to_string());
            ui.label(g.service.label());
            ui.label(&g.account).on_hover_text(&g.signer);
            ui.label(&g.region);
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
        Some(DryRunState::Running) => busy(ui, format!("Dry run: reading {n} item(s)…")),
        Some(DryRunState::Done(verdicts)) => {
            let sending = verdicts.iter().filter(|v| v.would_send).count();
            ui.label(
                RichText::new(format!(
                    "Dry run: {sending} of {} would be sent; nothing was changed.",
                    verdicts.len()
                ))
                .strong(),
            );
            items_table("bulk_dry_run", ["Id", "Name", "Current status", "Verdict"]).show(
                ui,
                verdicts.len(),
                |i| {
                    let v = verdicts.get(i)?;
                    Some([
                        v.item.id.clone(),
                        v.item.name.clone(),
                        v.current.map(|s| s.label()).unwrap_or("-").to_string(),
                        v.verdict.clone(),
                    ])
                },
            );
        }
    }
}

fn progress(ui: &mut egui::Ui, d: &BulkDialog, actions: &mut Vec<Action>) {
    match &d.progress {
        None => busy(ui, "Writing the job to the journal…"),
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
            if p.held > 0 {
                ui.label(
                    RichText::new(format!(
                        "{} held: their state could not be read back, so they were not sent again; resuming the job reads them again",
                        p.held
                    ))
                    .color(ui.visuals().warn_fg_color),
                );
            }
            if p.throttled > 0 {
                let limit = p
                    .rate_limit
                    .map(|r| format!(" (now limiting itself to {r:.1}/s)"))
                    .unwrap_or_default();
                ui.label(format!(
                    "Throttled {} times, effective rate {:.1}/s{limit}",
                    p.throttled, p.rate_per_sec
                ));
            }
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
    let newest = |i: usize| d.results.get(n.checked_sub(i + 1)?);
    if d.spans_accounts() {
        // Which account and region each item's request went to.
        items_table(
            "bulk_results",
            [
                "Account",
                "Region",
                "Id",
                "Name",
                "Result",
                "Provider code",
                "RequestId",
            ],
        )
        .show(ui, n, |i| {
            let r = newest(i)?;
            Some([
                r.account.clone(),
                r.region.clone(),
                r.item.id.clone(),
                r.item.name.clone(),
                outcome_text(r),
                r.code.clone().unwrap_or_default(),
                r.request_id.clone().unwrap_or_default(),
            ])
        });
        return;
    }
    items_table(
        "bulk_results",
        ["Id", "Name", "Result", "Provider code", "RequestId"],
    )
    .show(ui, n, |i| {
        let r = newest(i)?;
        Some([
            r.item.id.clone(),
            r.item.name.clone(),
            outcome_text(r),
            r.code.clone().unwrap_or_default(),
            r.request_id.clone().unwrap_or_default(),
        ])
    });
}

/// The dialog's item lists: 150-point columns, scrolling past 320 points so the buttons stay
/// in view.
fn items_table<const N: usize>(
    salt: &'static str,
    headers: [&'static str; N],
) -> TextTable<'static, N> {
    TextTable {
        salt,
        headers,
        widths: &[150.0; 4],
        min_width: 50.0,
        max_height: Some(320.0),
    }
}
