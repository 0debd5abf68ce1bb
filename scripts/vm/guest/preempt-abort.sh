#!/usr/bin/env bash
# VM lane guest probe of a known limit: PREEMPT AND ABORT (sg_persist -o -A) through tcm_loop
# blocks the caller in the kernel, uninterruptibly, on this Debian kernel. The agent must offer
# plain PREEMPT (no_preempt_abort). This script documents the behaviour: it passes while the
# hang is still there and fails (loudly) once a kernel fixes it, so the docs get revisited.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/lio.sh"

lio_setup_checked 64
A=$LIO_DEV_A B=$LIO_DEV_B
WAIT=${FERRY_GUEST_PA_WAIT:-10}
check pa-setup "A registers+reserves, B registers" -- run bash -c \
  "sg_persist -n -o -I -S 0xaaaa $A && sg_persist -n -o -R -T 5 -K 0xaaaa $A && sg_persist -n -o -I -S 0xbbbb $B"
sg_persist -n -o -A -T 5 -K 0xbbbb -S 0xaaaa "$B" >/tmp/pa.out 2>&1 &
pid=$!
sleep "$WAIT"
state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
kill -9 "$pid" 2>/dev/null; sleep 1
state2=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
echo "    | sg_persist -o -A: state after ${WAIT}s: $state; 1s after SIGKILL: $state2"
echo "    | kernel stack: $(tr '\n' ' ' </proc/$pid/stack 2>/dev/null | cut -c1-300)"
sed 's/^/    | /' /tmp/pa.out
check pa-hangs "known limit: PREEMPT AND ABORT still blocked after ${WAIT}s (state $state)" -- test "$state" = D
check pa-unkillable "known limit: SIGKILL does not end it (state $state2)" -- test "$state2" = D
ferry_vm_done
