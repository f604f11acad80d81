//! The CLI's journal and audit log record the account `profiles::resolve` actually chose (here the
//! SDK environment variables, whose synthesized profile is named `env`), not the `--profile` flag
//! or a made-up "default".

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod sim_support;

use certdesk::sim::{self, SimOptions};
use certdesk::store::journal::Journal;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_journal_and_audit_record_the_resolved_profile() {
    let simulator = sim::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let transport = certdesk::cloud::Transport::new().unwrap();
    let client = certdesk::cloud::PcaClient::new(
        &transport,
        &certdesk::app::workspace::demo_configs(&simulator).0,
    )
    .unwrap();
    let ids: Vec<String> = client
        .list_all(|_, _| {})
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.status == "ISSUE")
        .map(|c| c.identifier)
        .take(2)
        .collect();
    let ids_file = dir.path().join("ids.txt");
    std::fs::write(&ids_file, ids.join("\n")).unwrap();

    let mut cmd = sim_support::certdesk_cli(&simulator.endpoint(), dir.path());
    cmd.args(["bulk", "revoke", "--target", "pca", "--yes", "--ids-from"])
        .arg(&ids_file);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in &ids {
        assert_eq!(simulator.pca_status(id).as_deref(), Some("REVOKE"));
    }

    let journal = Journal::open(&dir.path().join("certdesk.sqlite3")).unwrap();
    let jobs = journal.jobs().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].0.profile, "env");
    let audit = journal.audit(None).unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|e| e.profile == "env"), "{audit:?}");
    simulator.shutdown().await;
}
