//! Bulk revocation throughput against the simulator (a bench binary: `cargo bench --bench bulk_rate`).
//!
//! 1. 2,000 revocations with the simulator limited to q QPS (cas client-certificate calls; q from
//!    `BULK_QPS`, default 100) and the engine set to the same limit: the achieved rate must reach
//!    0.95 q.
//! 2. The limit off: certdesk's engine against a plain sequential loop over the official Python SDK
//!    (alibabacloud-cas20200630, from the conformance venv `.venv-conformance`), each revoking
//!    2,000 certificates of a fresh simulator, in the same run. Target: certdesk >= 20x faster.
//! 4. The estate: 10,000 revocations across 4 accounts (2,500 each) as one job in four parts,
//!    the simulator limiting each account to q QPS and each part drawing from its account's
//!    limiter at q: the achieved rate must reach 0.95 × 4q (`BULK_ONLY_ESTATE=1` runs only this).
//! 3. What the power-loss-durable journal costs (`synchronous=FULL`, one fsync per group commit):
//!    the same unlimited job with the journal at `synchronous=NORMAL` (what it used before), in the
//!    same run, medians of 5.

use certdesk::app::workspace::demo_configs;
use certdesk::cloud::AlibabaClientConfig;
use certdesk::cloud::{PcaClient, Transport, TransportOptions};
use certdesk::credentials::AlibabaCredentials;
use certdesk::jobs::backends::CloudBackend;
use certdesk::jobs::{
    BulkItem, BulkJob, EngineConfig, JobPart, Principal, RetryPolicy, SharedRate, start_job,
    start_parts,
};
use certdesk::model::{Change, Service};
use certdesk::sim::{self, RunningSimulator, SimOptions, SimSize, SimTuning};
use certdesk::store::journal::Journal;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ITEMS: usize = 2000;

async fn simulator(qps: Option<u32>, latency: Duration) -> RunningSimulator {
    let tuning = SimTuning {
        cas_client_certificate_qps: qps.unwrap_or(10),
        latency,
        ..SimTuning::default()
    };
    let options = SimOptions {
        size: SimSize::Count(150_000),
        rate_limit: qps.is_some(),
        seed: 5,
        ..SimOptions::default()
    };
    match sim::start_tuned(options, tuning).await {
        Ok(s) => s,
        Err(e) => panic!("simulator: {e}"),
    }
}

