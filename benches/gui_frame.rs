//! GUI performance: CPU time per frame with 1,000 and 1,000,000 rows (filtered and sorted), the
//! filter over 1,000,000 rows, cold start to first frame from a 1,000,000-row cache, and the
//! resident memory at 1,000,000 rows; then the estate: the same 1,000,000 rows spread over 12
//! account-regions (3 profiles × 4 regions) in one table — frame time, find everywhere by
//! fingerprint, serial and name, and cold start from the 12 caches. Runs the real app and its real `ui` code on a headless
//! egui context (no GPU: tessellation is included, rasterisation is not).
//!
//! `cargo bench --bench gui_frame` (set `GUI_BENCH_ROWS` to change the large size). Without
//! `--bench` (`cargo test --all-targets`) it runs a quick pass with 2,000 rows. The cold
//! start and memory figures come from a child process started for just that, so the parent's
//! setup does not distort them.

use certdesk::app::fake::{FakeSource, app_over, fake_row};
use certdesk::app::inventory::{InventoryBuilder, SNAPSHOT_FORMAT};
use certdesk::app::view::{
    Cancel, FilterSpec, SortCache, SortColumn, SortSpec, StatusFilter, ViewInput, compute_view,
};
use certdesk::app::{Action, PaneKey, Tab, Workspace};
use certdesk::model::{CertStatus, Provider, Scope, Service};
use certdesk::store::{CacheKey, Store};
use certdesk::ui::CertdeskApp;
use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "CERTDESK_BENCH_COLD_START_DB";
/// Set in the cold-start child: open the estate workspace rather than one account.
const CHILD_ESTATE_ENV: &str = "CERTDESK_BENCH_COLD_START_ESTATE";
/// The estate's profiles and regions: 12 account-regions.
const ESTATE_PROFILES: [&str; 3] = ["prod", "staging", "subsidiary"];
const ESTATE_REGIONS: [&str; 4] = ["cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1"];
const SMALL: usize = 1_000;
const FRAMES: usize = 300;

/// `true` when run without `--bench` (as `cargo test --all-targets` does): a quick pass.
fn quick() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// Frames measured per size (a few in the quick pass).
fn frames() -> usize {
    if quick() { 10 } else { FRAMES }
}

