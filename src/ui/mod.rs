//! egui drawing only: reads `app` state and returns actions; never waits on the network or the
//! disk (everything slow is an [`Action`] the app runs in the background). This module is the
//! window: [`CertdeskApp`], [`run`], and [`draw`] — the top bar, the tab picked, the notices,
//! the dialogs. Below it, one way down each (no file of `ui` imports this one):
//! - `tabs`: one module per tab, configuring the shared widgets;
//! - `dialogs`: the bulk, import and single-change windows drawn over the tabs;
//! - `widgets`: the certificate table, detail panel and smaller parts tabs and dialogs share;
//! - `style`: row height, date formats, colours — what everything above looks like.

pub mod dialogs;
pub mod style;
pub mod tabs;
pub mod widgets;

use crate::app::{Action, AppState, Tab, Theme};
use eframe::egui::{self, RichText};
use std::time::Instant;
use style::demo_banner_fill;
use widgets::banner;

/// The window's application: the app state plus what only the UI remembers.
pub struct CertdeskApp {
    /// Application state.
    pub state: AppState,
    applied_theme: Option<Theme>,
    started: Instant,
    first_frame_logged: bool,
    /// Keeps the in-process simulator (demo mode) alive as long as the window.
    _keep_alive: Option<Box<dyn std::any::Any>>,
}

impl CertdeskApp {
    /// Wraps an app state.
    pub fn new(state: AppState) -> Self {
        CertdeskApp {
            state,
            applied_theme: None,
            started: Instant::now(),
            first_frame_logged: false,
            _keep_alive: None,
        }
    }

    /// Measures the first-frame time from `started` (process start) instead of from now.
    pub fn started_at(mut self, started: Instant) -> Self {
        self.started = started;
        self
    }

    /// Keeps `value` (a running simulator, the runtime) alive as long as the window.
    pub fn keep_alive(mut self, value: Box<dyn std::any::Any>) -> Self {
        self._keep_alive = Some(value);
        self
    }

    /// One frame: take in finished background work, draw, apply what the user did.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.state.poll();
        if self.applied_theme != Some(self.state.theme) {
            ui.ctx().set_theme(match self.state.theme {
                Theme::Dark => egui::Theme::Dark,
                Theme::Light => egui::Theme::Light,
            });
            self.applied_theme = Some(self.state.theme);
        }
        let actions = draw(ui, &self.state);
        self.state.apply_all(actions);
        if !self.first_frame_logged {
            self.first_frame_logged = true;
            tracing::info!(
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "first frame drawn"
            );
        }
    }
}

impl eframe::App for CertdeskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}

/// Draws the whole window from `state` and returns what the user asked for.
pub fn draw(ui: &mut egui::Ui, state: &AppState) -> Vec<Action> {
    let mut actions = Vec::new();
    egui::Panel::top("top_bar").show(ui, |ui| {
        top_bar(ui, state, &mut actions);
        dialogs::bulk::status_line(ui, state, &mut actions);
    });
    if !state.notices.is_empty() {
        egui::Panel::bottom("notices").show(ui, |ui| notices(ui, state, &mut actions));
    }
    egui::CentralPanel::default().show(ui, |ui| match state.tab {
        Tab::Overview => tabs::overview::show(ui, state, &mut actions),
        Tab::Kms => tabs::kms::show(ui, state, &mut actions),
        Tab::ClientCertificates => tabs::client::show(ui, state, &mut actions),
        Tab::CdnDomains => tabs::cdn::show(ui, state, &mut actions),
        Tab::IotDevices => tabs::iot::show(ui, state, &mut actions),
        Tab::Settings => tabs::settings::show(ui, state, &mut actions),
        Tab::Audit => tabs::audit::show(ui, state, &mut actions),
    });
    dialogs::confirm::show(ui.ctx(), state, &mut actions);
    dialogs::bulk::show(ui.ctx(), state, &mut actions);
    dialogs::import::drop_target(ui.ctx(), &mut actions);
    dialogs::import::show(ui.ctx(), state, &mut actions);
    dialogs::find::show(ui.ctx(), state, &mut actions);
    actions
}