fn jobs_transport() -> Transport {
    Transport::with_options(TransportOptions {
        retry: RetryPolicy::none(),
        ..TransportOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The listing client: retrying (a page throttled by the simulator's limit — at q = 10 the listing
/// alone exceeds it — waits and is read again).
fn client(sim: &RunningSimulator) -> PcaClient {
    let transport = Transport::with_options(TransportOptions {
        retry: RetryPolicy {
            max_attempts: 20,
            ..RetryPolicy::for_calls()
        },
        ..TransportOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    PcaClient::new(&transport, &demo_configs(sim).0).unwrap_or_else(|e| panic!("{e}"))
}

/// The engine's backend over the simulator's demo Alibaba account, as the CLI builds it.
fn backend(sim: &RunningSimulator) -> CloudBackend {
    CloudBackend::new(&jobs_transport(), Some(&demo_configs(sim).0), None)
}

async fn issued_ids(sim: &RunningSimulator) -> Vec<String> {
    let all = client(sim)
        .list_all(|_, _| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<String> = all
        .into_iter()
        .filter(|c| c.status == "ISSUE")
        .map(|c| c.identifier)
        .take(ITEMS)
        .collect();
    assert_eq!(ids.len(), ITEMS);
    ids
}

/// CPU time of this process so far (every live thread's, from `/proc/self/task/*/schedstat`, in
/// ns): the engine, the simulator and the journal all run here, so the difference across a job is
/// what the job cost, a steadier figure than wall time on a shared 2-core machine.
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// One engine job's figures.
struct EngineRun {
    secs: f64,
    succeeded: u32,
    /// CPU per item and cores busy, when /proc says.
    cpu: Option<String>,
}

/// Runs one engine job.
async fn engine_run(sim: &RunningSimulator, ids: &[String], qps: Option<u32>) -> EngineRun {
    engine_run_with(sim, ids, qps, true).await
}

/// Runs one engine job; `durable`: the journal as shipped (`synchronous=FULL`), else NORMAL.
async fn engine_run_with(
    sim: &RunningSimulator,
    ids: &[String],
    qps: Option<u32>,
    durable: bool,
) -> EngineRun {
    // A real file, as the CLI and the GUI use: an in-memory journal would hide the cost of the
    // durability the engine promises.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("journal.sqlite");
    let journal = Arc::new(Mutex::new(
        if durable {
            Journal::open(&path)
        } else {
            Journal::open_without_power_loss_durability(&path)
        }
        .unwrap_or_else(|e| panic!("{e}")),
    ));
    let items = ids
        .iter()
        .map(|id| BulkItem {
            service: Service::Pca,
            id: id.clone(),
            site_id: None,
            name: String::new(),
        })
        .collect();
    let job = BulkJob {
        principal: Principal::profile("bench"),
        service: Service::Pca,
        request: Change::Revoke.into(),
        items,
    };
    let config = EngineConfig {
        qps: qps.and_then(NonZeroU32::new),
        concurrency: 64,
        retry: RetryPolicy::for_jobs(),
    };
    let cpu_before = process_cpu_ns();
    let started = Instant::now();
    let done = start_job(journal, Arc::new(backend(sim)), job, config)
        .unwrap_or_else(|e| panic!("{e}"))
        .wait()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if std::env::var_os("BULK_ONLY_UNLIMITED_0MS").is_some() {
        // CLOCK_MONOTONIC stamps, to cut a `perf record -k CLOCK_MONOTONIC` profile to the job.
        eprintln!("job window: {started:?} .. {:?}", Instant::now());
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(process_cpu_ns()).map(|(before, after)| {
        let ns = (after - before) as f64;
        format!(
            "CPU {:.0} µs per item (engine + journal + simulator, all in this process; {:.2} cores busy)",
            ns / 1e3 / ids.len() as f64,
            ns / 1e9 / secs
        )
    });
    EngineRun {
        secs,
        succeeded: done.applied + done.already,
        cpu,
    }
}

fn python_run(sim: &RunningSimulator, ids: &[String]) -> Option<f64> {
    let root = env!("CARGO_MANIFEST_DIR");
    let python = format!("{root}/.venv-conformance/bin/python");
    if !std::path::Path::new(&python).exists() {
        println!(
            "python baseline: skipped — no {python} (run conformance/run.sh once to create it)"
        );
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let ids_file = dir.path().join("ids.txt");
    std::fs::write(&ids_file, ids.join("\n")).ok()?;
    let output = std::process::Command::new(python)
        .arg(format!("{root}/benches/python_revoke_loop.py"))
        .arg(sim.addr().to_string())
        .arg(&sim.credentials().alibaba_access_key_id)
        .arg(sim.credentials().alibaba_access_key_secret.expose())
        .arg(&ids_file)
        .output()
        .ok()?;
    if !output.status.success() {
        println!(
            "python baseline failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    let revoked: usize = parts.next()?.parse().ok()?;
    let seconds: f64 = parts.next()?.parse().ok()?;
    assert_eq!(revoked, ids.len());
    Some(seconds)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo test --benches` runs bench binaries with --bench absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("bulk_rate: run with `cargo bench --bench bulk_rate`");
        return;
    }
    let q: u32 = std::env::var("BULK_QPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    // Profiling knob: `BULK_ONLY_UNLIMITED_0MS=1` runs only the loopback comparison.
    let quick = std::env::var_os("BULK_ONLY_UNLIMITED_0MS").is_some();
    if std::env::var_os("BULK_ONLY_ESTATE").is_some() {
        runtime.block_on(estate_limited(q));
        return;
    }
    runtime.block_on(async {
        if !quick {
            limited(q).await;
        }
        // Unlimited, at loopback speed and with a modelled 30 ms round trip (a real region is
        // tens of milliseconds away): concurrency only pays where there is latency to overlap.
        // Loopback runs take a tenth of a second and a shared 2-core machine makes single runs
        // vary by ±20 %, so they are repeated and compared by their medians.
        unlimited(0, 5).await;
        if !quick {
            unlimited(30, 1).await;
            durability_cost(5).await;
            estate_limited(q).await;
        }
    });
}

/// The unlimited loopback job with the journal as shipped (FULL) and at NORMAL, alternating,
/// `rounds` each: what syncing every group commit to disk costs.
async fn durability_cost(rounds: usize) {
    let mut full = Vec::new();
    let mut normal = Vec::new();
    for _ in 0..rounds {
        for durable in [true, false] {
            let sim = simulator(None, Duration::ZERO).await;
            let ids = issued_ids(&sim).await;
            let run = engine_run_with(&sim, &ids, None, durable).await;
            assert_eq!(run.succeeded as usize, ids.len());
            if durable {
                full.push(run.secs);
            } else {
                normal.push(run.secs);
            }
            sim.shutdown().await;
        }
    }
    let (f, n) = (median(&mut full), median(&mut normal));
    println!(
        "durability, unlimited loopback, medians of {rounds}: synchronous=FULL {f:.3} s ({:.0}/s), NORMAL {n:.3} s ({:.0}/s): FULL costs {:.0} µs per item",
        ITEMS as f64 / f,
        ITEMS as f64 / n,
        (f - n) * 1e6 / ITEMS as f64
    );
}

/// 2,000 revocations with the simulator and the engine limited to `q` QPS.
async fn limited(q: u32) {
    let sim = simulator(Some(q), Duration::ZERO).await;
    let ids = issued_ids(&sim).await;
    // Let the listing's tokens refill before timing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let run = engine_run(&sim, &ids, Some(q)).await;
    let rate = f64::from(run.succeeded) / run.secs;
    println!(
        "limited: {} revocations in {:.2} s = {rate:.1}/s at a limit of {q} QPS ({:.1}% of q; target >= 95%); throttled answers: {}",
        run.succeeded,
        run.secs,
        100.0 * rate / f64::from(q),
        sim.throttled_requests()
    );
    sim.shutdown().await;
}

/// `rounds` × (certdesk's engine, then the Python SDK loop), each on a fresh simulator (the
/// previous run revoked its certificates) with `latency_ms` added to every answer.
async fn unlimited(latency_ms: u64, rounds: usize) {
    let latency = Duration::from_millis(latency_ms);
    let label = format!("unlimited, {latency_ms} ms latency");
    let mut certdesk = Vec::new();
    let mut python = Vec::new();
    for _ in 0..rounds {
        let sim = simulator(None, latency).await;
        let ids = issued_ids(&sim).await;
        let run = engine_run(&sim, &ids, None).await;
        println!(
            "{label}: certdesk {} revocations in {:.3} s = {:.0}/s",
            run.succeeded,
            run.secs,
            f64::from(run.succeeded) / run.secs
        );
        if let Some(cpu) = run.cpu {
            println!("    {cpu}");
        }
        certdesk.push(run.secs);
        sim.shutdown().await;

        let sim = simulator(None, latency).await;
        let ids = issued_ids(&sim).await;
        if let Some(secs) = python_run(&sim, &ids) {
            println!(
                "{label}: official Python SDK loop {} revocations in {secs:.2} s = {:.0}/s",
                ids.len(),
                ids.len() as f64 / secs
            );
            python.push(secs);
        }
        sim.shutdown().await;
    }
    if !python.is_empty() {
        let (c, p) = (median(&mut certdesk), median(&mut python));
        println!(
            "  {latency_ms} ms latency, medians of {rounds}: certdesk {c:.3} s, Python {p:.2} s: certdesk is {:.1}x faster (target >= 20x)",
            p / c
        );
    }
}

/// 10,000 revocations across 4 accounts, each account limited to `q` QPS by the simulator and
/// drawing from its own limiter at `q`: one job in four parts, as the window starts a selection
/// that spans accounts.
async fn estate_limited(q: u32) {
    const ACCOUNTS: usize = 4;
    const PER_ACCOUNT: usize = 2_500;
    let tuning = SimTuning {
        cas_client_certificate_qps: q,
        ..SimTuning::default()
    };
    let options = SimOptions {
        // 4,000 private-CA certificates per account, of which more than 2,500 issued.
        size: SimSize::Count(200_000),
        rate_limit: true,
        seed: 5,
        accounts: ACCOUNTS,
        ..SimOptions::default()
    };
    let sim = sim::start_tuned(options, tuning)
        .await
        .unwrap_or_else(|e| panic!("simulator: {e}"));
    let base = demo_configs(&sim).0;
    let mut parts = Vec::new();
    for account in sim.accounts() {
        let config = AlibabaClientConfig {
            credentials: AlibabaCredentials {
                access_key_id: account.alibaba_access_key_id.clone(),
                access_key_secret: account.alibaba_access_key_secret.clone(),
                security_token: None,
            },
            ..base.clone()
        };
        let listing = Transport::with_options(TransportOptions {
            retry: RetryPolicy {
                max_attempts: 20,
                ..RetryPolicy::for_calls()
            },
            ..TransportOptions::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let all = PcaClient::new(&listing, &config)
            .unwrap_or_else(|e| panic!("{e}"))
            .list_all(|_, _| {})
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let items: Vec<BulkItem> = all
            .into_iter()
            .filter(|c| c.status == "ISSUE")
            .take(PER_ACCOUNT)
            .map(|c| BulkItem {
                service: Service::Pca,
                id: c.identifier,
                site_id: None,
                name: String::new(),
            })
            .collect();
        assert_eq!(items.len(), PER_ACCOUNT, "account {}", account.number);
        parts.push(JobPart {
            backend: Arc::new(CloudBackend::new(&jobs_transport(), Some(&config), None)),
            job: BulkJob {
                principal: Principal::profile(format!("account-{}", account.number)),
                service: Service::Pca,
                request: Change::Revoke.into(),
                items,
            },
            config: EngineConfig {
                qps: NonZeroU32::new(q),
                concurrency: 64,
                retry: RetryPolicy::for_jobs(),
            },
            rate: SharedRate::new(NonZeroU32::new(q)),
        });
    }
    // Let the listings' tokens refill before timing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let journal = Arc::new(Mutex::new(
        Journal::open(&dir.path().join("journal.sqlite")).unwrap_or_else(|e| panic!("{e}")),
    ));
    let started = Instant::now();
    let done = start_parts(&journal, parts)
        .unwrap_or_else(|e| panic!("{e}"))
        .wait()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let secs = started.elapsed().as_secs_f64();
    let succeeded = done.applied + done.already;
    assert_eq!(succeeded as usize, ACCOUNTS * PER_ACCOUNT, "{done:?}");
    let rate = f64::from(succeeded) / secs;
    let limit = f64::from(q) * ACCOUNTS as f64;
    println!(
        "estate: {succeeded} revocations across {ACCOUNTS} accounts in {secs:.2} s = {rate:.1}/s at {q} QPS per account ({:.1}% of the sum {limit:.0}/s; target >= 95%); throttled answers: {}",
        100.0 * rate / limit,
        sim.throttled_requests()
    );
    sim.shutdown().await;
}
