//! Snapshot images of the Overview and of the bulk dialog: the real app over the in-process
//! simulator, rendered headless by egui_kittest with wgpu, compared with the reference images in
//! tests/snapshots/. A visual change then shows up in review as a changed image.
//!
//! Deterministic by construction, not by luck:
//! - the simulator's seed is fixed (42) and so is the day its dates count from
//!   (`SimOptions::anchor_day`), so every certificate and its expiry are the same on any day;
//! - the Overview is counted at a fixed time (`OverviewState::freeze_clock`), so its "as of",
//!   its weeks and its days left do not move with the clock;
//! - the workspace line in the top bar names the simulator's random port: it is masked;
//! - the bulk dialog is cut out of the window, because the table behind it shows days left
//!   from the real clock.
//!
//! Rendering: wgpu's GL backend only, on a CPU adapter where there is one — Mesa llvmpipe through
//! EGL (Debian: libegl1 and libgl1-mesa-dri, in .ci/run's PACKAGES). GL only, so that a machine
//! that also has Vulkan's lavapipe draws with the same rasteriser. On a machine with a GPU, run
//! with `LIBGL_ALWAYS_SOFTWARE=1` to get llvmpipe. Fonts are egui's bundled ones.
//!
//! After an intended visual change, update the reference images and look at them before
//! committing them:
//!
//!     UPDATE_SNAPSHOTS=1 scripts/test.sh --test gui_snapshots
//!
//! (`UPDATE_SNAPSHOTS=force` rewrites them even when they still pass.) A failing run leaves
//! `<name>.new.png` and `<name>.diff.png` next to the reference (git ignores both) and prints how
//! many pixels failed at each per-pixel threshold.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::PaneKey;
use certdesk::model::{CertStatus, Service};
use certdesk::sim::SimOptions;
use eframe::egui::{self, Rect, accesskit::Role};
use eframe::egui_wgpu::{WgpuSetup, wgpu};
use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, SnapshotOptions};
use gui_support::SimGui;

/// The day the simulator's dates count from: a Monday, so the Overview's weeks start on one.
const ANCHOR_DAY: time::Date = time::macros::date!(2025 - 06 - 02);

/// When the Overview is counted: 09:00 UTC on the anchor day.
const NOW: i64 = time::macros::datetime!(2025-06-02 09:00 UTC).unix_timestamp();

/// The window: the app's default size.
const WINDOW: egui::Vec2 = egui::vec2(1280.0, 800.0);

/// How different an image may be and still pass. Per pixel: a weighted squared YIQ distance of
/// 1.0, about one level in every colour channel (egui_kittest also skips pixels it recognises as
/// anti-aliasing). Per image: 8 such pixels. Repeated runs here, and llvmpipe drawing with 128-
/// instead of 256-bit vectors (`LP_NATIVE_VECTOR_WIDTH=128`, as on an older CPU), gave images
/// identical to the bit. What fails (measured): "and" → "&" in a heading, 206 pixels; "Close
/// dialog" → "Close the dialog", 518; one point more space above the chart, 27,829; the dark
/// theme's active-status green 6 levels bluer, 286. This margin hides rounding noise, not a change.
fn tolerance() -> SnapshotOptions {
    SnapshotOptions::new().threshold(1.0).max_failed_pixels(8)
}

/// wgpu on GL only (see the module comment), preferring a CPU adapter as egui_kittest does.
fn software_gl() -> WgpuSetup {
    let mut setup = egui_kittest::wgpu::default_wgpu_setup();
    if let WgpuSetup::CreateNew(create) = &mut setup {
        create.instance_descriptor.backends = wgpu::Backends::GL;
    }
    setup
}

/// The demo workspace over a simulator whose dates count from [`ANCHOR_DAY`], in a window that
/// can be rendered; every inventory loaded.
fn gui() -> SimGui {
    let options = SimOptions {
        anchor_day: Some(ANCHOR_DAY),
        ..SimOptions::default()
    };
    let builder = Harness::builder()
        .with_size(WINDOW)
        .wgpu_setup(software_gl());
    gui_support::start_with(options, builder, gui_support::demo_in_memory)
}

