#!/usr/bin/env bash
# The one test command: runs `cargo test --all-targets` inside a private D-Bus session with an
# unlocked gnome-keyring, so the keyring tests talk to a real Secret Service (never a mock).
#
#   scripts/test.sh                 # everything: cargo test --all-targets
#   scripts/test.sh --test keyring  # with arguments: cargo test <arguments> (same keyring set-up)
#
# Needs (Debian/Ubuntu): apt-get install -y gnome-keyring libsecret-tools dbus-x11
set -euo pipefail

PACKAGES="gnome-keyring libsecret-tools dbus-x11"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() {
    echo "scripts/test.sh: $*" >&2
    exit 1
}

if [[ "${1:-}" != "--inside-session" ]]; then
    for tool in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "'$tool' is missing, so no Secret Service can be started for the keyring tests. Install: apt-get install -y $PACKAGES"
    done
    exec dbus-run-session -- bash "${BASH_SOURCE[0]}" --inside-session "$@"
fi
shift

# A throw-away keyring directory: never touches (or needs the password of) a developer's own
# login keyring, and leaves nothing behind.
KEYRING_HOME="$(mktemp -d -t certdesk-keyring.XXXXXX)"
KEYRING_PID=""
cleanup() {
    if [[ -n "$KEYRING_PID" ]]; then kill "$KEYRING_PID" 2>/dev/null || true; fi
    rm -rf "$KEYRING_HOME"
}
trap cleanup EXIT

mkdir -p "$KEYRING_HOME/data" "$KEYRING_HOME/run"
chmod 700 "$KEYRING_HOME/run"
# --unlock reads the (new) keyring's password from stdin; --foreground lets us own the process.
printf 'certdesk-test' | XDG_DATA_HOME="$KEYRING_HOME/data" XDG_RUNTIME_DIR="$KEYRING_HOME/run" \
    gnome-keyring-daemon --foreground --unlock --components=secrets >"$KEYRING_HOME/daemon.log" 2>&1 &
KEYRING_PID=$!

# Wait until OUR daemon owns org.freedesktop.secrets. NameHasOwner does not trigger D-Bus service
# activation; any Secret Service call before that would make dbus-daemon start a second, locked
# gnome-keyring from its service file, which takes the name and then waits for a password prompt.
for _ in $(seq 1 100); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
        break
    fi
    kill -0 "$KEYRING_PID" 2>/dev/null || break
    sleep 0.1
done

# Then check that the Secret Service answers a real store/lookup/clear round trip.
probe_ok=""
for _ in $(seq 1 20); do
    if printf 'probe' | secret-tool store --label=certdesk-probe service certdesk-probe username probe 2>/dev/null &&
        [[ "$(secret-tool lookup service certdesk-probe username probe 2>/dev/null)" == "probe" ]]; then
        secret-tool clear service certdesk-probe username probe 2>/dev/null || true
        probe_ok=1
        break
    fi
    kill -0 "$KEYRING_PID" 2>/dev/null || break
    sleep 0.2
done
if [[ -z "$probe_ok" ]]; then
    echo "--- gnome-keyring-daemon output:" >&2
    cat "$KEYRING_HOME/daemon.log" >&2 || true
    die "the Secret Service (gnome-keyring-daemon on a private D-Bus session) did not start or is locked. Install: apt-get install -y $PACKAGES"
fi
echo "scripts/test.sh: Secret Service ready (gnome-keyring, private D-Bus session)"

if [[ $# -eq 0 ]]; then
    cargo test --all-targets --no-fail-fast
else
    cargo test "$@"
fi
