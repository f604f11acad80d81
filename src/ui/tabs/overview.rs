//! The Overview tab: counts by service and status over every inventory, an egui_plot chart of the
//! certificates expiring per week over the next 26 weeks (stacked by service, the expired apart),
//! and the 50 soonest to expire. A click on a bar, a chart-table cell or a list row opens that
//! inventory's tab filtered to those certificates. Reads the cached [`Overview`] (counted at its
//! own `now`, which every date and day count here uses); never aggregates itself.

use crate::app::overview::{
    Bucket, Overview, SERVICES, STATUSES, Thresholds, WEEK, WEEKS, bucket_of, week_filter,
};
use crate::app::{Action, AppState, LoadState};
use crate::model::Service;
use crate::ui::style::{
    EXPIRED_LABEL, format_date, format_datetime, level_color, service_color, status_color, tinted,
};
use eframe::egui::{self, Color32, RichText, Role, WidgetInfo};
use egui_plot::{Bar, BarChart, Legend, Plot, PlotPoint, PlotTransform, Text, VLine};

/// Where the chart puts the expired group (apart from week 0 at x = 0).
pub const EXPIRED_X: f64 = -2.0;

/// Accessible label of the chart.
pub const CHART_LABEL: &str = "Certificates expiring per week";

/// Id under which the chart's last transform is kept (tests click bars through it).
pub fn chart_transform_id() -> egui::Id {
    egui::Id::unique("certdesk_overview_chart_transform")
}

/// The chart's transform of the last frame, if the chart was drawn.
pub fn chart_transform(ctx: &egui::Context) -> Option<PlotTransform> {
    ctx.data(|d| d.get_temp(chart_transform_id()))
}

/// Accessible label of a chart-table cell.
pub fn bucket_cell_label(o: &Overview, bucket: Bucket, service: Service) -> String {
    format!(
        "{} {}: {}",
        service.label(),
        bucket_name(o, bucket),
        o.in_bucket(bucket, service)
    )
}

/// Accessible label of a count cell.
pub fn count_label(service: Option<Service>, status: &str, n: u64) -> String {
    format!(
        "{} {status}: {n}",
        service.map_or("All services", Service::label)
    )
}

/// "Expired" or "week of YYYY-MM-DD".
pub fn bucket_name(o: &Overview, bucket: Bucket) -> String {
    match bucket {
        Bucket::Expired => "expired".into(),
        Bucket::Week(w) => format!("week of {}", format_date(o.now + w as i64 * WEEK)),
    }
}

/// Draws the tab.
pub fn show(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    header(ui, state, actions);
    let Some(o) = state.overview.current.clone() else {
        ui.spinner();
        return;
    };
    log_first_draw(ui, &o);
    let thresholds = state.overview.thresholds;
    egui::ScrollArea::vertical()
        .id_salt("overview_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.heading("Certificates by service and status");
            counts(ui, &o);
            if state.workspace().scopes.len() > 2 {
                by_account(ui, state, &o);
            }
            ui.add_space(8.0);
            ui.heading("Expiring per week, next 26 weeks");
            chart(ui, &o, actions);
            chart_table(ui, &o, actions);
            ui.add_space(8.0);
            ui.heading(format!("The {} soonest to expire", o.soonest.len()));
            soonest(ui, &o, thresholds, actions);
        });
}

