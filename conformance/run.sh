#!/usr/bin/env bash
# The official SDKs as referee: starts `certdesk sim` on a free loopback port and runs the pytest
# suite in conformance/ against it with the pinned official Python SDKs (Alibaba Cloud tea-openapi
# clients, Huawei IoTDA), then stops the simulator.
#
#   conformance/run.sh              # the whole suite
#   conformance/run.sh --tamper     # only the mutation self-checks (flipped secret, changed signature digit)
#   conformance/run.sh -k kms -x    # any other arguments go to pytest
#
# Uses target/debug/certdesk (built here with `cargo build` if missing or stale) and a virtualenv
# in .venv-conformance (created on first use). Needs python3 (3.11) with venv and pip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-conformance"
PYTHON="${PYTHON:-python3}"

die() {
    echo "conformance/run.sh: $*" >&2
    exit 1
}

args=()
for arg in "$@"; do
    if [[ "$arg" == "--tamper" ]]; then args+=(-m tamper); else args+=("$arg"); fi
done

# 1. The SDKs, pinned.
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "conformance: creating $VENV"
    "$PYTHON" -m venv "$VENV" || die "cannot create a virtualenv with $PYTHON (Debian: apt-get install python3-venv)"
fi
if ! cmp -s conformance/requirements.txt "$VENV/.installed-requirements.txt"; then
    echo "conformance: installing the pinned SDKs"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r conformance/requirements.txt
    cp conformance/requirements.txt "$VENV/.installed-requirements.txt"
fi

# 2. The simulator binary (a no-op when `cargo test` already built it).
cargo build --quiet --bin certdesk
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/certdesk"
[[ -x "$BIN" ]] || die "no certdesk binary at $BIN"

# 3. Start the simulator; port 0 = a free port, read back from its banner.
WORK="$(mktemp -d -t certdesk-conformance.XXXXXX)"
SIM_LOG="$WORK/sim.log"
SIM_PID=""
stop_sim() {
    if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill -INT "$SIM_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap stop_sim EXIT

# Two accounts: the second is for the isolation and cross-account STS tests (the first is the demo
# account every other test uses, as with one account).
"$BIN" sim --listen 127.0.0.1:0 --seed 7 --no-rate-limit --accounts 2 </dev/null >"$SIM_LOG" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 300); do
    grep -q 'listening on http://' "$SIM_LOG" && break
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
        cat "$SIM_LOG" >&2
        die "certdesk sim exited before listening"
    fi
    sleep 0.1
done
grep -q 'listening on http://' "$SIM_LOG" || { cat "$SIM_LOG" >&2; die "certdesk sim did not start within 30 s"; }
echo "conformance: $(grep -m1 'listening on' "$SIM_LOG")"

# 4. The suite.
export CERTDESK_SIM_LOG="$SIM_LOG" CERTDESK_BIN="$BIN" PYTHONDONTWRITEBYTECODE=1
status=0
(cd conformance && "$VENV/bin/python" -m pytest "${args[@]}") || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- last lines of the simulator's output:" >&2
    tail -n 20 "$SIM_LOG" >&2 || true
fi
exit $status
