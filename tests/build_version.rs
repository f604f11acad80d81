//! build.rs's version string (`certdesk --version`) outside the usual checkout: a tarball with no
//! git, one unpacked inside somebody else's repository, a commit given by the environment or by
//! `cargo package`'s `.cargo_vcs_info.json`, and a repository of its own.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

#[allow(dead_code)] // its `main` is the build script's, not called here
#[path = "../build.rs"]
mod build_script;

use build_script::version;
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn without_git_the_version_is_the_bare_package_version_or_the_given_commit() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(version(dir.path(), "0.1.0", None), "0.1.0");
    assert_eq!(
        version(dir.path(), "0.1.0", Some(" 1a2b3c4\n")),
        "0.1.0 (commit 1a2b3c4)"
    );
    // Anything but a hexadecimal id is ignored, not pasted into --version.
    assert_eq!(
        version(dir.path(), "0.1.0", Some("main; rm -rf /")),
        "0.1.0"
    );
    assert_eq!(version(dir.path(), "0.1.0", Some("")), "0.1.0");

    std::fs::write(
        dir.path().join(".cargo_vcs_info.json"),
        r#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567"},"path_in_vcs":""}"#,
    )
    .unwrap();
    assert_eq!(version(dir.path(), "0.1.0", None), "0.1.0 (commit 0123456)");
    // The environment wins over the packaged file.
    assert_eq!(
        version(dir.path(), "0.1.0", Some("fedcba9")),
        "0.1.0 (commit fedcba9)"
    );
}

#[test]
fn in_its_own_repository_the_commit_is_heads_and_inside_another_one_none() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "first"],
    );
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    let shown = version(repo.path(), "0.1.0", Some("fedcba9"));
    let commit = shown
        .strip_prefix("0.1.0 (commit ")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        commit.len() >= 7 && head.starts_with(commit),
        "{shown} vs {head}"
    );

    // A source tarball unpacked in a folder of some other repository: not that repository's commit.
    let unpacked = repo.path().join("vendor").join("certdesk");
    std::fs::create_dir_all(&unpacked).unwrap();
    assert_eq!(version(&unpacked, "0.1.0", None), "0.1.0");
}
