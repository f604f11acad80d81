//! The real app (real clients, real signing, real HTTP) against the in-process simulator in an
//! egui_kittest harness: the set-up every GUI integration test shares. Each test file adds its own
//! helpers in an `impl SimGui` block of its own.
#![allow(dead_code, clippy::unwrap_used)] // not every test file uses every helper; setup panics

use certdesk::app::AppState;
use certdesk::app::workspace::demo_state;
use certdesk::cloud::Transport;
use certdesk::sim::{RunningSimulator, SimOptions};
use certdesk::store::Store;
use certdesk::ui::CertdeskApp;
use eframe::egui;
use egui_kittest::{Harness, HarnessBuilder};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A window of the real app over a running simulator.
pub struct SimGui {
    /// The headless window.
    pub harness: Harness<'static, CertdeskApp>,
    /// The simulator the app talks to (read back to check state changes).
    pub sim: RunningSimulator,
    /// Frames [`SimGui::settle`] draws after the work is done (3; more where open animations,
    /// e.g. a dialog's collapsing sections, must finish before clicks land on their widgets).
    pub settle_frames: usize,
    _runtime: tokio::runtime::Runtime,
}

/// The demo workspace (in-memory cache, no profile management) in a window of `size`.
pub fn demo(size: egui::Vec2) -> SimGui {
    start(size, demo_in_memory)
}

/// The demo workspace's state over `sim`, with an in-memory cache and no profile management.
pub fn demo_in_memory(
    sim: &RunningSimulator,
    transport: &Transport,
    runtime: &tokio::runtime::Handle,
) -> AppState {
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    demo_state(sim, Some(store), transport, runtime, None)
}

/// A window of `size` over the app state `make_state` builds for a fresh simulator; waits until
/// the first background work is done.
pub fn start(
    size: egui::Vec2,
    make_state: impl FnOnce(&RunningSimulator, &Transport, &tokio::runtime::Handle) -> AppState,
) -> SimGui {
    start_with(
        SimOptions::default(),
        Harness::builder().with_size(size),
        make_state,
    )
}

/// Like [`start`], over a simulator started with `options`, in the window `builder` makes (its
/// size, a renderer for snapshot images).
pub fn start_with(
    options: SimOptions,
    builder: HarnessBuilder<CertdeskApp>,
    make_state: impl FnOnce(&RunningSimulator, &Transport, &tokio::runtime::Handle) -> AppState,
) -> SimGui {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime.block_on(certdesk::sim::start(options)).unwrap();
    let transport = Transport::new().unwrap();
    let state = make_state(&sim, &transport, runtime.handle());
    let harness = builder.build_ui_state(
        |ui, app: &mut CertdeskApp| app.show(ui),
        CertdeskApp::new(state),
    );
    let mut g = SimGui {
        harness,
        sim,
        settle_frames: 3,
        _runtime: runtime,
    };
    g.settle();
    g
}

/// Steps `harness` until its app has no background work left (failing after `timeout`), then
/// `frames` more so what arrived is drawn. Shared with the fake-source window of gui_app.rs.
pub fn settle_harness(
    harness: &mut Harness<'static, CertdeskApp>,
    timeout: Duration,
    frames: usize,
) {
    let deadline = Instant::now() + timeout;
    loop {
        harness.step();
        if !harness.state().state.is_busy() {
            break;
        }
        assert!(Instant::now() < deadline, "background work did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run_steps(frames);
}

impl SimGui {
    /// Steps frames until no background work is left (60 s at most), then `settle_frames` more
    /// so what arrived is drawn.
    pub fn settle(&mut self) {
        settle_harness(
            &mut self.harness,
            Duration::from_secs(60),
            self.settle_frames,
        );
    }

    /// The app state behind the window.
    pub fn app(&self) -> &AppState {
        &self.harness.state().state
    }
}
