//! Refreshing the estate: 12 account-regions (4 simulated accounts × 3 Huawei Cloud regions,
//! IoTDA device certificates) read through the app's own inventory walks (`app::headless`, what
//! `certdesk inventory` and the window run). Each account-region alone first, then all twelve
//! at once: the twelve should take about as long as the slowest one alone, not their sum, with
//! every walk near its own list rate limit (the simulator limits each account and region to
//! `ESTATE_LIST_QPS` requests per second, default 20; 50 rows a page).
//!
//! `cargo bench --bench estate_refresh` (`ESTATE_ROWS` sets the rows of an account's home region,
//! default 6,000). Without `--bench` (`cargo test --all-targets`) it runs a quick pass.

use certdesk::app::headless::{EstateRequest, load};
use certdesk::cloud::Transport;
use certdesk::credentials::HuaweiCredentials;
use certdesk::model::{Provider, Service};
use certdesk::profiles::{Account, AccountCredentials, Profile};
use certdesk::sim::{self, RunningSimulator, SimOptions, SimSize, SimTuning};
use std::time::Instant;

const ACCOUNTS: usize = 4;
/// IoTDA's page size (the documented maximum of `limit`).
const PAGE: usize = 50;

fn quick() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The Huawei Cloud profile of simulated account `n` (0-based) reading `regions` (indices into
/// the account's projects).
fn account(sim: &RunningSimulator, n: usize, regions: &[usize]) -> Account {
    let a = &sim.accounts()[n];
    let projects: Vec<_> = regions
        .iter()
        .map(|&r| a.huawei_projects[r].clone())
        .collect();
    let mut profile = Profile::new(
        &format!("account-{}", a.number),
        Provider::Huawei,
        &projects[0].region,
        &a.huawei_ak,
    );
    profile.project_id = Some(projects[0].project_id.clone());
    profile.regions = projects[1..].iter().map(|p| p.region.clone()).collect();
    profile.projects = projects[1..]
        .iter()
        .map(|p| (p.region.clone(), p.project_id.clone()))
        .collect();
    Account {
        profile,
        credentials: AccountCredentials::Huawei(HuaweiCredentials {
            access_key: a.huawei_ak.clone(),
            secret_key: a.huawei_sk.clone(),
            security_token: None,
        }),
    }
}

/// Loads the IoTDA rows of `accounts`; returns (seconds, rows per account-region).
fn refresh(
    sim: &RunningSimulator,
    accounts: &[Account],
    runtime: &tokio::runtime::Runtime,
) -> (f64, Vec<usize>) {
    let transport = Transport::new().unwrap_or_else(|e| panic!("{e}"));
    let endpoint = sim.endpoint();
    let no_kms = |_: &certdesk::model::Scope| Ok(Vec::new());
    let request = EstateRequest {
        accounts,
        transport: &transport,
        endpoint: Some(&endpoint),
        services: &[Service::Iotda],
        kms_ids: &no_kms,
    };
    let started = Instant::now();
    let loaded = load(&request, runtime.handle().clone(), &mut |_| {});
    let secs = started.elapsed().as_secs_f64();
    assert!(loaded.failures.is_empty(), "{:?}", loaded.failures);
    let pane = &loaded.inventories.panes[&certdesk::app::PaneKey::service(Service::Iotda)];
    let rows = pane.parts.values().map(|p| p.rows.len()).collect();
    (secs, rows)
}

fn main() {
    let rows = if quick() {
        300
    } else {
        env_or("ESTATE_ROWS", 6_000)
    };
    let qps = env_or("ESTATE_LIST_QPS", 20);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let tuning = SimTuning {
        iotda_qps: u32::try_from(qps).unwrap_or(20),
        ..SimTuning::default()
    };
    let options = SimOptions {
        size: SimSize::Count(rows),
        accounts: ACCOUNTS,
        rate_limit: true,
        ..SimOptions::default()
    };
    let sim = runtime
        .block_on(sim::start_tuned(options, tuning))
        .unwrap_or_else(|e| panic!("simulator: {e}"));
    let regions = sim.accounts()[0].huawei_projects.len();
    let all: Vec<Account> = (0..ACCOUNTS)
        .map(|n| account(&sim, n, &(0..regions).collect::<Vec<_>>()))
        .collect();
    // The simulator makes each account-region's certificates on its first call: once, untimed.
    refresh(&sim, &all, &runtime);
    std::thread::sleep(std::time::Duration::from_millis(1_100));

    // Each account-region alone.
    let mut alone = Vec::new();
    for n in 0..ACCOUNTS {
        for r in 0..regions {
            let (secs, parts) = refresh(&sim, &[account(&sim, n, &[r])], &runtime);
            let pages = parts[0].div_ceil(PAGE) as f64;
            alone.push((secs, parts[0]));
            println!(
                "alone: account {} region {}: {} rows in {secs:.2} s = {:.1} pages/s ({:.0}% of its limit {qps}/s)",
                n + 1,
                r + 1,
                parts[0],
                pages / secs,
                100.0 * pages / secs / qps as f64
            );
            // Let that account-region's tokens refill before the next.
            std::thread::sleep(std::time::Duration::from_millis(1_100));
        }
    }
    // All twelve at once.
    let (secs, parts) = refresh(&sim, &all, &runtime);
    let total: usize = parts.iter().sum();
    assert_eq!(parts.len(), ACCOUNTS * regions);
    assert_eq!(
        total,
        alone.iter().map(|(_, r)| r).sum::<usize>(),
        "the same rows"
    );
    let slowest = alone.iter().map(|(s, _)| *s).fold(0.0, f64::max);
    let sum: f64 = alone.iter().map(|(s, _)| *s).sum();
    let largest = parts.iter().copied().max().unwrap_or(0);
    let pages = largest.div_ceil(PAGE) as f64;
    println!(
        "estate refresh: {} account-regions, {total} rows in {secs:.2} s; the slowest alone took {slowest:.2} s ({:.2}x), their sum {sum:.2} s; the largest part ({largest} rows) at {:.0}% of its limit {qps}/s (targets: about the slowest, >= 90%)",
        parts.len(),
        secs / slowest,
        100.0 * pages / secs / qps as f64
    );
    runtime.block_on(sim.shutdown());
}
