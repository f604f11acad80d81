//! Crash safety of bulk jobs: the CLI runs a revoke job against the in-process simulator and is
//! killed with SIGKILL at a random moment, ten times; each job is then resumed. Afterwards the
//! simulator's state equals the journal, no item is lost, and no item whose success was journaled
//! before the kill was sent again.

// Helpers outside #[test] fns unwrap too: in a test, a failed unwrap is a failed assertion.
#![allow(clippy::unwrap_used)]

mod sim_support;

use certdesk::sim::{self, SimOptions, SimSize, SimTuning};
use certdesk::store::journal::{ItemState, Journal};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

const TRIALS: usize = 10;
const ITEMS_PER_TRIAL: usize = 150;

fn certdesk(endpoint: &str, data_dir: &std::path::Path) -> Command {
    let mut cmd = sim_support::certdesk_cli(endpoint, data_dir);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_jobs_resume_without_loss_or_double_sends() {
    // A few faults (503s, resets, slow answers) so kills also land between a send and its answer.
    let simulator = sim::start_tuned(
        SimOptions {
            size: SimSize::Count(100_000),
            rate_limit: false,
            fault_rate: 0.05,
            seed: 11,
            ..SimOptions::default()
        },
        SimTuning {
            fault_delay: Duration::from_millis(300),
            ..SimTuning::default()
        },
    )
    .await
    .unwrap();
    let endpoint = simulator.endpoint();
    let issued: Vec<String> = simulator_issued_ids(&simulator, TRIALS * ITEMS_PER_TRIAL);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut killed_mid_job = 0;

    for trial in 0..TRIALS {
        let ids = &issued[trial * ITEMS_PER_TRIAL..(trial + 1) * ITEMS_PER_TRIAL];
        let ids_file = dir.path().join(format!("ids-{trial}.txt"));
        std::fs::write(&ids_file, ids.join("\n")).unwrap();

        let mut child = certdesk(&endpoint, dir.path())
            .args([
                "bulk",
                "revoke",
                "--target",
                "pca",
                "--yes",
                "--qps",
                "300",
                "--ids-from",
            ])
            .arg(&ids_file)
            .spawn()
            .unwrap();
        // Wait until the job is journaled (a slow machine may take a while to start the process),
        // then kill at a random moment of the run.
        let db = dir.path().join("certdesk.sqlite3");
        let started = std::time::Instant::now();
        while jobs_in(&db) <= trial {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "trial {trial}: the job never started"
            );
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                panic!(
                    "trial {trial}: certdesk exited ({status}) before journaling the job: {err}"
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..600))).await;
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait().unwrap();

        // What the journal says right after the kill.
        let journal = Journal::open(&dir.path().join("certdesk.sqlite3")).unwrap();
        let (job, _) = journal.jobs().unwrap().into_iter().next().unwrap();
        let at_kill = journal.items(&job.id).unwrap();
        assert_eq!(
            at_kill.len(),
            ITEMS_PER_TRIAL,
            "trial {trial}: every item journaled up front"
        );
        let done_at_kill: HashMap<String, u64> = at_kill
            .iter()
            .filter(|i| i.state == ItemState::Succeeded)
            .map(|i| {
                (
                    i.item_id.clone(),
                    simulator.mutation_requests("CreateRevokeClientCertificate", &i.item_id),
                )
            })
            .collect();
        if done_at_kill.len() < ITEMS_PER_TRIAL {
            killed_mid_job += 1;
        }
        drop(journal);

        let resumed = certdesk(&endpoint, dir.path())
            .args(["jobs", "resume", &job.id, "--qps", "300"])
            .output()
            .unwrap();
        assert!(
            resumed.status.success(),
            "trial {trial}: resume failed: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );

        let journal = Journal::open(&dir.path().join("certdesk.sqlite3")).unwrap();
        let items = journal.items(&job.id).unwrap();
        assert!(
            journal
                .unfinished_jobs()
                .unwrap()
                .iter()
                .all(|(j, _)| j.id != job.id)
        );
        for item in &items {
            // Nothing lost: journal and simulator agree that every item is revoked.
            assert_eq!(item.state, ItemState::Succeeded, "trial {trial}: {item:?}");
            assert_eq!(
                simulator.pca_status(&item.item_id).as_deref(),
                Some("REVOKE"),
                "trial {trial}: {}",
                item.item_id
            );
            let sends = simulator.mutation_requests("CreateRevokeClientCertificate", &item.item_id);
            // Every send was journaled before it went out.
            assert!(
                sends >= 1 && sends <= u64::from(item.attempts),
                "trial {trial}: {} sent {sends}× with {} journaled attempts",
                item.item_id,
                item.attempts
            );
            // Nothing sent again once its success was journaled.
            if let Some(before) = done_at_kill.get(&item.item_id) {
                assert_eq!(
                    sends, *before,
                    "trial {trial}: {} was sent again after its success was journaled",
                    item.item_id
                );
            }
        }
    }
    assert!(
        killed_mid_job >= TRIALS / 2,
        "only {killed_mid_job} of {TRIALS} kills landed mid-job"
    );
    simulator.shutdown().await;
}

fn jobs_in(db: &std::path::Path) -> usize {
    if !db.exists() {
        return 0;
    }
    Journal::open(db)
        .and_then(|j| j.jobs())
        .map(|jobs| jobs.len())
        .unwrap_or(0)
}

fn simulator_issued_ids(simulator: &sim::RunningSimulator, n: usize) -> Vec<String> {
    // The seeded private CA; its identifiers come from the list call like any client's.
    let transport = certdesk::cloud::Transport::new().unwrap();
    let client = certdesk::cloud::PcaClient::new(
        &transport,
        &certdesk::app::workspace::demo_configs(simulator).0,
    )
    .unwrap();
    let all = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(client.list_all(|_, _| {}))
    })
    .unwrap();
    let ids: Vec<String> = all
        .into_iter()
        .filter(|c| c.status == "ISSUE")
        .map(|c| c.identifier)
        .take(n)
        .collect();
    assert_eq!(
        ids.len(),
        n,
        "not enough issued certificates in the simulator"
    );
    ids
}
