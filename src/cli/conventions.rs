//! The command line's conventions, apart from its cloud commands: the version with its git
//! commit, `certdesk completions SHELL`, the man pages (`certdesk man`, hidden: for packaging),
//! `--quiet` and colour only where `NO_COLOR` allows it.
//!
//! Everything here is generated from the one clap definition in `cli.rs`, so completions and
//! man pages cannot drift from the parser. It knows nothing of the clouds or of the window.

use super::{Cli, Failure};
use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, roman};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// `certdesk --version`: the package version and, when known at build time, the git commit
/// (see build.rs), e.g. `0.1.0 (commit 1a2b3c4)`.
pub(super) const VERSION: &str = env!("CERTDESK_VERSION");

/// Set once from `--quiet` before any command runs.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records `--quiet` for [`note`] and [`quiet`].
pub(super) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given: informational output (progress, "job started", summaries on
/// stderr) is suppressed; errors and the requested data (stdout) never are.
pub(super) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// An informational line on stderr, unless `--quiet`.
pub(super) fn note(line: std::fmt::Arguments<'_>) {
    if !quiet() {
        eprintln!("{line}");
    }
}

/// Whether to colour what goes to stderr (the log lines): the same decision clap makes for its
/// help and errors (anstream): never with a non-empty `NO_COLOR`, always with `CLICOLOR_FORCE`,
/// otherwise only on a terminal that supports colour.
pub(super) fn colour_on_stderr() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// `certdesk completions` arguments.
#[derive(Debug, clap::Args)]
pub(super) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// `certdesk man` arguments.
#[derive(Debug, clap::Args)]
pub(super) struct ManArgs {
    /// Write certdesk.1 and one page per subcommand (certdesk-kms-describe.1, …) into this
    /// folder instead of printing certdesk.1.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub(super) fn completions(args: CompletionsArgs) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut completion_command(),
        "certdesk",
        &mut script,
    );
    write_stdout(&script)
}

/// The parser's command without its hidden subcommands, which clap_complete would offer too.
fn completion_command() -> clap::Command {
    let full = Cli::command();
    clap::Command::new("certdesk")
        .version(VERSION)
        .args(full.get_arguments().filter(|a| !a.is_hide_set()).cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}

/// Prints the man page certdesk(1), or writes every page into `--out-dir`.
pub(super) fn man(args: ManArgs) -> Result<(), Failure> {
    match args.out_dir {
        None => write_stdout(&main_page()?),
        Some(dir) => {
            let written = write_pages(&dir)?;
            note(format_args!(
                "wrote {written} man pages to {}",
                dir.display()
            ));
            Ok(())
        }
    }
}

/// Writes certdesk.1 and a page per visible subcommand into `dir`; how many pages.
pub(super) fn write_pages(dir: &Path) -> Result<usize, Failure> {
    let failed = |e: std::io::Error| Failure::Run(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(failed)?;
    // clap_mangen's pages for the subcommands (the main page's SUBCOMMANDS refer to them as
    // certdesk-kms(1), …); then our own main page over its generic one.
    clap_mangen::generate_to(Cli::command(), dir).map_err(failed)?;
    std::fs::write(dir.join("certdesk.1"), main_page()?).map_err(failed)?;
    let pages = std::fs::read_dir(dir)
        .map_err(failed)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".1"))
        .count();
    Ok(pages)
}

/// certdesk(1): clap_mangen's sections for the top-level command, with EXIT STATUS and
/// ENVIRONMENT written out instead of the `--help` footer.
fn main_page() -> Result<Vec<u8>, Failure> {
    // clap_mangen::generate_to leaves `help` out too: it has no page to refer to.
    let man = clap_mangen::Man::new(Cli::command().disable_help_subcommand(true));
    let mut page = Vec::new();
    let render = |page: &mut Vec<u8>| -> std::io::Result<()> {
        man.render_title(page)?;
        man.render_name_section(page)?;
        man.render_synopsis_section(page)?;
        man.render_description_section(page)?;
        man.render_options_section(page)?;
        man.render_subcommands_section(page)?;
        extra_sections().to_writer(page)?;
        man.render_version_section(page)
    };
    render(&mut page).map_err(|e| Failure::Run(format!("cannot render the man page: {e}")))?;
    // Each render_* call writes a whole document, with roff's apostrophe preamble: keep the first.
    let page = String::from_utf8_lossy(&page).into_owned();
    let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let body = page.replace(preamble, "");
    Ok(format!("{preamble}{body}").into_bytes())
}

/// A `.TP` list: one tagged paragraph per `(tag, text)`.
fn tagged(roff: &mut Roff, items: &[(&str, &str)]) {
    for (tag, text) in items {
        roff.control("TP", []);
        roff.text([bold(*tag)]);
        roff.text([roman(*text)]);
    }
}