fn top_bar(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.heading("certdesk");
        ui.label(&state.workspace().description);
        ui.separator();
        dialogs::find::field(ui, state, actions);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let (label, next) = match state.theme {
                Theme::Dark => ("Light theme", Theme::Light),
                Theme::Light => ("Dark theme", Theme::Dark),
            };
            if ui
                .button(label)
                .on_hover_text("Switch the colour theme")
                .clicked()
            {
                actions.push(Action::SetTheme(next));
            }
            if ui
                .button("Inspect files…")
                .on_hover_text("Read certificate, key or PKCS#12 files and check them (or drop them on the window)")
                .clicked()
            {
                actions.push(Action::Import(crate::app::ImportAction::PickFiles));
            }
        });
    });
    if state.workspace().demo {
        let fill = demo_banner_fill(ui.visuals());
        banner(ui, fill, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("Demo — simulated cloud").strong());
                ui.label("Nothing here touches a real account.");
                if ui
                    .button("Add a real account…")
                    .on_hover_text("Open Settings to add an Alibaba Cloud or Huawei Cloud profile")
                    .clicked()
                {
                    actions.push(Action::SelectTab(Tab::Settings));
                }
            });
        });
    }
    ui.horizontal(|ui| {
        for tab in Tab::ALL {
            if ui.selectable_label(state.tab == tab, tab.label()).clicked() && state.tab != tab {
                actions.push(Action::SelectTab(tab));
            }
        }
    });
    ui.add_space(2.0);
}

fn notices(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    for (i, notice) in state.notices.iter().enumerate() {
        ui.horizontal(|ui| {
            let text = RichText::new(&notice.text);
            ui.label(match notice.level {
                crate::app::NoticeLevel::Info => text,
                crate::app::NoticeLevel::Error => text.color(ui.visuals().error_fg_color),
            });
            if ui
                .small_button("Dismiss")
                .on_hover_text("Hide this message")
                .clicked()
            {
                actions.push(Action::DismissNotice(i));
            }
        });
    }
}

/// Opens the desktop window. `profile` selects an account; without one (and without any profile
/// configured) the app opens its demo workspace over the in-process simulator; `demo_accounts`
/// opens the demo over that many simulated accounts (the estate demo).
pub fn run(profile: Option<String>, demo_accounts: Option<usize>) -> Result<(), String> {
    let started = Instant::now();
    // The CLI may have installed a subscriber already; then this one is not needed.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("certdesk-worker")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let opened = crate::app::workspace::open(profile.as_deref(), demo_accounts, runtime.handle())?;
    let mut viewport = egui::ViewportBuilder::default()
        // The Wayland app id and the X11 WM_CLASS: how the desktop matches the window to its
        // entry (assets/org.certdesk.certdesk.desktop, StartupWMClass).
        .with_app_id("org.certdesk.certdesk");
    // The icon is compiled in; a broken one is logged, never a reason not to open the window.
    match eframe::icon_data::from_png_bytes(include_bytes!(
        "../../assets/icons/hicolor/256x256/apps/certdesk.png"
    )) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(e) => tracing::warn!("window icon not decoded: {e}"),
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_title("certdesk")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    eframe::run_native(
        "certdesk",
        options,
        Box::new(move |cc| {
            let mut state = opened.state;
            let ctx = cc.egui_ctx.clone();
            state.set_repaint(move || ctx.request_repaint());
            let keep: Box<dyn std::any::Any> = Box::new((runtime, opened.keep_alive));
            Ok(Box::new(
                CertdeskApp::new(state).keep_alive(keep).started_at(started),
            ))
        }),
    )
    .map_err(|e| format!("the window could not be opened: {e}"))
}
