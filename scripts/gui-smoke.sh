#!/usr/bin/env bash
# GUI smoke test: starts the release binary in demo mode (no profile, fresh data directory) in a
# real X window under Xvfb, takes a screenshot, and fails unless the window rendered its tables
# (or the Overview, the first tab, with certificates in it).
#
# Usage: scripts/gui-smoke.sh [path/to/certdesk]   (default: $CARGO_TARGET_DIR or target, /release/certdesk)
# Needs Xvfb and ImageMagick (import, identify) on PATH; installs nothing itself.
# Environment:
#   GUI_SMOKE_OUT          where the screenshot and logs go (default: gui-smoke-out)
#   GUI_SMOKE_TIMEOUT      seconds to wait for the tables (default: 90)
#   GUI_SMOKE_MIN_COLOURS  colour count a rendered window must exceed (default: 400)
#   GUI_SMOKE_SCREENSHOTS  also write a screenshot of the settled window (all fetched) there as
#                          overview.png, the name the AppStream metainfo and the README use:
#                          GUI_SMOKE_SCREENSHOTS=docs/screenshots refreshes the committed one
#                          (default: not written)
#   GUI_SMOKE_SETTLE       seconds to wait for the window to settle for that (default: 60)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$root/target}/release/certdesk}"
out="${GUI_SMOKE_OUT:-$root/gui-smoke-out}"
timeout_s="${GUI_SMOKE_TIMEOUT:-90}"
min_colours="${GUI_SMOKE_MIN_COLOURS:-400}"

fail() { echo "gui-smoke: FAIL: $*" >&2; exit 1; }

for tool in Xvfb import identify convert compare; do
    command -v "$tool" >/dev/null || fail "$tool not found (install xvfb and imagemagick first)"
done
[ -x "$bin" ] || fail "no executable at $bin (build it with cargo build --release)"

mkdir -p "$out"
shot="$out/screenshot.png"
app_log="$out/app.log"
rm -f "$shot" "$app_log"

# A display number nobody uses.
display=""
for n in $(seq 99 140); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || fail "no free X display number"

data_dir="$(mktemp -d)"
xvfb_pid=""
app_pid=""
cleanup() {
    [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$data_dir"
}
trap cleanup EXIT

Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 1 50); do
    [ -e "/tmp/.X11-unix/X${display#:}" ] && break
    sleep 0.1
done
[ -e "/tmp/.X11-unix/X${display#:}" ] || fail "Xvfb did not start (see $out/xvfb.log)"

# A fresh machine: no profile, no cloud credentials in the environment, an empty data directory.
env -u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABA_CLOUD_ACCESS_KEY_SECRET -u ALIBABA_CLOUD_SECURITY_TOKEN \
    -u HUAWEICLOUD_SDK_AK -u HUAWEICLOUD_SDK_SK -u HUAWEICLOUD_SDK_SECURITY_TOKEN \
    -u WAYLAND_DISPLAY \
    DISPLAY="$display" CERTDESK_DATA_DIR="$data_dir" XDG_CONFIG_HOME="$data_dir/config" \
    RUST_LOG="${RUST_LOG:-certdesk=info}" \
    "$bin" >"$app_log" 2>&1 &
app_pid=$!

started=$(date +%s)
colours=0
drawn=""
while :; do
    if ! kill -0 "$app_pid" 2>/dev/null; then
        cat "$app_log" >&2
        fail "certdesk exited early (log above)"
    fi
    drawn="$(sed 's/\x1b\[[0-9;]*m//g' "$app_log" | grep -oE '(table|overview) drawn.*rows=[1-9][0-9]*' | head -n1 || true)"
    if [ -n "$drawn" ]; then
        sleep 2 # let a few more frames land
        import -display "$display" -window root "$shot" 2>>"$out/import.log" || true
        colours=$(identify -format %k "$shot" 2>/dev/null || echo 0)
        [ "$colours" -gt "$min_colours" ] && break
    fi
    if [ $(( $(date +%s) - started )) -ge "$timeout_s" ]; then
        import -display "$display" -window root "$shot" 2>>"$out/import.log" || true
        cat "$app_log" >&2
        fail "no rendered table after ${timeout_s}s (colours: $colours, log: ${drawn:-no 'table drawn' line}); screenshot: $shot"
    fi
    sleep 1
done

echo "gui-smoke: OK: $drawn; screenshot $shot has $colours colours (> $min_colours)"
if [ -n "${GUI_SMOKE_SCREENSHOTS:-}" ]; then
    # The published picture waits until the window stops changing (every inventory fetched, no
    # spinner): two identical captures a second apart, or GUI_SMOKE_SETTLE seconds (default 60).
    settled="$out/settled.png"
    previous="$shot"
    for _ in $(seq 1 "${GUI_SMOKE_SETTLE:-60}"); do
        sleep 1
        import -display "$display" -window root "$settled" 2>>"$out/import.log" || continue
        if [ "$(compare -metric AE "$previous" "$settled" null: 2>&1 || true)" = 0 ]; then break; fi
        cp "$settled" "$out/previous.png"
        previous="$out/previous.png"
    done
    mkdir -p "$GUI_SMOKE_SCREENSHOTS"
    # -strip: no timestamps in the file, so an unchanged window gives an unchanged file.
    convert "$settled" -strip "$GUI_SMOKE_SCREENSHOTS/overview.png"
    echo "gui-smoke: settled screenshot written to $GUI_SMOKE_SCREENSHOTS/overview.png"
fi
sed 's/\x1b\[[0-9;]*m//g' "$app_log" | grep -o 'first frame drawn.*' | head -n1 || true