/// The counts split by account and region (estates): rows, expired, expiring within four
/// weeks, and per service, one line per account and region with any row.
fn by_account(ui: &mut egui::Ui, state: &AppState, o: &Overview) {
    let profiles = state.workspace().profiles().len();
    egui::CollapsingHeader::new("Split by account and region")
        .id_salt("overview_by_account")
        .default_open(profiles > 1)
        .show(ui, |ui| {
            egui::Grid::new("overview_by_account_grid")
                .striped(true)
                .show(ui, |ui| {
                    for h in [
                        "Account",
                        "Region",
                        "Total",
                        "Expired",
                        "Within 4 weeks",
                        "Revoked",
                    ] {
                        ui.strong(h);
                    }
                    for service in SERVICES {
                        ui.strong(service.label());
                    }
                    ui.end_row();
                    let red = ui.visuals().error_fg_color;
                    let warn = ui.visuals().warn_fg_color;
                    for (id, counts) in o.by_scope.iter().enumerate() {
                        let Some(scope) = u16::try_from(id)
                            .ok()
                            .and_then(|id| state.workspace().scope(id))
                        else {
                            continue;
                        };
                        if counts.is_empty() {
                            continue;
                        }
                        ui.label(&scope.profile);
                        ui.label(&scope.region);
                        ui.label(counts.total().to_string());
                        let expired = RichText::new(counts.expired.to_string());
                        ui.label(if counts.expired > 0 {
                            expired.color(red)
                        } else {
                            expired.weak()
                        });
                        let soon = RichText::new(counts.within_4_weeks.to_string());
                        ui.label(if counts.within_4_weeks > 0 {
                            soon.color(warn)
                        } else {
                            soon.weak()
                        });
                        ui.label(counts.revoked().to_string());
                        for service in SERVICES {
                            let n = counts.by_service[crate::app::overview::service_index(service)];
                            let text = RichText::new(n.to_string());
                            ui.label(if n > 0 { text } else { text.weak() });
                        }
                        ui.end_row();
                    }
                });
        });
}

/// Logs once when the Overview first shows certificates (the GUI smoke test waits for it).
fn log_first_draw(ui: &egui::Ui, o: &Overview) {
    if o.total() == 0 {
        return;
    }
    let id = egui::Id::unique("certdesk_overview_drawn");
    let first = ui.data_mut(|d| {
        let seen = d.get_temp::<bool>(id).unwrap_or(false);
        d.insert_temp(id, true);
        !seen
    });
    if first {
        tracing::info!(rows = o.total(), "overview drawn");
    }
}

fn header(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        let fetching = state.inventory.panes.values().any(|p| p.is_fetching());
        if ui
            .add_enabled(!fetching, egui::Button::new("Refresh all"))
            .on_hover_text("Fetch every inventory from the cloud")
            .clicked()
        {
            actions.push(Action::RefreshAll);
        }
        if let Some(o) = &state.overview.current {
            ui.label(format!(
                "{} certificates, as of {}",
                o.total(),
                format_datetime(o.now)
            ));
        }
        if state.overview.computing {
            ui.spinner().on_hover_text("Counting");
        }
        let stale = state.inventory.panes.values().filter(|p| p.stale()).count();
        if stale > 0 {
            ui.label(
                RichText::new(format!(
                    "{stale} inventories show the last known state from the cache"
                ))
                .italics()
                .color(ui.visuals().warn_fg_color),
            );
        }
    });
    // Fetches in progress, one line: rows so far per service (ESA sites added up).
    let mut loading: Vec<(Service, u64, Option<u64>, usize)> = Vec::new();
    for p in state.inventory.panes.values() {
        if let LoadState::Fetching { rows, total, .. } = &p.load() {
            match loading.iter_mut().find(|(s, ..)| *s == p.key.service) {
                Some(entry) => {
                    entry.1 += rows;
                    entry.2 = entry.2.zip(*total).map(|(a, b)| a + b);
                    entry.3 += 1;
                }
                None => loading.push((p.key.service, *rows, *total, 1)),
            }
        }
    }
    loading.sort_by_key(|(s, ..)| *s);
    if !loading.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.spinner();
            let parts: Vec<String> = loading
                .iter()
                .map(|(service, rows, total, n)| {
                    let sites = if *n > 1 {
                        format!(" ({n} sites)")
                    } else {
                        String::new()
                    };
                    match total {
                        Some(t) => format!("{service}{sites} {rows} of {t} rows"),
                        None => format!("{service}{sites} {rows} rows"),
                    }
                })
                .collect();
            ui.label(format!("Fetching: {}", parts.join(" · ")));
        });
    }
    ui.separator();
}