fn main() {
    if let Ok(db) = std::env::var(CHILD_ENV) {
        let workspace = if std::env::var_os(CHILD_ESTATE_ENV).is_some() {
            estate_workspace()
        } else {
            single_workspace()
        };
        cold_start_child(Path::new(&db), workspace);
        return;
    }
    // `cargo test --all-targets` runs bench binaries without `--bench`: then a quick pass over
    // small inventories checks the code runs, without the million-row setup (~15 s).
    let large: usize = if quick() {
        2_000
    } else {
        std::env::var("GUI_BENCH_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    };
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "certdesk GUI benchmark ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );

    let small_db = dir.path().join("small.sqlite3");
    let large_db = dir.path().join("large.sqlite3");
    let t = Instant::now();
    write_cache(&small_db, SMALL);
    write_cache(&large_db, large);
    println!(
        "setup: wrote {SMALL} and {large} cached rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let small = frame_times(&small_db, SMALL);
    let big = frame_times(&large_db, large);
    report_frames(SMALL, &small);
    report_frames(large, &big);
    let ratio = median(&big.wall) / median(&small.wall);
    let cpu_ratio = big
        .cpu_per_frame
        .zip(small.cpu_per_frame)
        .map(|(b, s)| b / s);
    println!(
        "frame ratio {large} / {SMALL} rows: wall median {ratio:.2}x, CPU {} (target <= 1.5x)",
        cpu_ratio.map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}x"))
    );

    filter_times(large);

    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(&exe)
        .env(CHILD_ENV, &large_db)
        .output()
        .expect("cold start child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));

    let estate_db = dir.path().join("estate.sqlite3");
    write_estate_cache(&estate_db, large);
    estate(&estate_db, large, median(&small.wall), small.cpu_per_frame);
    let out = std::process::Command::new(&exe)
        .env(CHILD_ENV, &estate_db)
        .env(CHILD_ESTATE_ENV, "1")
        .output()
        .expect("cold start child");
    print!(
        "estate, 12 account-regions: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stderr));

    if quick() {
        return;
    }
    // The slow path, for comparison: the same cache without its snapshot (row by row).
    Store::open(&large_db)
        .expect("store")
        .drop_snapshot(&CacheKey::new("bench@cn-north-4", Service::Iotda))
        .expect("drop snapshot");
    let out = std::process::Command::new(&exe)
        .env(CHILD_ENV, &large_db)
        .output()
        .expect("cold start child");
    print!(
        "without the snapshot (rows only): {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn single_workspace() -> Workspace {
    Workspace::single("bench", false, "benchmark")
}

/// 3 Huawei Cloud profiles in 4 regions each.
fn estate_workspace() -> Workspace {
    Workspace {
        demo: false,
        description: "benchmark estate".into(),
        scopes: ESTATE_PROFILES
            .iter()
            .flat_map(|p| {
                ESTATE_REGIONS
                    .iter()
                    .map(move |r| Scope::new(*p, Provider::Huawei, *r))
            })
            .collect(),
    }
}

/// `rows` IoTDA rows spread evenly over the estate's 12 account-regions, each cached as the app
/// caches a fetched part (rows and snapshot); row numbers (ids, fingerprints, serials) unique
/// across the estate.
fn write_estate_cache(path: &Path, rows: usize) {
    let mut store = Store::open(path).expect("store");
    let scopes = estate_workspace().scopes;
    let per = rows.div_ceil(scopes.len());
    for (k, scope) in scopes.iter().enumerate() {
        let range = (k * per).min(rows)..((k + 1) * per).min(rows);
        let mut b = InventoryBuilder::with_unique_ids(Service::Iotda, range.len());
        for n in range {
            b.push_row(&fake_row(Service::Iotda, n, None));
        }
        let inv = b.build();
        let key = CacheKey::new(scope.cache_account(), Service::Iotda);
        store
            .save_inventory(&key, 1_700_000_000, inv.records())
            .expect("save");
        store
            .save_snapshot(&key, 1_700_000_000, SNAPSHOT_FORMAT, &inv.to_snapshot())
            .expect("snapshot");
    }
}

/// The estate's table: frame time with every account-region's rows in it, then find everywhere.
/// `single_*`: the one-account figures of the small run, for the comparison.
fn estate(db: &Path, rows: usize, single_wall_ms: f64, single_cpu_ms: Option<f64>) {
    let mut rig = open_app(db, estate_workspace());
    let t = frame_times_in(&mut rig, rows);
    let pane = &rig.app.state.inventory.panes[&PaneKey::service(Service::Iotda)];
    println!(
        "estate: {} account-regions, {} parts loaded, {} rows in the IoT table",
        estate_workspace().scopes.len(),
        pane.parts.len(),
        pane.inventory.len()
    );
    report_frames(rows, &t);
    println!(
        "estate frame vs one account of {SMALL} rows: wall median {:.3} ms vs {single_wall_ms:.3} ms, CPU {} vs {} (target <= 1 ms CPU)",
        median(&t.wall),
        t.cpu_per_frame
            .map_or_else(|| "n/a".into(), |c| format!("{c:.3} ms")),
        single_cpu_ms.map_or_else(|| "n/a".into(), |c| format!("{c:.3} ms")),
    );
    // Find everywhere over every row: the last row's fingerprint (upper case, with colons) and
    // serial (with colons), and a name fragment.
    let last = fake_row(Service::Iotda, rows - 1, None);
    let colons = |hex: &str| {
        hex.as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).to_uppercase())
            .collect::<Vec<_>>()
            .join(":")
    };
    let fingerprint = colons(last.fingerprint_sha256.as_deref().expect("fingerprint"));
    let serial = colons(last.serial.as_deref().expect("serial"));
    for (what, text) in [
        ("SHA-256 fingerprint", fingerprint.as_str()),
        ("serial", serial.as_str()),
        ("name fragment", "device-00123"),
    ] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let hits =
                certdesk::app::find::search(&rig.app.state.inventory, text, &Cancel::never())
                    .expect("not cancelled");
            times.push(t.elapsed().as_secs_f64() * 1e3);
            found = hits.len();
        }
        assert!(found >= 1, "{what} {text} found nothing");
        println!(
            "estate find by {what} over {rows} rows in 12 account-regions: median {:.1} ms, {found} hit(s) (target <= 50 ms for fingerprint and serial)",
            median(&times)
        );
    }
}

fn write_cache(path: &Path, rows: usize) {
    let mut store = Store::open(path).expect("store");
    let mut b = InventoryBuilder::with_unique_ids(Service::Iotda, rows);
    for n in 0..rows {
        b.push_row(&fake_row(Service::Iotda, n, None));
    }
    let inv = b.build();
    let key = CacheKey::new("bench@cn-north-4", Service::Iotda);
    // What the app writes after a full fetch: the rows, and (for large inventories) a snapshot.
    store
        .save_inventory(&key, 1_700_000_000, inv.records())
        .expect("save");
    store
        .save_snapshot(&key, 1_700_000_000, SNAPSHOT_FORMAT, &inv.to_snapshot())
        .expect("snapshot");
}

struct Rig {
    _runtime: tokio::runtime::Runtime,
    app: CertdeskApp,
    ctx: egui::Context,
}

fn open_app(db: &Path, workspace: Workspace) -> Rig {
    let store = Store::open(db).expect("store");
    let (runtime, mut state) = app_over(
        FakeSource::default(),
        workspace,
        Some(Arc::new(Mutex::new(store))),
        false,
    );
    state.apply(Action::SelectTab(Tab::IotDevices));
    Rig {
        _runtime: runtime,
        app: CertdeskApp::new(state),
        ctx: egui::Context::default(),
    }
}

fn input(frame: usize) -> egui::RawInput {
    let mut raw = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
        time: Some(frame as f64 / 60.0),
        ..Default::default()
    };
    // The pointer over the table, scrolling down a little every frame: every frame draws a
    // different slice of rows.
    raw.events
        .push(egui::Event::PointerMoved(egui::pos2(300.0, 400.0)));
    if frame > 5 && std::env::var_os("GUI_BENCH_NO_SCROLL").is_none() {
        raw.events.push(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -37.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: egui::Modifiers::NONE,
        });
    }
    raw
}

