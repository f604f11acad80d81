//! Certificate rotation throughput against the simulator (a bench binary: `cargo bench --bench
//! rotation_rate`).
//!
//! 500 CDN domains rotated to one repository certificate, with the simulator enforcing its
//! SetCdnDomainSSLCertificate limit (`SimTuning::cdn_ssl_qps`, q from `ROTATION_QPS`, default
//! 30 — the published VOD sibling's limit the simulator uses for CDN) and the engine set to the
//! same limit: every domain is described before its change (coverage, skip, previous certificate
//! journaled) and again after it (verification). Target: the achieved rate of verified rotations
//! reaches 0.95 q. A second run adds a 30 ms round trip to every answer (a real region is tens of
//! milliseconds away), where the two describes per domain must overlap with the sends.

use certdesk::app::workspace::demo_configs;
use certdesk::cloud::cdn::DomainQuery;
use certdesk::cloud::{CdnClient, SslClient, Transport, TransportOptions};
use certdesk::credentials::Secret;
use certdesk::jobs::backends::CloudBackend;
use certdesk::jobs::rotation::{CertificateSource, DomainChecks, NewCertificate};
use certdesk::jobs::{
    Backend, BulkItem, BulkJob, EngineConfig, ItemChecks, JobExtras, Principal, RetryPolicy,
    start_job_with,
};
use certdesk::model::Service;
use certdesk::sim::{self, RunningSimulator, SimOptions, SimSize, SimTuning};
use certdesk::store::journal::Journal;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DOMAINS: usize = 500;
const ZONE: &str = "certdesk-demo.net";

async fn simulator(q: u32, latency: Duration) -> RunningSimulator {
    let tuning = SimTuning {
        cdn_ssl_qps: q,
        latency,
        ..SimTuning::default()
    };
    let options = SimOptions {
        // 1,000 CDN domains (N / 2000), of which ~85 % are online.
        size: SimSize::Count(2_000_000),
        seed: 15,
        ..SimOptions::default()
    };
    sim::start_tuned(options, tuning)
        .await
        .unwrap_or_else(|e| panic!("simulator: {e}"))
}

fn transport(retry: RetryPolicy) -> Transport {
    Transport::with_options(TransportOptions {
        retry,
        ..TransportOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A new wildcard certificate in the repository (so no domain serves it yet): its facts.
async fn new_certificate(sim: &RunningSimulator) -> NewCertificate {
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let names = vec![format!("*.{ZONE}"), ZONE.to_string()];
    let mut params = rcgen::CertificateParams::new(names.clone()).unwrap_or_else(|e| panic!("{e}"));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("*.{ZONE}"));
    let cert = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
    let ssl = SslClient::new(&transport(RetryPolicy::for_calls()), &demo_configs(sim).0)
        .unwrap_or_else(|e| panic!("{e}"));
    let uploaded = ssl
        .upload_user_certificate(
            "bench-rotation",
            &cert.pem(),
            &Secret::new(key.serialize_pem()),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(cert.der()))
    };
    NewCertificate {
        sha256,
        names,
        not_after: None,
        label: "bench wildcard".into(),
        source: CertificateSource::Repository {
            cert_id: uploaded.cert_id.unwrap_or_else(|| panic!("no CertId")),
            region: "cn-hangzhou".into(),
        },
    }
}

async fn online_domains(sim: &RunningSimulator) -> Vec<String> {
    let cdn = CdnClient::new(&transport(RetryPolicy::for_calls()), &demo_configs(sim).0)
        .unwrap_or_else(|e| panic!("{e}"));
    let all = cdn
        .describe_user_domains(&DomainQuery::default(), |_, _| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let online: Vec<String> = all
        .into_iter()
        .filter(|d| d.domain_status == "online")
        .map(|d| d.domain_name)
        .take(DOMAINS)
        .collect();
    assert_eq!(online.len(), DOMAINS, "not enough online CDN domains");
    online
}

async fn run(q: u32, latency_ms: u64) {
    let sim = simulator(q, Duration::from_millis(latency_ms)).await;
    let new = new_certificate(&sim).await;
    let domains = online_domains(&sim).await;
    let backend: Arc<dyn Backend> = Arc::new(CloudBackend::new(
        &transport(RetryPolicy::none()),
        Some(&demo_configs(&sim).0),
        None,
    ));
    let config = EngineConfig {
        qps: NonZeroU32::new(q),
        ..EngineConfig::for_service(Service::Cdn)
    };
    let checks: Arc<dyn ItemChecks> = Arc::new(
        DomainChecks::new(Arc::clone(&backend), Some(new.clone())).with_retry(config.retry),
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let journal = Arc::new(Mutex::new(
        Journal::open(&dir.path().join("journal.sqlite3")).unwrap_or_else(|e| panic!("{e}")),
    ));
    let job = BulkJob {
        principal: Principal::profile("bench"),
        service: Service::Cdn,
        request: new
            .repository_request()
            .unwrap_or_else(|| panic!("no request")),
        items: domains
            .iter()
            .map(|d| BulkItem {
                service: Service::Cdn,
                id: d.clone(),
                site_id: None,
                name: String::new(),
            })
            .collect(),
    };
    // Let the listing's and the upload's tokens refill before timing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let throttled_before = sim.throttled_requests();
    let started = Instant::now();
    let done = start_job_with(
        journal.clone(),
        backend,
        job,
        config,
        JobExtras {
            checks: Some(checks),
            params: None,
            ..JobExtras::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .wait()
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let secs = started.elapsed().as_secs_f64();
    let verified = journal
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .audit(None)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .filter(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("verified: serving the new certificate"))
        })
        .count();
    let rate = f64::from(done.applied) / secs;
    println!(
        "rotation, {latency_ms} ms latency: {} of {DOMAINS} domains rotated and verified ({verified} verified entries, {} failed) in {secs:.2} s = {rate:.2}/s at a limit of {q} QPS ({:.1}% of q; target >= 95%); throttled answers: {}",
        done.applied,
        done.failed,
        100.0 * rate / f64::from(q),
        sim.throttled_requests() - throttled_before,
    );
    assert_eq!(done.applied as usize, DOMAINS);
    assert_eq!(verified, DOMAINS);
    sim.shutdown().await;
}

fn main() {
    // `cargo test --benches` runs bench binaries with --bench absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("rotation_rate: run with `cargo bench --bench rotation_rate`");
        return;
    }
    let q: u32 = std::env::var("ROTATION_QPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        run(q, 0).await;
        run(q, 30).await;
    });
}