fn counts(ui: &mut egui::Ui, o: &Overview) {
    let cell = |ui: &mut egui::Ui, text: RichText, label: String| {
        ui.label(text)
            .widget_info(|| WidgetInfo::labeled(Role::Label, true, label.clone()));
    };
    egui::Grid::new("overview_counts")
        .striped(true)
        .num_columns(STATUSES.len() + 4)
        .show(ui, |ui| {
            ui.strong("Service");
            for s in STATUSES {
                ui.strong(s.label());
            }
            ui.strong("Total");
            ui.strong("Expired");
            ui.strong("No expiry");
            ui.end_row();
            let dark = ui.visuals().dark_mode;
            let red = ui.visuals().error_fg_color;
            for service in SERVICES {
                let i = crate::app::overview::service_index(service);
                ui.label(service.label());
                for status in STATUSES {
                    let n = o.count(service, status);
                    let text = RichText::new(n.to_string());
                    let text = if n > 0 {
                        text.color(status_color(status, dark))
                    } else {
                        text.weak()
                    };
                    cell(ui, text, count_label(Some(service), status.label(), n));
                }
                let total = o.service_total(service);
                cell(
                    ui,
                    RichText::new(total.to_string()).strong(),
                    count_label(Some(service), "Total", total),
                );
                let expired = o.expired[i];
                let text = RichText::new(expired.to_string());
                cell(
                    ui,
                    if expired > 0 {
                        text.color(red)
                    } else {
                        text.weak()
                    },
                    count_label(Some(service), "Expired", expired),
                );
                cell(
                    ui,
                    RichText::new(o.no_expiry[i].to_string()),
                    count_label(Some(service), "No expiry", o.no_expiry[i]),
                );
                ui.end_row();
            }
            ui.strong("All");
            for status in STATUSES {
                let n = o.status_total(status);
                cell(
                    ui,
                    RichText::new(n.to_string()).strong(),
                    count_label(None, status.label(), n),
                );
            }
            let total = o.total();
            cell(
                ui,
                RichText::new(total.to_string()).strong(),
                count_label(None, "Total", total),
            );
            let expired: u64 = o.expired.iter().sum();
            cell(
                ui,
                RichText::new(expired.to_string()).strong(),
                count_label(None, "Expired", expired),
            );
            let unknown: u64 = o.no_expiry.iter().sum();
            cell(
                ui,
                RichText::new(unknown.to_string()).strong(),
                count_label(None, "No expiry", unknown),
            );
            ui.end_row();
        });
}

/// The x position of a bucket in the chart.
pub fn bucket_x(bucket: Bucket) -> f64 {
    match bucket {
        Bucket::Expired => EXPIRED_X,
        Bucket::Week(w) => w as f64,
    }
}

/// The bucket and service under a chart point (the segment of a stacked bar), if any.
pub fn hit(o: &Overview, point: PlotPoint) -> Option<(Bucket, Service)> {
    let x = point.x.round();
    if (point.x - x).abs() > 0.4 || point.y < 0.0 {
        return None;
    }
    let bucket = if x == EXPIRED_X {
        Bucket::Expired
    } else if (0.0..WEEKS as f64).contains(&x) {
        Bucket::Week(x as usize)
    } else {
        return None;
    };
    let mut base = 0.0;
    for service in SERVICES {
        let n = o.in_bucket(bucket, service) as f64;
        if n > 0.0 && point.y >= base && point.y < base + n {
            return Some((bucket, service));
        }
        base += n;
    }
    None
}

/// The middle of a bucket's segment for `service`, in chart coordinates (tests click it).
pub fn segment_center(o: &Overview, bucket: Bucket, service: Service) -> Option<PlotPoint> {
    let mut base = 0.0;
    for s in SERVICES {
        let n = o.in_bucket(bucket, s) as f64;
        if s == service {
            return (n > 0.0).then(|| PlotPoint::new(bucket_x(bucket), base + n / 2.0));
        }
        base += n;
    }
    None
}

fn buckets() -> impl Iterator<Item = Bucket> {
    std::iter::once(Bucket::Expired).chain((0..WEEKS).map(Bucket::Week))
}

fn open_bucket(o: &Overview, bucket: Bucket, service: Service, actions: &mut Vec<Action>) {
    if let Some(key) = o.pane_for(bucket, service) {
        actions.push(Action::ShowExpiring(key, o.filter_of(bucket)));
    }
}

