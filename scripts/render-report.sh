#!/usr/bin/env bash
# Renders a LowBit HTML report with headless Chromium to a PNG and fails when it did not render:
# Chromium failing, a missing or empty PNG, or any message on the page's console (the report has
# no script, so a console message means something went wrong: a blocked or failed load, a CSS or
# SVG error).
#
# Usage: scripts/render-report.sh REPORT.html OUT.png [WIDTH,HEIGHT]   (default 1280,2400)
# Chromium comes from the Debian package `chromium`; as root the script installs it when missing.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]" >&2
    exit 2
fi
html=$1
png=$2
size=${3:-1280,2400}

if [[ ! -s $html ]]; then
    echo "render-report: $html is missing or empty" >&2
    exit 1
fi
if ! command -v chromium >/dev/null; then
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "render-report: installing chromium (apt-get)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "render-report: chromium is not installed; run: sudo apt-get install chromium" >&2
        exit 1
    fi
fi

# Chromium refuses to run as root inside containers without --no-sandbox.
sandbox=()
[[ $EUID -eq 0 ]] && sandbox=(--no-sandbox)
log=$(mktemp)
profile=$(mktemp -d)
trap 'rm -rf "$log" "$profile"' EXIT
rm -f "$png"

# A private profile and no network features: the page must render from the file alone.
if ! timeout 120 chromium --headless "${sandbox[@]}" --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$profile" --disable-extensions --disable-background-networking \
    --enable-logging=stderr --v=0 --window-size="$size" --screenshot="$png" \
    "file://$(realpath "$html")" 2>"$log"; then
    echo "render-report: chromium failed:" >&2
    cat "$log" >&2
    exit 1
fi
if grep -q "CONSOLE" "$log"; then
    echo "render-report: the page logged console messages:" >&2
    grep "CONSOLE" "$log" >&2
    exit 1
fi
if [[ ! -s $png ]] || [[ $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') != "89504e470d0a1a0a" ]]; then
    echo "render-report: no PNG was written to $png" >&2
    cat "$log" >&2
    exit 1
fi
echo "render-report: $png ($(stat -c %s "$png") bytes)"
