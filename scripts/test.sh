#!/usr/bin/env bash
# The test command: sets up this Debian host (packages, npm, dockerd, test image, the VM
# lane's qemu and kernel) and runs, as root, the whole suite and then the VM lane (real SCSI
# persistent reservations and LVM activation in a qemu guest). With arguments, only those
# ava files of the main suite run.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
scripts/cleanup-test-leftovers.sh

passed=0; failed=0; rc=0
run_ava() {
  local log; log=$(mktemp /tmp/ferry-test-log.XXXXXX)
  npx ava "$@" 2>&1 | tee "$log"
  local r=${PIPESTATUS[0]}
  local p f
  # ava prints "N tests passed" only when none failed: count the per-test lines instead
  p=$(grep -Ec '^\s*✔' "$log" || true)
  f=$(grep -Eo '[0-9]+ tests? failed' "$log" | tail -1 | grep -Eo '^[0-9]+' || echo 0)
  local marks; marks=$(grep -Ec '^\s*✘' "$log" || true)
  [ "$marks" -gt "$f" ] && f=$marks
  [ "$r" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  passed=$((passed + p)); failed=$((failed + f))
  [ "$r" -ne 0 ] && rc=$r
  rm -f "$log"
}

if [ "$#" -gt 0 ]; then
  run_ava "$@"
else
  run_ava
  echo "== VM lane (qemu guest: LIO SCSI-3 persistent reservations, LVM activation)"
  if scripts/vm/setup.sh; then
    run_ava --config ava.vm.config.mjs
  else
    echo "test: the VM lane could not be set up" >&2
    failed=$((failed + 1)); rc=1
  fi
fi
echo "ava: $passed passed, $failed failed"
exit "$rc"