fn chart(ui: &mut egui::Ui, o: &Overview, actions: &mut Vec<Action>) {
    let mut charts: Vec<BarChart> = Vec::new();
    for service in SERVICES {
        let bars: Vec<Bar> = buckets()
            .map(|b| {
                Bar::new(bucket_x(b), o.in_bucket(b, service) as f64)
                    .name(bucket_name(o, b))
                    .width(0.8)
            })
            .collect();
        let label = service.label();
        let mut chart = BarChart::new(label, bars)
            .color(service_color(service))
            .element_formatter(Box::new(move |bar, _| {
                format!("{label}, {}: {}", bar.name, bar.value)
            }));
        {
            let below: Vec<&BarChart> = charts.iter().collect();
            if !below.is_empty() {
                chart = chart.stack_on(&below);
            }
        }
        charts.push(chart);
    }
    let now = o.now;
    let max = buckets().map(|b| o.bucket_total(b)).max().unwrap_or(0) as f64;
    let expired_total = o.bucket_total(Bucket::Expired);
    let response = Plot::new("overview_chart")
        .height(240.0)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_grid([false, true])
        .include_x(EXPIRED_X - 0.7)
        .include_x(WEEKS as f64 - 0.3)
        .include_y(0.0)
        .include_y((max * 1.15).max(1.0))
        .x_axis_formatter(move |mark, _| {
            let v = mark.value;
            if (v - EXPIRED_X).abs() < 1e-9 {
                "Expired".to_string()
            } else if v >= 0.0 && v.fract() == 0.0 && (v as i64) % 4 == 0 {
                let t = now + v as i64 * WEEK;
                format_date(t).get(5..).unwrap_or_default().to_string()
            } else {
                String::new()
            }
        })
        .x_grid_spacer(|input| {
            let (lo, hi) = input.bounds;
            let mut marks = Vec::new();
            let mut v = lo.ceil();
            while v <= hi {
                marks.push(egui_plot::GridMark {
                    value: v,
                    step_size: if v == EXPIRED_X || (v >= 0.0 && (v as i64) % 4 == 0) {
                        4.0
                    } else {
                        1.0
                    },
                });
                v += 1.0;
            }
            marks
        })
        .y_axis_label("certificates")
        .show(ui, |plot_ui| {
            for chart in charts {
                plot_ui.bar_chart(chart);
            }
            plot_ui.vline(
                VLine::new("", -1.0)
                    .color(Color32::GRAY)
                    .style(egui_plot::LineStyle::dashed_dense()),
            );
            plot_ui.text(
                Text::new(
                    "",
                    PlotPoint::new(EXPIRED_X, expired_total as f64 + max * 0.07 + 0.3),
                    RichText::new(format!("already expired: {expired_total}")).strong(),
                )
                .color(EXPIRED_LABEL),
            );
        });
    let transform = response.transform;
    ui.ctx()
        .data_mut(|d| d.insert_temp(chart_transform_id(), transform));
    let plot = response.response;
    plot.widget_info(|| WidgetInfo::labeled(Role::Figure, true, CHART_LABEL));
    if plot.clicked()
        && let Some(pos) = plot.interact_pointer_pos()
        && let Some((bucket, service)) = hit(o, transform.value_from_position(pos))
    {
        open_bucket(o, bucket, service, actions);
    }
    if plot.hovered()
        && plot
            .ctx
            .input(|i| i.pointer.hover_pos())
            .is_some_and(|p| hit(o, transform.value_from_position(p)).is_some())
    {
        plot.ctx.set_cursor_icon(egui::CursorIcon::PointingHand);
    }
}

/// The chart's numbers as buttons: the keyboard and screen-reader way to do what a bar click does.
fn chart_table(ui: &mut egui::Ui, o: &Overview, actions: &mut Vec<Action>) {
    egui::CollapsingHeader::new("Chart as a table")
        .id_salt("overview_chart_table")
        .show(ui, |ui| {
            egui::Grid::new("overview_chart_grid")
                .striped(true)
                .num_columns(SERVICES.len() + 2)
                .show(ui, |ui| {
                    ui.strong("Expires");
                    for service in SERVICES {
                        ui.strong(service.label());
                    }
                    ui.strong("All");
                    ui.end_row();
                    for bucket in buckets() {
                        let total = o.bucket_total(bucket);
                        if total == 0 {
                            continue;
                        }
                        ui.label(bucket_name(o, bucket));
                        for service in SERVICES {
                            let n = o.in_bucket(bucket, service);
                            if n == 0 {
                                ui.weak("0");
                                continue;
                            }
                            let label = bucket_cell_label(o, bucket, service);
                            let r = ui
                                .add(egui::Button::new(n.to_string()).small())
                                .on_hover_text(format!("Show these {n} in their tab"));
                            r.widget_info(|| {
                                WidgetInfo::labeled(Role::Button, true, label.clone())
                            });
                            if r.clicked() {
                                open_bucket(o, bucket, service, actions);
                            }
                        }
                        ui.label(total.to_string());
                        ui.end_row();
                    }
                });
        });
}

