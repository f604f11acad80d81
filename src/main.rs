//! The `certdesk` binary: the command line, the simulator or the desktop window (see `cli`).

fn main() -> std::process::ExitCode {
    certdesk::cli::main()
}
