//! Build script: puts the git commit into `certdesk --version` (`CERTDESK_VERSION`).
//!
//! The version is `CARGO_PKG_VERSION`, plus ` (commit abc1234)` when the commit is known: from
//! `git rev-parse --short HEAD` when this crate is the top of a git work tree, else from the
//! `CERTDESK_GIT_COMMIT` environment variable (for builds from a tarball or a source package
//! that know their commit), else from `.cargo_vcs_info.json` (a crate packaged by `cargo
//! package`). Without any of them the version is the bare package version; the build never
//! fails for want of git.
//!
//! Reruns only when HEAD moves: `rerun-if-changed` on the git HEAD file, its reflog, the branch
//! file it points to and packed-refs, never on the sources (which would rerun it on every edit).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CERTDESK_GIT_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let package_version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let env_commit = std::env::var("CERTDESK_GIT_COMMIT").ok();
    let version = version(&manifest_dir, &package_version, env_commit.as_deref());
    println!("cargo:rustc-env=CERTDESK_VERSION={version}");
}

/// `package_version`, plus ` (commit abc1234)` from git, `env_commit` or `.cargo_vcs_info.json`
/// (in that order), whichever is known first.
pub fn version(manifest_dir: &Path, package_version: &str, env_commit: Option<&str>) -> String {
    let commit = git_commit(manifest_dir)
        .or_else(|| {
            env_commit
                .map(|c| c.trim().to_string())
                .filter(|c| is_commit(c))
        })
        .or_else(|| cargo_vcs_commit(manifest_dir));
    match commit {
        Some(commit) => format!("{package_version} (commit {commit})"),
        None => package_version.to_string(),
    }
}

/// Runs git in `dir`; its trimmed stdout when it succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_string())
}

/// The short commit of HEAD, when `dir` is the top of its own git work tree (not a tarball
/// unpacked somewhere inside another repository), and the rerun triggers for it.
fn git_commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), dir) {
        return None;
    }
    // --git-path resolves each file where git keeps it, also in a linked worktree (HEAD in the
    // worktree's own git dir, branches and packed-refs in the common one).
    // The reflog also catches a commit on a branch that was packed (no loose file to watch yet).
    let mut watched = vec![
        "HEAD".to_string(),
        "logs/HEAD".to_string(),
        "packed-refs".to_string(),
    ];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            // A path that does not exist would make cargo rerun this script on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(dir, &["rev-parse", "--short", "HEAD"]).filter(|c| is_commit(c))
}

/// `"sha1": "…"` of the `.cargo_vcs_info.json` that `cargo package` writes, shortened.
fn cargo_vcs_commit(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = text.split("\"sha1\"").nth(1)?;
    let value = after.split('"').nth(1)?;
    let short: String = value.chars().take(7).collect();
    is_commit(&short).then_some(short)
}

/// A (short or full) hexadecimal commit id.
fn is_commit(text: &str) -> bool {
    (4..=40).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}
