//! Crash safety of bulk jobs: the CLI runs a revoke job against the in-process simulator and is
//! killed with SIGKILL at a random moment, ten times; each job is then resumed. Afterwards the
//! simulator's state equals the journal, no item is lost, and no item whose success was journaled
//! before the kill was sent again. And one job killed at least twenty times (its first run and its
//! resumes) ends with every item revoked by exactly one request and an audit log that says so:
//! each item "applied", never "already".

// Helpers outside #[test] fns unwrap too: in a test, a failed unwrap is a failed assertion.
#![allow(clippy::unwrap_used)]

mod sim_support;

use certdesk::model::Outcome;
use certdesk::sim::{self, SimOptions, SimSize, SimTuning};
use certdesk::store::journal::{AuditResult, ItemState, Journal};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_killed_twenty_times_ends_true_to_what_certdesk_did() {
    const ITEMS: usize = 400;
    const KILLS: usize = 20;
    // Resets and 503s too, so some requests are unanswered inside a run (read back before being
    // sent again) as well as across the kills.
    let simulator = sim::start_tuned(
        SimOptions {
            size: SimSize::Count(100_000),
            rate_limit: false,
            fault_rate: 0.05,
            seed: 23,
            ..SimOptions::default()
        },
        SimTuning {
            fault_delay: Duration::from_millis(200),
            ..SimTuning::default()
        },
    )
    .await
    .unwrap();
    let endpoint = simulator.endpoint();
    let ids = simulator_issued_ids(&simulator, ITEMS);
    let dir = tempfile::tempdir().unwrap();
    let ids_file = dir.path().join("ids.txt");
    std::fs::write(&ids_file, ids.join("\n")).unwrap();
    let db = dir.path().join("certdesk.sqlite3");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let mut job_id: Option<String> = None;
    let mut kills = 0;
    let mut runs = 0;
    while kills < KILLS {
        runs += 1;
        assert!(runs <= 3 * KILLS, "{kills} kills in {runs} runs");
        let mut cmd = certdesk(&endpoint, dir.path());
        match &job_id {
            None => cmd
                .args(["bulk", "revoke", "--target", "pca", "--yes", "--qps", "40"])
                .arg("--ids-from")
                .arg(&ids_file),
            Some(job) => cmd.args(["jobs", "resume", job, "--qps", "40"]),
        };
        let mut child = cmd.spawn().unwrap();
        let pid = child.id();
        // Kill only once this process runs the job (holds its lease), at a random moment after.
        let started = std::time::Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "run {runs}: never took the job"
            );
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                panic!("run {runs}: certdesk exited ({status}) before the kill: {err}");
            }
            if db.exists()
                && let Ok(j) = Journal::open(&db)
                && let Some((job, _)) = j.jobs().unwrap().into_iter().next()
                && j.lease(&job.id)
                    .unwrap()
                    .is_some_and(|owner| owner.pid == pid)
            {
                job_id = Some(job.id);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..400))).await;
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait().unwrap();
        let journal = Journal::open(&db).unwrap();
        let counts = journal.counts(job_id.as_ref().unwrap()).unwrap();
        if counts.pending + counts.sent == 0 {
            break; // it finished first: the assertion below says how many kills there were
        }
        kills += 1;
    }
    assert!(
        kills >= KILLS,
        "only {kills} kills landed before the job finished"
    );
    let job = job_id.unwrap();
    let out = certdesk(&endpoint, dir.path())
        .args(["jobs", "resume", &job, "--qps", "300"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "final resume: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let journal = Journal::open(&db).unwrap();
    let items = journal.items(&job).unwrap();
    assert_eq!(items.len(), ITEMS);
    let audit = journal.audit(None).unwrap();
    for item in &items {
        assert_eq!(item.state, ItemState::Succeeded, "{item:?}");
        assert_eq!(
            simulator.pca_status(&item.item_id).as_deref(),
            Some("REVOKE"),
            "{}",
            item.item_id
        );
        // Every item was issued before the job, so certdesk revoked each one: by exactly one
        // request that reached the service, whatever the kills and faults.
        let sends = simulator.mutation_requests("CreateRevokeClientCertificate", &item.item_id);
        assert_eq!(
            sends, 1,
            "{}: {sends} revocations reached the service",
            item.item_id
        );
        assert!(u64::from(item.attempts) >= sends);
        assert_eq!(item.outcome, Some(Outcome::Applied), "{item:?}");
        // ...and the audit log says certdesk applied it, once, and never "already".
        let rows: Vec<_> = audit
            .iter()
            .filter(|e| e.job_id.as_deref() == Some(job.as_str()) && e.target == item.item_id)
            .collect();
        let applied = rows
            .iter()
            .filter(|e| e.result == AuditResult::Done(Outcome::Applied))
            .count();
        assert_eq!(applied, 1, "{}: {rows:?}", item.item_id);
        assert!(
            rows.iter()
                .all(|e| e.result != AuditResult::Done(Outcome::Already)
                    && e.result != AuditResult::Done(Outcome::Failed)),
            "{}: {rows:?}",
            item.item_id
        );
        assert_eq!(
            rows.last().map(|e| e.result),
            Some(AuditResult::Done(Outcome::Applied))
        );
    }
    let confirmed = audit
        .iter()
        .filter(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.contains("confirmed after restart"))
        })
        .count();
    eprintln!("{kills} kills in {runs} runs; {confirmed} items confirmed after a restart");
    let chain = journal.verify_audit().unwrap();
    assert!(chain.is_intact(), "{}", chain.summary());
    simulator.shutdown().await;
}
