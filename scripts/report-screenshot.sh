#!/usr/bin/env bash
# Renders the HTML report of the bundled corpus in headless Chromium and
# checks that a screenshot with content came out.
#
#   scripts/report-screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
png=${1:-target/report.png}
cargo run --release --quiet -- report data/news-sample.jsonl -o target/report.html -q
profile=$(mktemp -d)
rm -f "$png"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1200,1600 \
    --screenshot="$png" "file://$PWD/target/report.html" > /dev/null 2>&1 || true
rm -rf "$profile"
size=$(stat -c %s "$png" 2>/dev/null || echo 0)
# A blank 1200x1600 page compresses to a few kB; the rendered report is ~200 kB.
if [ "$size" -lt 50000 ]; then
    echo "report screenshot missing or blank ($size bytes)" >&2
    exit 1
fi
echo "report rendered in Chromium: $png ($size bytes)"
