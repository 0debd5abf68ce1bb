#!/usr/bin/env bash
# The test command: sets up this Debian host (packages, npm, dockerd, test image) and runs the
# whole suite as root. Extra arguments go to ava (e.g. a single file under dist/test).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
scripts/cleanup-test-leftovers.sh
log=$(mktemp /tmp/ferry-test-log.XXXXXX)
npx ava "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -Eo '[0-9]+ tests? passed' "$log" | tail -1 | grep -Eo '^[0-9]+' || echo 0)
failed=$(grep -Eo '[0-9]+ tests? failed' "$log" | tail -1 | grep -Eo '^[0-9]+' || echo 0)
known=$(grep -Eo '[0-9]+ known failures?' "$log" | tail -1 | grep -Eo '^[0-9]+' || echo 0)
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
rm -f "$log"
echo "ava: $passed passed, $failed failed"
exit "$rc"