impl SimGui {
    /// Hides the workspace description (it names the simulator's random port) under a mask of a
    /// fixed size, so the image does not depend on the port's digits either.
    fn mask_workspace_line(&mut self) {
        let line = self
            .harness
            .query_by_label_contains("simulator at ")
            .unwrap()
            .rect();
        let mask = Rect::from_min_size(line.min, egui::vec2(360.0, line.height()));
        self.harness.mask(mask);
    }

    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.settle();
    }
}

/// The part of `image` inside `rect`, its corners (`corner` pixels square, where the rounded
/// window lets what is behind it show) painted over in magenta, as egui_kittest masks.
fn cut_out(image: &image::RgbaImage, rect: Rect, corner: u32) -> image::RgbaImage {
    let (x, y) = (rect.min.x.round() as u32, rect.min.y.round() as u32);
    let (w, h) = (rect.width().round() as u32, rect.height().round() as u32);
    let mut part = image::imageops::crop_imm(image, x, y, w, h).to_image();
    let (w, h) = part.dimensions();
    for (px, py, pixel) in part.enumerate_pixels_mut() {
        let near = |p: u32, len: u32| p < corner || p + corner >= len;
        if near(px, w) && near(py, h) {
            *pixel = image::Rgba([255, 0, 255, 255]);
        }
    }
    part
}

#[test]
fn the_overview_looks_like_its_snapshot() {
    let mut g = gui();
    assert_eq!(g.app().tab, certdesk::app::Tab::Overview);
    g.harness.state_mut().state.overview.freeze_clock(NOW);
    g.settle();
    let o = g.app().overview.current.clone().unwrap();
    assert_eq!(o.now, NOW, "counted at the frozen time");
    assert!(o.total() > 100, "every inventory counted: {}", o.total());
    g.harness
        .get_by_label_contains("certificates, as of 2025-06-02 09:00 UTC");
    g.mask_workspace_line();
    g.harness.snapshot_options("overview", &tolerance());
}

#[test]
fn the_bulk_dialog_looks_like_its_snapshot() {
    let mut g = gui();
    g.click("Client certificates");
    // The first three active private-CA certificates in the table's order.
    let pca = PaneKey::service(Service::Pca);
    let names: Vec<String> = {
        let p = &g.app().inventory.panes[&pca];
        p.table
            .index
            .iter()
            .copied()
            .filter(|&r| p.inventory.status(r) == CertStatus::Active)
            .take(3)
            .map(|r| p.inventory.name(r).to_string())
            .collect()
    };
    assert_eq!(names.len(), 3);
    for (i, name) in names.iter().enumerate() {
        let row = g.harness.get_all_by_label(name).next().unwrap();
        if i == 0 {
            row.click();
        } else {
            row.click_modifiers(egui::Modifiers::COMMAND);
        }
        g.settle();
    }
    g.click("Revoke selected");
    g.click("Dry run");
    g.harness
        .get_by_label_contains("Dry run: 3 of 3 would be sent");
    // No pointer over a button: it would be drawn hovered.
    g.harness.remove_cursor();
    g.settle();

    let window = g
        .harness
        .get_by_role_and_label(Role::Window, "Bulk revoke")
        .rect();
    let ppp = g.harness.ctx.pixels_per_point();
    let radius = g.harness.ctx.global_style().visuals.window_corner_radius;
    let corner = f32::from(radius.nw.max(radius.ne).max(radius.sw).max(radius.se));
    let image = g.harness.render().unwrap();
    let dialog = cut_out(&image, window * ppp, (corner * ppp).ceil() as u32);
    egui_kittest::image_snapshot_options(&dialog, "bulk_dialog", &tolerance());
}
