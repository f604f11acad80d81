//! Start-up time of the simulator: `small` (target < 2 s) and 1,000,000 IoTDA device
//! certificates (target < 10 s), in-process, release build (`cargo bench --bench sim_start`).
//! A plain timing harness: each size is started and shut down a few times; min and median are
//! printed, and the run fails if a target is missed.
//!
//! Inventories are built per account and region when first addressed, so "listening" is not the
//! whole cost: each size is also timed up to "home inventories ready" (the first account's KMS,
//! private-CA, ESA, VOD, CDN and IoTDA state built, what a first request to each pays), and a
//! simulator of 1,000 accounts is timed to listening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certdesk::sim::{self, RunningSimulator, SimOptions, SimSize};
use std::time::{Duration, Instant};

/// Builds the first account's home inventories through the test accessors (each builds the
/// service's state on first use, as a request would).
fn build_home_inventories(sim: &RunningSimulator) {
    assert!(!sim.kms_certificate_ids().is_empty());
    assert!(sim.pca_status("none").is_none());
    assert!(sim.esa_status(0, "none").is_none());
    assert!(sim.vod_ssl("none").is_none());
    assert!(!sim.cdn_domains(0, sim::ALIBABA_REGIONS[0]).is_empty());
    assert!(sim.iotda_count() > 0);
}

fn measure(
    rt: &tokio::runtime::Runtime,
    options: SimOptions,
    ready: bool,
    runs: usize,
) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            rt.block_on(async {
                let started = Instant::now();
                let sim = sim::start(options.clone()).await.expect("simulator starts");
                if ready {
                    build_home_inventories(&sim);
                }
                let elapsed = started.elapsed();
                sim.shutdown().await;
                elapsed
            })
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent; keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { 7 };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut failed = false;
    let sized = |size, accounts| SimOptions {
        size,
        accounts,
        ..SimOptions::default()
    };
    for (label, options, ready, target) in [
        (
            "small",
            sized(SimSize::Small, 1),
            false,
            Duration::from_secs(2),
        ),
        (
            "small, home inventories ready",
            sized(SimSize::Small, 1),
            true,
            Duration::from_secs(2),
        ),
        (
            "small, 1,000 accounts",
            sized(SimSize::Small, 1000),
            false,
            Duration::from_secs(2),
        ),
        (
            "1,000,000 IoT certs",
            sized(SimSize::Count(1_000_000), 1),
            false,
            Duration::from_secs(10),
        ),
        (
            "1,000,000 IoT certs, home inventories ready",
            sized(SimSize::Count(1_000_000), 1),
            true,
            Duration::from_secs(10),
        ),
    ] {
        let (min, median) = measure(&rt, options, ready, runs);
        println!(
            "sim_start/{label}: min {:.1} ms, median {:.1} ms over {runs} runs (target < {} s)",
            min.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
            target.as_secs()
        );
        failed |= median >= target;
    }
    if failed {
        eprintln!("a start-up target was missed");
        std::process::exit(1);
    }
}
