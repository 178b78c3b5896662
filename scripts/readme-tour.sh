#!/usr/bin/env bash
# Runs every command of the README's "Tour" block, as written, and fails on
# the first that fails.
set -euo pipefail
cd "$(dirname "$0")/.."
block=$(awk '/^## Tour/{t=1} t&&/^```sh/{c=1;next} c&&/^```/{exit} c' README.md)
[ -n "$block" ] || { echo "README has no Tour block" >&2; exit 1; }
while IFS= read -r cmd; do
    [ -z "$cmd" ] && continue
    echo "+ $cmd"
    bash -o pipefail -c "$cmd" > /dev/null
done <<< "$block"
echo "README tour: all commands ran"
