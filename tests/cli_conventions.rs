//! The built `certdesk` binary's command-line conventions: shell completions that bash can load
//! and that complete subcommands, man pages for every subcommand, `--version` with the git
//! commit, `NO_COLOR`, `--quiet`, and errors on stderr with nothing on stdout.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod sim_support;

use certdesk::sim::{self, SimOptions};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_certdesk");

/// The binary with no credentials, profiles or log filter from the developer's environment.
fn certdesk(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env("CERTDESK_CONFIG_DIR", "/nonexistent/certdesk-test-config")
        .stdin(std::process::Stdio::null());
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "HUAWEICLOUD_SDK_PROJECT_ID",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The subcommand names in the "Commands:" section of `certdesk <path> --help`, without `help`.
fn subcommands(path: &[String]) -> Vec<String> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let out = run(&mut certdesk(&args));
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let help = stdout(&out);
    let Some(section) = help.split("Commands:\n").nth(1) else {
        return Vec::new();
    };
    section
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("  ")?.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every command path below the top, e.g. ["kms"], ["kms", "describe"], …
fn every_command_path() -> Vec<Vec<String>> {
    let mut all = Vec::new();
    let mut todo = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        for name in subcommands(&path) {
            let mut child = path.clone();
            child.push(name);
            todo.push(child.clone());
            all.push(child);
        }
    }
    all
}