/// CPU time this thread has run, from the scheduler's own accounting (ns), when Linux says.
/// (The kernel updates it at scheduler ticks: exact over many frames, not for one.)
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs one frame (UI code and tessellation: the GPU upload and drawing are not part of it) and
/// returns its wall time.
fn run_frame(rig: &mut Rig, frame: usize) -> Duration {
    let t = Instant::now();
    let app = &mut rig.app;
    let mut out = rig.ctx.run_ui(input(frame), |ui| app.show(ui));
    let shapes = std::mem::take(&mut out.shapes);
    let _ = rig.ctx.tessellate(shapes, out.pixels_per_point);
    let wall = t.elapsed();
    // No GPU: the font atlas updates have nowhere to go.
    out.drop_without_applying_deltas();
    wall
}

fn shown_rows(rig: &CertdeskApp) -> usize {
    rig.state.inventory.panes[&PaneKey::service(Service::Iotda)]
        .table
        .index
        .len()
}

fn frame_times(db: &Path, rows: usize) -> FrameTimes {
    let mut rig = open_app(db, single_workspace());
    frame_times_in(&mut rig, rows)
}

fn frame_times_in(rig: &mut Rig, rows: usize) -> FrameTimes {
    let key = PaneKey::service(Service::Iotda);
    // Wait for the cache, then filter (active only) and sort (by name, descending).
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut frame = 0;
    while shown_rows(&rig.app) < rows {
        run_frame(rig, frame);
        frame += 1;
        rig.app.state.wait_idle(Duration::from_millis(20));
        assert!(Instant::now() < deadline, "cache did not load");
    }
    rig.app.state.apply(Action::SetStatusFilter(
        key,
        StatusFilter::Only(CertStatus::Active),
    ));
    rig.app.state.apply(Action::SortBy(key, SortColumn::Name));
    rig.app.state.apply(Action::SortBy(key, SortColumn::Name));
    assert!(rig.app.state.wait_idle(Duration::from_secs(120)));
    let shown = shown_rows(&rig.app);
    for f in 0..30 {
        run_frame(rig, frame + f);
    }
    let cpu0 = thread_cpu_ns();
    let times: Vec<f64> = (0..frames())
        .map(|f| run_frame(rig, frame + 30 + f).as_secs_f64() * 1e3)
        .collect();
    let cpu_per_frame = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / 1e6 / frames() as f64),
        _ => None,
    };
    if std::env::var_os("GUI_BENCH_TRACE").is_some() {
        let slow: Vec<String> = times
            .iter()
            .enumerate()
            .filter(|(_, t)| **t > 2.0 * median(&times))
            .map(|(i, t)| format!("{i}:{t:.1}"))
            .collect();
        println!("slow frames (index:ms): {}", slow.join(" "));
    }
    println!("{rows} cached rows: {shown} shown after filter (Active) and sort (name, descending)");
    FrameTimes {
        wall: times,
        cpu_per_frame,
    }
}