fn extra_sections() -> Roff {
    let mut roff = Roff::default();
    roff.control("SH", ["EXIT STATUS"]);
    tagged(
        &mut roff,
        &[
            ("0", "Success."),
            (
                "1",
                "The cloud call failed (the error line quotes the provider's code and RequestId), or some items of a bulk job failed, or inventory --fail-if-any found certificates expiring within the days given.",
            ),
            (
                "2",
                "Usage: bad arguments, unreadable or unusable input files, a refused endpoint.",
            ),
            ("3", "Configuration: no credentials, no project id."),
            ("4", "The simulator or the window could not run."),
            (
                "5",
                "inventory or find could not read some accounts, regions or services: each is named on stderr with the reason; the rows of the others were printed.",
            ),
        ],
    );
    roff.control("SH", ["ENVIRONMENT"]);
    tagged(
        &mut roff,
        &[
            (
                "ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN",
                "Alibaba Cloud credentials (the token is optional), used when no --profile is given and no default profile is configured.",
            ),
            (
                "HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN, HUAWEICLOUD_SDK_PROJECT_ID",
                "Huawei Cloud credentials and project id, likewise.",
            ),
            (
                "CERTDESK_CONFIG_DIR",
                "Folder of profiles.toml and preferences.toml (default: ~/.config/certdesk). Secrets are never stored there, only in the system keyring.",
            ),
            (
                "CERTDESK_DATA_DIR",
                "Folder of the cache, the bulk-job journal and the audit log (default: ~/.local/share/certdesk).",
            ),
            (
                "CERTDESK_PASSPHRASE",
                "Passphrase of an encrypted key or PKCS#12 file for pem inspect (another variable can be named with --passphrase-env).",
            ),
            (
                "NO_COLOR",
                "When set and not empty, nothing is coloured: help, errors and log lines. CLICOLOR_FORCE=1 colours them even when not on a terminal.",
            ),
            (
                "RUST_LOG",
                "Log filter for diagnostics on stderr, e.g. certdesk=info (default: errors only).",
            ),
        ],
    );
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "certdesk completions bash|zsh|fish|powershell|elvish prints a completion script; the Debian package installs them for bash, zsh and fish.",
    )]);
    roff
}

/// Writes `bytes` to stdout; a closed pipe (e.g. `| head`) is an error, not a panic.
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Run(format!("cannot write to stdout: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Every visible command path below the top: ["kms"], ["kms", "describe"], …
    fn visible_paths(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            visible_paths(sub, &path, out);
        }
    }

    #[test]
    fn a_man_page_for_every_command_and_the_main_one_lists_them() {
        let mut paths = Vec::new();
        visible_paths(&Cli::command(), &[], &mut paths);
        assert!(paths.iter().any(|p| p == &["completions"]));
        assert!(!paths.iter().any(|p| p == &["man"]), "man is hidden");

        let page = String::from_utf8(main_page().expect("renders"))
            .expect("utf-8")
            .replace("\\-", "-");
        for path in paths.iter().filter(|p| p.len() == 1) {
            assert!(
                page.contains(&format!("certdesk-{}(1)", path[0])),
                "{path:?}"
            );
        }
        assert!(page.contains(VERSION), "the VERSION section");
        assert_eq!(page.matches(".el .ds Aq").count(), 1, "one roff preamble");
        assert_eq!(page.matches(".TH ").count(), 1, "one title");

        let completed = completion_command();
        let offered: Vec<&str> = completed.get_subcommands().map(|s| s.get_name()).collect();
        let top: Vec<&str> = paths
            .iter()
            .filter(|p| p.len() == 1)
            .map(|p| p[0].as_str())
            .collect();
        assert_eq!(offered, top, "completions offer the visible commands");
        assert!(
            completed
                .get_arguments()
                .any(|a| a.get_long() == Some("quiet"))
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let written = write_pages(dir.path()).expect("writes");
        assert_eq!(written, paths.len() + 1);
        for path in &paths {
            let file = dir.path().join(format!("certdesk-{}.1", path.join("-")));
            assert!(file.is_file(), "{}", file.display());
        }
    }

    #[test]
    fn the_version_is_the_package_version_first() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")), "{VERSION}");
        let parsed = Cli::try_parse_from(["certdesk", "--version"]).expect_err("prints");
        assert_eq!(parsed.kind(), clap::error::ErrorKind::DisplayVersion);
        assert_eq!(parsed.to_string().trim(), format!("certdesk {VERSION}"));
    }

    #[test]
    fn quiet_is_a_global_flag() {
        for args in [
            vec!["certdesk", "-q", "pca", "list"],
            vec!["certdesk", "pca", "list", "--quiet"],
        ] {
            assert!(
                Cli::try_parse_from(&args).expect("parses").quiet,
                "{args:?}"
            );
        }
        assert!(
            !Cli::try_parse_from(["certdesk", "pca", "list"])
                .expect("parses")
                .quiet
        );
        set_quiet(true);
        assert!(quiet());
        set_quiet(false);
        assert!(!quiet());
    }
}
