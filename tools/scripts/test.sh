#!/usr/bin/env bash
# The test command (README Quick start, CI): unit and integration tests in one jest run.
# Integration tests start their own redis-server and nats-server -js on free ports; the Debian
# packages are installed first when missing. Ends with one line:
#   Tests: N passed, N failed[, N skipped]
# Extra arguments go to jest (e.g. `npm test -- libs/config`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/ensure-system-deps.sh
[[ -d node_modules ]] || npm ci
results=$(mktemp -d)/jest-results.json
status=0
node node_modules/jest/bin/jest.js --ci --json --outputFile="$results" "$@" || status=$?
node tools/jest/summarize.js "$results" || status=$?
exit "$status"
