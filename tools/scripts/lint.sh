#!/usr/bin/env bash
# Lints the whole repo. @nx/enforce-module-boundaries reads Nx's cached project graph and skips
# itself (with only a warning) when none exists, as on a fresh clone, so the graph is computed
# first; the run fails if the rule reports that it was skipped anyway.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true
node_modules/.bin/nx show projects >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
node node_modules/eslint/bin/eslint.js . --max-warnings=0 "$@" | tee "$out" || status=$?
if grep -q "No cached ProjectGraph is available" "$out"; then
  echo "lint: the module-boundary rule was skipped (no Nx project graph); failing" >&2
  exit 1
fi
exit "$status"
