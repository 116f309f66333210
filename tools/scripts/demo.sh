#!/usr/bin/env bash
# The demo command (README Quick start): installs what is missing (Debian packages, npm
# dependencies), then runs `kvr demo`: round-robin vs precise prefix-cache routing on a simulated
# 8-pod fleet, with the comparison printed and the report written under out/.
# Extra arguments go to `kvr demo` (e.g. `npm run demo -- --rates 3,13`).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Without redis-server or nats-server the demo still runs: `kvr demo` says so and takes the
# standalone stack (in-memory index, in-process bus).
bash tools/scripts/ensure-system-deps.sh || echo "demo: some system packages could not be installed; going on with what is here" >&2
[[ -d node_modules ]] || npm ci
exec node tools/bin/kvr.js demo "$@"
