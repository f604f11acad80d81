#!/usr/bin/env bash
# Installs a certdesk .deb on this machine, checks what a user gets from it, and removes it again:
# /usr/bin/certdesk --version (with the commit when run in a git checkout), the desktop entry and
# the metainfo where the desktop looks for them (and valid), every icon size, `man certdesk` and a
# subcommand's page, the bash completion completing subcommands, zsh and fish completions in
# place, the window opening from the installed binary (GUI smoke test) when Xvfb is there; then
# `apt-get purge` and a check that every file the package had is gone.
#
# Usage (as root, on a machine where certdesk is not installed otherwise):
#   scripts/check-deb.sh target/debian/certdesk_0.1.0-1_amd64.deb
# Needs: apt-get, dpkg, man-db, desktop-file-utils, appstream (appstreamcli).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deb="${1:?usage: $0 path/to/certdesk.deb}"
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
[[ -f "$deb" ]] || { echo "check-deb: no file $deb" >&2; exit 2; }

fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
ok() { echo "check-deb: ok: $*"; }
for tool in apt-get dpkg man desktop-file-validate appstreamcli; do
    command -v "$tool" >/dev/null || fail "$tool not found (apt-get install apt dpkg man-db desktop-file-utils appstream)"
done
if dpkg -s certdesk >/dev/null 2>&1; then
    fail "certdesk is already installed here; remove it first (apt-get purge certdesk)"
fi

installed=""
cleanup() {
    # Never leave the package behind, also when a check failed.
    if [[ -n "$installed" ]] && dpkg -s certdesk >/dev/null 2>&1; then
        apt-get purge -y -qq certdesk >/dev/null 2>&1 || dpkg --purge certdesk >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

# apt-get (not bare dpkg -i) so that missing dependencies are installed, as for a user.
apt-get install -y -qq "$deb" >/dev/null
installed=1
dpkg -s certdesk | grep -q '^Status: install ok installed' || fail "dpkg does not list certdesk as installed"
mapfile -t files < <(dpkg -L certdesk | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
ok "installed $(basename "$deb"): ${#files[@]} files"

# The binary on PATH, from the installed path.
[[ "$(command -v certdesk)" == /usr/bin/certdesk ]] || fail "certdesk on PATH is $(command -v certdesk || echo nothing)"
version="$(/usr/bin/certdesk --version)"
if commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null)"; then
    [[ "$version" == *"(commit ${commit:0:7}"* ]] || fail "--version is '$version', expected commit $commit"
fi
ok "/usr/bin/certdesk --version: $version"

# Desktop entry, metainfo, icons.
desktop=/usr/share/applications/org.certdesk.certdesk.desktop
metainfo=/usr/share/metainfo/org.certdesk.certdesk.metainfo.xml
desktop-file-validate "$desktop" || fail "$desktop is not valid"
appstreamcli validate --no-net "$metainfo" >/dev/null || fail "$metainfo is not valid: $(appstreamcli validate --no-net "$metainfo")"
grep -q '^Exec=certdesk$' "$desktop" || fail "$desktop: Exec is not certdesk"
grep -q '^Icon=certdesk$' "$desktop" || fail "$desktop: Icon is not certdesk"
for size in 16 24 32 48 64 128 256 512; do
    png="/usr/share/icons/hicolor/${size}x${size}/apps/certdesk.png"
    [[ -f "$png" ]] || fail "no $png"
    # PNG header: width and height, big-endian, at bytes 16-23.
    dims="$(od -An -tu1 -j16 -N8 "$png" | awk '{print $3*256+$4 "x" $7*256+$8}')"
    [[ "$dims" == "${size}x${size}" ]] || fail "$png is $dims"
done
[[ -f /usr/share/icons/hicolor/scalable/apps/certdesk.svg ]] || fail "no scalable icon"
ok "desktop entry and metainfo valid; icons 16-512 and scalable in hicolor"

# Man pages.
[[ "$(man -w certdesk)" == /usr/share/man/man1/certdesk.1.gz ]] || fail "man -w certdesk: $(man -w certdesk 2>&1)"
page="$(env MANPAGER=cat MANWIDTH=100 man certdesk 2>&1)" || fail "man certdesk: $page"
for want in "certdesk-kms(1)" "certdesk-completions(1)" "EXIT STATUS" "NO_COLOR" "--quiet"; do
    grep -qF -- "$want" <<<"$page" || fail "man certdesk has no '$want'"
done
sub="$(env MANPAGER=cat man certdesk-kms-set-status 2>&1)" || fail "man certdesk-kms-set-status: $sub"
grep -q -- "--status" <<<"$sub" || fail "man certdesk-kms-set-status has no --status"
ok "man certdesk renders ($(wc -l <<<"$page") lines), $(ls /usr/share/man/man1/certdesk*.1.gz | wc -l) pages"

# Completions: bash's own lookup path, and what Tab offers.
bash_completion=/usr/share/bash-completion/completions/certdesk
complete_probe='
    source "$1" || exit 1
    complete -p certdesk >/dev/null || exit 1
    func=$(complete -p certdesk | sed -n "s/.*-F \([^ ]*\).*/\1/p")
    COMP_WORDS=(certdesk "$2"); COMP_CWORD=1; COMP_LINE="certdesk $2"; COMP_POINT=${#COMP_LINE}
    "$func" certdesk "$2" certdesk
    printf "%s\n" "${COMPREPLY[@]}"'
[[ "$(bash -c "$complete_probe" probe "$bash_completion" km)" == kms ]] || fail "bash does not complete 'certdesk km' to kms"
offered="$(bash -c "$complete_probe" probe "$bash_completion" "")"
for want in kms pca esa vod iot bulk completions; do
    grep -qx "$want" <<<"$offered" || fail "bash completion does not offer $want"
done
[[ -s /usr/share/zsh/vendor-completions/_certdesk ]] || fail "no zsh completion"
[[ -s /usr/share/fish/vendor_completions.d/certdesk.fish ]] || fail "no fish completion"
ok "bash completes subcommands ($(wc -l <<<"$offered") words at the top); zsh and fish completions in place"

# The window, from the installed binary (only where the GUI smoke test can run).
if command -v Xvfb >/dev/null && command -v import >/dev/null; then
    GUI_SMOKE_OUT="${GUI_SMOKE_OUT:-$root/gui-smoke-out/installed}" bash "$root/scripts/gui-smoke.sh" /usr/bin/certdesk
    ok "the installed binary opens its window"
fi

# Remove it, and check nothing stays.
apt-get purge -y -qq certdesk >/dev/null
installed=""
if dpkg -s certdesk >/dev/null 2>&1; then
    fail "certdesk is still known to dpkg after purge: $(dpkg -s certdesk | grep ^Status)"
fi
left=()
for f in "${files[@]}"; do [[ -e "$f" ]] && left+=("$f"); done
[[ ${#left[@]} -eq 0 ]] || fail "left behind after purge: ${left[*]}"
hash -r
! command -v certdesk >/dev/null || fail "certdesk still on PATH: $(command -v certdesk)"
ok "purged: all ${#files[@]} files gone"
