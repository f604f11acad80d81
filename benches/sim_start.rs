//! Start-up time of the simulator: `small` (target < 2 s) and 1,000,000 IoTDA device
//! certificates (target < 10 s), in-process, release build (`cargo bench --bench sim_start`).
//! A plain timing harness: each size is started and shut down a few times; min and median are
//! printed, and the run fails if a target is missed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certdesk::sim::{self, SimOptions, SimSize};
use std::time::{Duration, Instant};

fn measure(rt: &tokio::runtime::Runtime, size: SimSize, runs: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            rt.block_on(async {
                let started = Instant::now();
                let sim = sim::start(SimOptions {
                    size,
                    ..SimOptions::default()
                })
                .await
                .expect("simulator starts");
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
    for (label, size, target) in [
        ("small", SimSize::Small, Duration::from_secs(2)),
        (
            "1,000,000 IoT certs",
            SimSize::Count(1_000_000),
            Duration::from_secs(10),
        ),
    ] {
        let (min, median) = measure(&rt, size, runs);
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
