//! Issue 12 against the simulator, through the CLI as an admin would run it: a job started at 20x
//! the simulator's real rate limit finishes with nothing failed; two concurrent resumes of one job
//! (one refuses, naming the other); a resume under another profile, a gone profile or another key
//! refuses, naming both; and an audit log edited with SQL (update, delete, reorder) fails
//! `certdesk audit verify`, which names the first altered row.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod sim_support;

use certdesk::sim::{self, RunningSimulator, SimOptions, SimSize};
use certdesk::store::journal::{JobRecord, JobState, Journal};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn issued(simulator: &RunningSimulator, n: usize) -> Vec<String> {
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
    assert_eq!(ids.len(), n, "not enough issued certificates");
    ids
}

fn cli(simulator: &RunningSimulator, dir: &Path) -> Command {
    sim_support::certdesk_cli(&simulator.endpoint(), dir)
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn journal(dir: &Path) -> Journal {
    Journal::open(&dir.join("certdesk.sqlite3")).unwrap()
}

/// Starts `bulk revoke` on `ids` at `qps` and kills it (SIGKILL) once it has sent a few items:
/// an unfinished job whose dead engine still holds the lease.
async fn killed_job(simulator: &RunningSimulator, dir: &Path, ids: &[String], qps: &str) -> String {
    let ids_file = dir.join("ids.txt");
    std::fs::write(&ids_file, ids.join("\n")).unwrap();
    let mut child = cli(simulator, dir)
        .args([
            "bulk",
            "revoke",
            "--target",
            "pca",
            "--yes",
            "--qps",
            qps,
            "--ids-from",
        ])
        .arg(&ids_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let job = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job never started"
        );
        if dir.join("certdesk.sqlite3").exists()
            && let Ok(j) = Journal::open(&dir.join("certdesk.sqlite3"))
            && let Some((job, counts)) = j.jobs().unwrap().into_iter().next()
            && counts.succeeded >= 2
        {
            break job.id;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let counts = journal(dir).counts(&job).unwrap();
    assert!(
        counts.pending > 0,
        "the job finished before the kill: {counts:?}"
    );
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_at_twenty_times_the_rate_limit_finishes_with_nothing_failed() {
    // The simulator enforces cas's published 10 QPS per user and API.
    let simulator = sim::start(SimOptions {
        size: SimSize::Count(10_000),
        rate_limit: true,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ids = issued(&simulator, 100);
    let ids_file = dir.path().join("ids.txt");
    std::fs::write(&ids_file, ids.join("\n")).unwrap();
    let mut cmd = cli(&simulator, dir.path());
    cmd.args([
        "bulk",
        "revoke",
        "--target",
        "pca",
        "--yes",
        "--qps",
        "200",
        "--ids-from",
    ])
    .arg(&ids_file);
    let started = Instant::now();
    let out = output(cmd).await;
    let took = started.elapsed();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("100 applied") && said.contains("0 failed"),
        "{said}"
    );
    // It reports how often it was throttled and the rate it achieved.
    let line = said
        .lines()
        .find(|l| l.contains("throttled") && l.contains("effective rate"))
        .unwrap_or_else(|| panic!("no rate line in: {said}"));
    let throttled: u32 = line
        .split("throttled ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(throttled > 0, "{line}");
    assert!(simulator.throttled_requests() > 0);
    for id in &ids {
        assert_eq!(simulator.pca_status(id).as_deref(), Some("REVOKE"), "{id}");
        assert_eq!(
            simulator.mutation_requests("CreateRevokeClientCertificate", id),
            1,
            "{id}: applied once"
        );
    }
    let j = journal(dir.path());
    let (job, counts) = j.jobs().unwrap().into_iter().next().unwrap();
    assert_eq!((counts.succeeded, counts.failed), (100, 0));
    assert_eq!(job.state, JobState::Finished);
    // At 10 QPS, 100 revocations (and nothing else) take at least ~9 s; slowing down must not
    // mean crawling either.
    assert!(took < Duration::from_secs(60), "{took:?}");
    simulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_resumes_of_one_job_one_runs_the_other_refuses_naming_it() {
    let simulator = sim::start(SimOptions {
        size: SimSize::Count(5_000),
        rate_limit: false,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ids = issued(&simulator, 40);
    let job = killed_job(&simulator, dir.path(), &ids, "10").await;

    let spawn = || {
        cli(&simulator, dir.path())
            .args(["jobs", "resume", &job, "--qps", "10"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a_pid, b_pid) = (a.id(), b.id());
    let (a, b) = tokio::task::spawn_blocking(move || {
        (a.wait_with_output().unwrap(), b.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    let (winner, loser, loser_out) = match (a.status.success(), b.status.success()) {
        (true, false) => (a_pid, b_pid, b),
        (false, true) => (b_pid, a_pid, a),
        other => panic!(
            "exactly one resume must run: {other:?}\n{}\n{}",
            text(&a),
            text(&b)
        ),
    };
    let refusal = String::from_utf8_lossy(&loser_out.stderr);
    assert!(
        refusal.contains(&format!("process {winner} on host")),
        "the refusal names the engine that runs the job (pid {winner}; the refused one was {loser}): {refusal}"
    );
    assert_eq!(loser_out.status.code(), Some(2), "{refusal}");
    let j = journal(dir.path());
    assert_eq!(j.counts(&job).unwrap().succeeded, 40);
    assert_eq!(
        j.lease(&job).unwrap(),
        None,
        "the winner released its lease"
    );
    for id in &ids {
        assert_eq!(
            simulator.mutation_requests("CreateRevokeClientCertificate", id),
            1,
            "{id}: sent once, whoever ran it"
        );
    }
    simulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_under_another_profile_a_gone_profile_or_another_key_refuses() {
    let simulator = sim::start(SimOptions {
        size: SimSize::Count(5_000),
        rate_limit: false,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ids = issued(&simulator, 40);
    let job = killed_job(&simulator, dir.path(), &ids, "20").await;
    let before = journal(dir.path()).counts(&job).unwrap();
    let sends = || -> u64 {
        ids.iter()
            .map(|id| simulator.mutation_requests("CreateRevokeClientCertificate", id))
            .sum()
    };
    let sent_before = sends();

    // Another profile than the job's (it ran as `env`, the SDK environment variables).
    let mut cmd = cli(&simulator, dir.path());
    cmd.args(["--profile", "prod", "jobs", "resume", &job]);
    let out = output(cmd).await;
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains("\"env\"") && said.contains("\"prod\""),
        "{said}"
    );

    // The same profile, now with another AccessKey.
    let mut cmd = cli(&simulator, dir.path());
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-another-key")
        .args(["jobs", "resume", &job]);
    let out = output(cmd).await;
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains(sim::DEMO_ALIBABA_ACCESS_KEY_ID) && said.contains("LTAI-another-key"),
        "{said}"
    );

    // A job whose profile no longer exists.
    {
        let mut j = journal(dir.path());
        j.create_job(
            &JobRecord {
                id: "gone-job".into(),
                created_at: 1,
                profile: "gone".into(),
                service: certdesk::model::Service::Pca,
                operation: certdesk::model::Change::Revoke,
                state: JobState::Running,
            },
            &[(ids[0].clone(), None, String::new())],
        )
        .unwrap();
    }
    let mut cmd = cli(&simulator, dir.path());
    cmd.args(["jobs", "resume", "gone-job"]);
    let out = output(cmd).await;
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("\"gone\""), "{said}");

    // Nothing was sent or recorded by the refused resumes.
    assert_eq!(journal(dir.path()).counts(&job).unwrap(), before);
    assert_eq!(sends(), sent_before);

    // Under its own profile and key it runs to the end.
    let mut cmd = cli(&simulator, dir.path());
    cmd.args(["jobs", "resume", &job]);
    let out = output(cmd).await;
    assert!(out.status.success(), "{}", text(&out));
    let j = journal(dir.path());
    assert_eq!(j.counts(&job).unwrap().succeeded, 40);
    let audit = j.audit(None).unwrap();
    assert!(audit.iter().all(|e| {
        e.profile == "env"
            && e.access_key_id.as_deref() == Some(sim::DEMO_ALIBABA_ACCESS_KEY_ID)
            && e.endpoint.as_deref() == Some(simulator.endpoint().as_str())
            && e.os_user.is_some()
            && e.host.is_some()
            && e.region.is_some()
    }));
    simulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_log_edited_with_sql_fails_audit_verify_naming_the_row() {
    let simulator = sim::start(SimOptions {
        size: SimSize::Count(5_000),
        rate_limit: false,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ids = issued(&simulator, 6);
    std::fs::write(dir.path().join("ids.txt"), ids[..5].join("\n")).unwrap();
    let mut cmd = cli(&simulator, dir.path());
    cmd.args(["bulk", "revoke", "--target", "pca", "--yes", "--ids-from"])
        .arg(dir.path().join("ids.txt"));
    assert!(output(cmd).await.status.success());
    // A single change: a `sent` row and its answer row.
    let mut cmd = cli(&simulator, dir.path());
    cmd.args(["pca", "revoke", &ids[5]]);
    assert!(output(cmd).await.status.success());

    let verify = |data: &Path| {
        let mut cmd = cli(&simulator, data);
        cmd.args(["audit", "verify"]);
        cmd
    };
    let out = output(verify(dir.path())).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("audit chain intact: 7 rows"),
        "{}",
        text(&out)
    );
    let csv = output({
        let mut cmd = cli(&simulator, dir.path());
        cmd.args(["audit", "--csv"]);
        cmd
    })
    .await;
    let header = String::from_utf8_lossy(&csv.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    for column in ["os_user", "host", "access_key_id", "region", "endpoint"] {
        assert!(header.split(',').any(|c| c == column), "{header}");
    }

    let unlock = "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;";
    let cases = [
        (
            "update",
            "UPDATE audit SET target = 'someone-else' WHERE id = 3",
            3,
            "edited",
        ),
        (
            "update-result",
            "UPDATE audit SET result = 'failed' WHERE id = 7",
            7,
            "edited",
        ),
        ("delete", "DELETE FROM audit WHERE id = 2", 2, "deleted"),
        (
            "reorder",
            "UPDATE audit SET id = 100 WHERE id = 4; UPDATE audit SET id = 4 WHERE id = 5; \
             UPDATE audit SET id = 5 WHERE id = 100;",
            4,
            "reordered",
        ),
        ("cut", "DELETE FROM audit WHERE id = 7", 7, "deleted"),
    ];
    for (name, sql, row, word) in cases {
        let copy = dir.path().join(name);
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::copy(
            dir.path().join("certdesk.sqlite3"),
            copy.join("certdesk.sqlite3"),
        )
        .unwrap();
        {
            let conn = rusqlite::Connection::open(copy.join("certdesk.sqlite3")).unwrap();
            conn.execute_batch(unlock).unwrap();
            conn.execute_batch(sql).unwrap();
        }
        let out = output(verify(&copy)).await;
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {said}");
        assert!(said.contains(&format!("row {row}")), "{name}: {said}");
        assert!(said.contains(word), "{name}: {said}");
    }
    simulator.shutdown().await;
}