fn soonest(ui: &mut egui::Ui, o: &Overview, thresholds: Thresholds, actions: &mut Vec<Action>) {
    if o.soonest.is_empty() {
        ui.weak("No certificate with a known expiry is still valid.");
        return;
    }
    // Days left and colours as of the overview's count, like the header's "as of".
    let now = o.now;
    let visuals = ui.visuals().clone();
    egui::Grid::new("overview_soonest")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for h in ["Days left", "Expires", "Service", "Name", "Status", "Id"] {
                ui.strong(h);
            }
            ui.end_row();
            for e in &o.soonest {
                let level = thresholds.level(Some(e.not_after), now);
                let color = level_color(level, &visuals);
                let paint = |t: RichText| tinted(t, color);
                ui.label(paint(RichText::new(e.days_left(now).to_string())));
                ui.label(paint(RichText::new(format_date(e.not_after))));
                ui.label(match e.key.site_id {
                    Some(site) => format!("{} (site {site})", e.key.service.label()),
                    None => e.key.service.label().to_string(),
                });
                let r = ui
                    .add(egui::Button::new(paint(RichText::new(&e.name))).frame(false))
                    .on_hover_text(format!(
                        "Open {} in its tab, filtered to its week ({})",
                        e.name,
                        bucket_of(e.not_after, o.now)
                            .map_or_else(|| "later".to_string(), |b| bucket_name(o, b))
                    ));
                if r.clicked() {
                    actions.push(Action::ShowCertificate(
                        e.key,
                        e.id.clone(),
                        week_filter(e.not_after, o.now),
                    ));
                }
                ui.label(
                    RichText::new(e.status.label())
                        .color(status_color(e.status, visuals.dark_mode)),
                );
                ui.monospace(&e.id);
                ui.end_row();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::PaneKey;
    use crate::app::inventory::Inventory;
    use crate::app::overview::{DAY, aggregate};
    use crate::model::{CertStatus, CertificateRow};

    const NOW: i64 = 1_800_000_000;

    fn inv(service: Service, days: &[i64]) -> Inventory {
        let rows: Vec<CertificateRow> = days
            .iter()
            .enumerate()
            .map(|(n, d)| CertificateRow {
                service,
                id: format!("{n}"),
                name: format!("n{n}"),
                status: CertStatus::Active,
                raw_status: "ACTIVE".into(),
                not_after: Some(NOW + d * DAY),
                serial: None,
                fingerprint_sha256: None,
                site_id: None,
                pem: None,
            })
            .collect();
        Inventory::from_rows(service, &rows)
    }

    #[test]
    fn a_point_on_the_chart_hits_the_stacked_segment_under_it() {
        // Week 0: KMS 2 at the bottom, IoTDA 3 on top; expired: IoTDA 1.
        let kms = inv(Service::Kms, &[1, 2]);
        let iot = inv(Service::Iotda, &[1, 2, 3, -4]);
        let o = aggregate(
            [
                (PaneKey::service(Service::Kms), &kms),
                (PaneKey::service(Service::Iotda), &iot),
            ],
            NOW,
        );
        let at = |x, y| hit(&o, PlotPoint::new(x, y));
        assert_eq!(at(0.0, 1.0), Some((Bucket::Week(0), Service::Kms)));
        assert_eq!(at(0.3, 2.5), Some((Bucket::Week(0), Service::Iotda)));
        assert_eq!(at(0.0, 5.5), None, "above the bar");
        assert_eq!(at(0.5, 1.0), None, "between bars");
        assert_eq!(at(EXPIRED_X, 0.5), Some((Bucket::Expired, Service::Iotda)));
        assert_eq!(at(-1.0, 0.5), None, "the gap");
        let c = segment_center(&o, Bucket::Week(0), Service::Iotda).unwrap();
        assert_eq!((c.x, c.y), (0.0, 3.5));
        assert_eq!(segment_center(&o, Bucket::Week(1), Service::Kms), None);
    }
}
