#!/usr/bin/env bash
# Fuzzes certdesk's importer (fuzz_targets/import.rs) for a given time, seeded with the import
# test corpus. Usage: fuzz/run.sh [SECONDS]   (default 600)
#
# Only the stable toolchain is available: RUSTC_BOOTSTRAP=1 lets stable rustc take the -Z flags
# cargo-fuzz passes (-Zsanitizer=address and the sancov options). Needs `cargo install cargo-fuzz`.
# One job, one worker: the machine has 2 cores shared with builds and other work.
set -euo pipefail

SECONDS_TO_RUN="${1:-600}"
FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
CORPUS="$FUZZ_DIR/corpus/import"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi

# Seed corpus: every import fixture and every past fuzz regression (files only, not make.sh).
mkdir -p "$CORPUS"
find "$ROOT/tests/fixtures/import" -type f ! -name '*.sh' ! -name '*.py' -exec cp -f {} "$CORPUS/" \;

# The fuzz crate is its own workspace, built in fuzz/target (not the shared CARGO_TARGET_DIR).
unset CARGO_TARGET_DIR
# -jobs=1 -workers=1 makes libFuzzer run the fuzzing in one child process whose output goes to
# fuzz-0.log in the current directory: run from fuzz/logs/ and show that log at the end.
LOGS="$FUZZ_DIR/logs"
mkdir -p "$LOGS"
rm -f "$LOGS/fuzz-0.log"
cd "$LOGS"
status=0
RUSTC_BOOTSTRAP=1 cargo +stable fuzz run --fuzz-dir "$FUZZ_DIR" import "$CORPUS" -- \
    -max_total_time="$SECONDS_TO_RUN" \
    -rss_limit_mb=2048 \
    -timeout=10 \
    -max_len=8192 \
    -jobs=1 -workers=1 \
    -print_final_stats=1 || status=$?
if [[ -f "$LOGS/fuzz-0.log" ]]; then
    echo "---- last lines of $LOGS/fuzz-0.log"
    tail -n 25 "$LOGS/fuzz-0.log"
fi
echo "---- corpus: $(find "$CORPUS" -type f | wc -l) files; artifacts: $(find "$FUZZ_DIR/artifacts" -type f 2>/dev/null | wc -l)"
exit "$status"
