//! The Overview's aggregation (`certdesk::app::overview::aggregate`) over 1,000,000 rows: counts
//! by service and status, the 26-week expiry histogram and the 50 soonest, in one pass.
//! Target: <= 100 ms. `cargo bench --bench overview` (`OVERVIEW_BENCH_ROWS` changes the size).
//! Without `--bench` (as `cargo test --all-targets` runs it) it takes a quick 10,000-row path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certdesk::app::PaneKey;
use certdesk::app::fake::fake_row;
use certdesk::app::inventory::{Inventory, InventoryBuilder};
use certdesk::app::overview::{SOONEST, aggregate};
use certdesk::model::Service;
use std::time::Instant;

fn inventory(service: Service, rows: usize, site: Option<i64>) -> Inventory {
    let mut b = InventoryBuilder::with_unique_ids(service, rows);
    for n in 0..rows {
        b.push_row(&fake_row(service, n, site));
    }
    b.build()
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let rows: usize = if quick {
        10_000
    } else {
        std::env::var("OVERVIEW_BENCH_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    };
    let runs = if quick { 1 } else { 11 };
    // Most rows in IoT (as in a real fleet), some in every other inventory, two ESA sites.
    let small = rows / 100;
    let t = Instant::now();
    let invs = [
        (
            PaneKey::service(Service::Kms),
            inventory(Service::Kms, small, None),
        ),
        (
            PaneKey::service(Service::Pca),
            inventory(Service::Pca, small, None),
        ),
        (PaneKey::esa(1), inventory(Service::Esa, small, Some(1))),
        (PaneKey::esa(2), inventory(Service::Esa, small, Some(2))),
        (
            PaneKey::service(Service::Vod),
            inventory(Service::Vod, small, None),
        ),
        (
            PaneKey::service(Service::Iotda),
            inventory(Service::Iotda, rows - 5 * small, None),
        ),
    ];
    let total: usize = invs.iter().map(|(_, i)| i.len()).sum();
    println!("setup: {total} rows in {:.1} s", t.elapsed().as_secs_f64());
    // fake_row spreads expiries from 30 days before to ~3 years after 1,700,000,000.
    let now = 1_700_000_000 + 86_400 * 10;
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let o = aggregate(invs.iter().map(|(k, i)| (*k, i)), now);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            assert_eq!(o.total() as usize, total);
            assert_eq!(o.soonest.len(), SOONEST.min(total));
            std::hint::black_box(o);
            ms
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let (min, median) = (times[0], times[times.len() / 2]);
    println!(
        "overview aggregate over {total} rows: min {min:.1} ms, median {median:.1} ms over {runs} runs (target <= 100 ms)"
    );
    if !quick && median > 100.0 {
        eprintln!("the 100 ms target was missed");
        std::process::exit(1);
    }
}
