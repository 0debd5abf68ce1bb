#!/usr/bin/env bash
# The main job: a two-node ferry cluster on this machine (each node a network + mount + UTS
# namespace on shared bridges, a shared loop disk), a service with an address, a filesystem,
# a container and a web app started by the daemon, the owner node killed, the failover timed,
# svcmon before and after. The lab is removed at the end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
exec node dist/src/lab/demo.js
