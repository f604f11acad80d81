//! A request is retried in one place only (`cloud::retry`): with every request failing, the
//! simulator counts exactly the transport's attempts per logical call — a page the window asks
//! for — never attempts times attempts (the app used to retry pages the
//! transport had already retried: up to 9 requests for one page).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use certdesk::app::workspace::demo_state;
use certdesk::app::{Action, ClientSection, LoadState, PaneKey, Tab};
use certdesk::cloud::{RetryPolicy, Transport, TransportOptions};
use certdesk::model::{ErrorKind, Service};
use certdesk::sim::{self, SimOptions, SimTuning};
use std::time::Duration;

const ATTEMPTS: u32 = 3;

#[test]
fn every_logical_call_is_sent_at_most_the_policys_attempts() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Every request gets a fault (500, 503, a reset, or an answer slower than the client waits).
    let sim = runtime
        .block_on(sim::start_tuned(
            SimOptions {
                fault_rate: 1.0,
                rate_limit: false,
                ..SimOptions::default()
            },
            SimTuning {
                fault_delay: Duration::from_secs(2),
                ..SimTuning::default()
            },
        ))
        .unwrap();
    let transport = Transport::with_options(TransportOptions {
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_attempts: ATTEMPTS,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        ..TransportOptions::default()
    })
    .unwrap();
    // No cache: nothing is fetched until a tab asks.
    let mut app = demo_state(&sim, None, &transport, runtime.handle(), None);
    assert_eq!(sim.total_requests(), 0);

    // One page: the window shows the failure after exactly the transport's attempts.
    app.apply(Action::SelectTab(Tab::ClientCertificates));
    app.apply(Action::SelectClientSection(ClientSection::PrivateCa));
    assert!(app.wait_idle(Duration::from_secs(30)));
    let pca = &app.inventory.panes[&PaneKey::service(Service::Pca)];
    let LoadState::Failed { error, .. } = &pca.load() else {
        panic!("expected the page to fail: {:?}", pca.load());
    };
    assert_eq!(error.kind, ErrorKind::Transient, "{error}");
    // Faulted requests never reach a service's counter: the simulator's total counts them all.
    assert_eq!(sim.total_requests(), u64::from(ATTEMPTS));
    assert_eq!(sim.faults_injected(), u64::from(ATTEMPTS));

    // A retry from the window is one more logical call: the same bound again.
    app.apply(Action::RetryFetch(PaneKey::service(Service::Pca)));
    assert!(app.wait_idle(Duration::from_secs(30)));
    assert_eq!(sim.total_requests(), 2 * u64::from(ATTEMPTS));

    // The other cloud, the other transport path (Huawei signing, marker paging): the same bound.
    app.apply(Action::SelectTab(Tab::IotDevices));
    assert!(app.wait_idle(Duration::from_secs(30)));
    assert!(matches!(
        app.inventory.panes[&PaneKey::service(Service::Iotda)].load(),
        LoadState::Failed { .. }
    ));
    assert_eq!(sim.total_requests(), 3 * u64::from(ATTEMPTS));
    runtime.block_on(sim.shutdown());
}