#[test]
fn bash_completion_sources_cleanly_and_completes_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("certdesk.bash");
    let out = run(&mut certdesk(&["completions", "bash"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    std::fs::write(&script, &out.stdout).unwrap();

    // The brief's one-liner, with the binary on PATH as an installed one would be.
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let out = run(Command::new("bash")
        .args([
            "-c",
            "set -e; source <(certdesk completions bash); complete -p certdesk",
        ])
        .env("PATH", &path));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).is_empty(),
        "sourcing printed: {}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("-F ") && stdout(&out).trim_end().ends_with(" certdesk"),
        "{}",
        stdout(&out)
    );

    // Ask the completion function what a user pressing Tab would get.
    let complete = |line: &str| -> Vec<String> {
        let probe = r#"
            source "$1"
            func=$(complete -p certdesk | sed -n 's/.*-F \([^ ]*\).*/\1/p')
            read -r -a COMP_WORDS <<<"$2"
            [[ "$2" == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
            COMP_LINE="$2"
            COMP_POINT=${#COMP_LINE}
            prev=""
            (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
            "$func" certdesk "${COMP_WORDS[COMP_CWORD]}" "$prev"
            printf '%s\n' "${COMPREPLY[@]}"
        "#;
        let out = run(Command::new("bash")
            .args(["-c", probe, "probe"])
            .arg(&script)
            .arg(line));
        assert!(out.status.success(), "{line:?}: {}", stderr(&out));
        stdout(&out).lines().map(|l| l.trim().to_string()).collect()
    };
    assert_eq!(complete("certdesk km"), ["kms"]);
    let top = complete("certdesk ");
    for name in subcommands(&[]) {
        assert!(top.contains(&name), "{name} missing from {top:?}");
    }
    assert!(
        !top.iter().any(|w| w == "man"),
        "the hidden man command is offered: {top:?}"
    );
    let kms = complete("certdesk kms ");
    assert!(
        kms.contains(&"describe".to_string()) && kms.contains(&"set-status".to_string()),
        "{kms:?}"
    );
    assert!(complete("certdesk --q").contains(&"--quiet".to_string()));
    assert_eq!(complete("certdesk completions z"), ["zsh"]);
}

#[test]
fn every_shell_gets_a_completion_script_naming_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&mut certdesk(&["completions", shell]));
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in ["certdesk", "kms", "set-status", "completions", "quiet"] {
            assert!(script.contains(word), "{shell}: no {word:?}");
        }
    }
    let out = run(&mut certdesk(&["completions", "tcsh"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("tcsh"), "{}", stderr(&out));
}

#[test]
fn man_pages_cover_every_subcommand() {
    let paths = every_command_path();
    assert!(paths.len() > 20, "{paths:?}");

    let out = run(&mut certdesk(&["man"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out).replace("\\-", "-");
    assert!(
        page.contains("\n.TH certdesk 1 ") && page.matches(".TH ").count() == 1,
        "{}",
        &page[..80.min(page.len())]
    );
    for section in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "SUBCOMMANDS",
        "EXIT STATUS",
        "ENVIRONMENT",
    ] {
        let plain = format!(".SH {section}\n");
        let quoted = format!(".SH \"{section}\"\n");
        assert!(
            page.contains(&plain) || page.contains(&quoted),
            "no {section}"
        );
    }
    for path in paths.iter().filter(|p| p.len() == 1) {
        assert!(
            page.contains(&format!("certdesk-{}(1)", path[0])),
            "{path:?}"
        );
    }
    assert!(page.contains("--quiet") && page.contains("NO_COLOR"));
    assert!(
        !page.contains("certdesk-man(1)"),
        "the hidden command has no page"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = run(certdesk(&["man", "--out-dir"]).arg(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("man pages"), "{}", stderr(&out));
    let main = std::fs::read_to_string(dir.path().join("certdesk.1")).unwrap();
    assert_eq!(main, stdout(&run(&mut certdesk(&["man"]))), "one main page");
    for path in &paths {
        let file = dir.path().join(format!("certdesk-{}.1", path.join("-")));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .replace("\\-", "-");
        assert!(
            text.contains(&format!("certdesk-{}", path.join("-"))),
            "{}",
            file.display()
        );
    }
    let pages = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        pages,
        paths.len() + 1,
        "a page per command and the main one"
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = run(&mut certdesk(&["--version"]));
    assert!(out.status.success());
    let version = stdout(&out);
    assert!(
        version.starts_with(&format!("certdesk {} ", env!("CARGO_PKG_VERSION")))
            || version.trim() == format!("certdesk {}", env!("CARGO_PKG_VERSION")),
        "{version}"
    );
    let manifest = env!("CARGO_MANIFEST_DIR");
    let head = Command::new("git")
        .args(["-C", manifest, "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| stdout(&o).trim().to_string());
    match head {
        // Built in its own git checkout (the developer's, CI's): the commit must be there.
        Some(head) => {
            let commit = version
                .trim()
                .split("(commit ")
                .nth(1)
                .and_then(|c| c.strip_suffix(')'))
                .unwrap_or_else(|| panic!("no commit in {version:?}"));
            assert!(
                commit.len() >= 7 && head.starts_with(commit),
                "{version} vs HEAD {head}"
            );
        }
        // Built outside git: the bare version (build_version.rs checks the fallbacks).
        None => assert_eq!(
            version.trim(),
            format!("certdesk {}", env!("CARGO_PKG_VERSION"))
        ),
    }
}

#[test]
fn errors_go_to_stderr_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let cases: [(&[&str], i32); 5] = [
        // clap: unknown flag, bad value
        (&["--no-such-flag"], 2),
        (&["kms", "set-status", "x", "--status", "DISABLED"], 2),
        // no credentials
        (
            &["--endpoint", "http://127.0.0.1:9", "kms", "describe", "x"],
            3,
        ),
        // unreadable input
        (&["pem", "inspect", missing], 2),
        // even with --quiet
        (
            &["--quiet", "--endpoint", "http://127.0.0.1:9", "pca", "list"],
            3,
        ),
    ];
    for (args, code) in cases {
        let out = run(&mut certdesk(args));
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed on stdout: {}",
            stdout(&out)
        );
        assert!(stderr(&out).contains("error"), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn no_color_turns_off_colour_in_errors() {
    // Not a terminal here: CLICOLOR_FORCE stands for one, and NO_COLOR must still win.
    let out = run(certdesk(&["--no-such-flag"]).env("CLICOLOR_FORCE", "1"));
    assert!(
        stderr(&out).contains("\x1b["),
        "forced colour: {:?}",
        stderr(&out)
    );
    let out = run(certdesk(&["--no-such-flag"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1"));
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains('\x1b'), "{:?}", stderr(&out));
    // And nothing is coloured when stderr is not a terminal in the first place.
    let out = run(&mut certdesk(&["--no-such-flag"]));
    assert!(!stderr(&out).contains('\x1b'), "{:?}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_and_quiet_against_the_simulator() {
    let simulator = sim::start(SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = simulator.endpoint();
    let cli = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = sim_support::certdesk_cli(&endpoint, dir.path());
        cmd.args(args)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("RUST_LOG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    let output = |mut cmd: Command| async move {
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    };

    // Log lines (the transport's debug "cloud call") are coloured only when allowed.
    let debug = [("RUST_LOG", "certdesk=debug"), ("CLICOLOR_FORCE", "1")];
    let out = output(cli(&["pca", "list"], &debug)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("cloud call"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\x1b["),
        "forced colour: {:?}",
        stderr(&out)
    );
    let out = output(cli(
        &["pca", "list"],
        &[debug[0], debug[1], ("NO_COLOR", "1")],
    ))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("cloud call"), "{}", stderr(&out));
    assert!(!stderr(&out).contains('\x1b'), "{:?}", stderr(&out));
    assert!(!stdout(&out).contains('\x1b'), "{:?}", stdout(&out));
    let listing = stdout(&out);
    let ids: Vec<String> = listing
        .lines()
        .skip(1)
        .filter(|l| l.contains(" ISSUE "))
        .filter_map(|l| l.split_whitespace().next())
        .take(4)
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 4, "{listing}");

    // A bulk job says what it does on stderr; with --quiet only its results (stdout) remain.
    let ids_file = dir.path().join("ids.txt");
    std::fs::write(&ids_file, ids[..2].join("\n")).unwrap();
    let args = ["bulk", "revoke", "--target", "pca", "--yes", "--ids-from"];
    let mut loud = cli(&args, &[]);
    loud.arg(&ids_file);
    let loud = output(loud).await;
    assert!(loud.status.success(), "{}", stderr(&loud));
    assert!(
        stderr(&loud).contains("started") && stderr(&loud).contains("2 applied"),
        "{}",
        stderr(&loud)
    );
    assert_eq!(stdout(&loud).lines().count(), 3, "{}", stdout(&loud));

    std::fs::write(&ids_file, ids[2..].join("\n")).unwrap();
    let mut quiet = cli(&["--quiet"], &[]);
    quiet.args(args).arg(&ids_file);
    let quiet = output(quiet).await;
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert!(
        quiet.stderr.is_empty(),
        "--quiet printed: {}",
        stderr(&quiet)
    );
    let results = stdout(&quiet);
    assert_eq!(results.lines().count(), 3, "{results}");
    assert!(
        ids[2..].iter().all(|id| results.contains(id.as_str())),
        "{results}"
    );

    // --quiet keeps the errors: the same ids again are "already revoked", not failures, so use
    // an id the simulator does not know.
    std::fs::write(&ids_file, "no-such-certificate\n").unwrap();
    let mut failing = cli(&["-q"], &[]);
    failing.args(args).arg(&ids_file);
    let failing = output(failing).await;
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    assert_eq!(stderr(&failing).lines().count(), 1, "{}", stderr(&failing));
    assert!(
        stderr(&failing).starts_with("error: "),
        "{}",
        stderr(&failing)
    );
    simulator.shutdown().await;
}