struct FrameTimes {
    /// Wall time of each frame, ms (includes preemption by other processes).
    wall: Vec<f64>,
    /// CPU time of this thread per frame over the whole run, ms.
    cpu_per_frame: Option<f64>,
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 50.0)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
    s[i]
}

fn report_frames(rows: usize, t: &FrameTimes) {
    let times = &t.wall;
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let cpu = t
        .cpu_per_frame
        .map_or_else(|| "n/a".to_string(), |c| format!("{c:.3} ms"));
    println!(
        "frame time, {rows} rows: CPU {cpu} per frame (thread CPU time over {} frames); wall median {:.3} ms, mean {mean:.3} ms, p95 {:.3} ms, max {:.3} ms (target <= 2 ms)",
        frames(),
        median(times),
        percentile(times, 95.0),
        percentile(times, 100.0),
    );
}

fn filter_times(rows: usize) {
    let mut b = InventoryBuilder::with_unique_ids(Service::Iotda, rows);
    for n in 0..rows {
        b.push_row(&fake_row(Service::Iotda, n, None));
    }
    let inv = b.build();
    let mk = |text: &str, sort: SortColumn| ViewInput {
        data: Arc::clone(inv.data()),
        states: Arc::clone(inv.states()),
        build_id: inv.build_id(),
        state_version: inv.state_version(),
        filter: FilterSpec {
            text: text.into(),
            ..FilterSpec::default()
        },
        sort: SortSpec {
            column: sort,
            descending: false,
        },
        now: 1_700_000_000,
    };
    let mut cache = SortCache::default();
    for column in [SortColumn::Name, SortColumn::Expiry] {
        let t = Instant::now();
        let out =
            certdesk::app::view::compute_view_cached(&mk("", column), &mut cache, &Cancel::never())
                .expect("view");
        println!(
            "sort {rows} rows by {column:?} (first time, then cached): {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
        assert_eq!(out.index.len(), rows);
    }
    for needle in ["device-0012", "DEVICE-", "a1b2", "zzz-no-match"] {
        let input = mk(needle, SortColumn::Name);
        let mut times = Vec::new();
        let mut shown = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let out = compute_view(&input, &cache, &Cancel::never()).expect("view");
            times.push(t.elapsed().as_secs_f64() * 1e3);
            shown = out.index.len();
        }
        println!(
            "filter {rows} rows by text {needle:?} (sorted by name): median {:.1} ms, {shown} rows match (target <= 100 ms, on a worker thread)",
            median(&times)
        );
    }
}

fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn cold_start_child(db: &Path, workspace: Workspace) {
    let t0 = Instant::now();
    let db: PathBuf = db.to_path_buf();
    let accounts: Vec<String> = workspace.scopes.iter().map(Scope::cache_account).collect();
    let mut rig = open_app(&db, workspace);
    let mut frame = 0;
    run_frame(&mut rig, frame);
    let first_frame = t0.elapsed();
    let rows: usize = Store::open(&db)
        .ok()
        .map(|s| {
            accounts
                .iter()
                .filter_map(|a| {
                    s.fetch_info(&CacheKey::new(a, Service::Iotda))
                        .ok()
                        .flatten()
                })
                .map(|i| i.row_count as usize)
                .sum()
        })
        .unwrap_or(0);
    while shown_rows(&rig.app) < rows {
        frame += 1;
        run_frame(&mut rig, frame);
        rig.app.state.wait_idle(Duration::from_millis(5));
        if t0.elapsed() > Duration::from_secs(120) {
            println!("cold start: rows never appeared");
            return;
        }
    }
    run_frame(&mut rig, frame + 1);
    let rows_visible = t0.elapsed();
    println!(
        "cold start with a {rows}-row cache: first frame after {:.0} ms, all rows on screen after {:.0} ms (target <= 1000 ms)",
        first_frame.as_secs_f64() * 1e3,
        rows_visible.as_secs_f64() * 1e3
    );
    for f in 0..60 {
        run_frame(&mut rig, frame + 2 + f);
    }
    let heap = rig.app.state.inventory.panes[&PaneKey::service(Service::Iotda)]
        .inventory
        .heap_bytes();
    println!(
        "memory at {rows} rows: RSS {:.0} MB (inventory columns {:.0} MB) (target <= 500 MB)",
        rss_mb().unwrap_or(f64::NAN),
        heap as f64 / 1_048_576.0
    );
}
