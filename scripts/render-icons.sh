#!/usr/bin/env bash
# Renders the application icon's PNG sizes from its SVG sources into assets/icons/hicolor/, the
# freedesktop icon-theme layout the Debian package installs as is (usr/share/icons/hicolor/...;
# certdesk.svg itself goes to hicolor/scalable/apps).
# 16 and 24 px come from certdesk-small.svg (drawn on a 16 px grid, no outlines, which only blur
# there); 32 px and up from certdesk.svg. The PNGs are committed: run this after editing an SVG.
#
# Usage: scripts/render-icons.sh [--check]
#   --check  render into a temporary folder and fail if a committed PNG is missing or its pixels
#            differ (ImageMagick `compare`), without touching assets/.
# Needs: rsvg-convert (Debian: librsvg2-bin); --check also needs ImageMagick's compare.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/assets/icons"
check=""
case "${1:-}" in
    "") ;;
    --check) check=1 ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
command -v rsvg-convert >/dev/null || { echo "render-icons: rsvg-convert not found (apt-get install librsvg2-bin)" >&2; exit 1; }

out="$src/hicolor"
if [[ -n "$check" ]]; then
    command -v compare >/dev/null || { echo "render-icons: compare not found (apt-get install imagemagick)" >&2; exit 1; }
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi

status=0
for size in 16 24 32 48 64 128 256 512; do
    svg="$src/certdesk.svg"
    [[ $size -le 24 ]] && svg="$src/certdesk-small.svg"
    dir="$out/${size}x${size}/apps"
    mkdir -p "$dir"
    rsvg-convert --width "$size" --height "$size" --keep-aspect-ratio "$svg" --output "$dir/certdesk.png"
    if [[ -n "$check" ]]; then
        committed="$src/hicolor/${size}x${size}/apps/certdesk.png"
        if [[ ! -f "$committed" ]]; then
            echo "render-icons: $committed is missing" >&2
            status=1
        elif ! diff_px="$(compare -metric AE "$committed" "$dir/certdesk.png" null: 2>&1)" || [[ "$diff_px" != 0 ]]; then
            echo "render-icons: $committed differs from $(basename "$svg") ($diff_px pixels): run scripts/render-icons.sh" >&2
            status=1
        fi
    fi
done
if [[ -n "$check" ]]; then
    [[ $status -eq 0 ]] && echo "render-icons: the committed PNGs match the SVG sources"
    exit $status
fi
echo "render-icons: wrote $(find "$out" -name 'certdesk.*' | wc -l) icons under ${out#"$root"/}"
