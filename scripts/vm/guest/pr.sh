#!/usr/bin/env bash
# VM lane guest test: SCSI-3 persistent reservations with real sg_persist against LIO.
# Two initiators (I_T nexuses) on one LUN: A=/dev/sda, B=/dev/sdb (scripts/vm/guest/lio.sh).
# Type 5 = Write Exclusive - Registrants Only. Prints `CHECK <name> ok|fail <detail>` lines;
# exit code = number of failed checks.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/lio.sh"

KA=0xaaaa
KB=0xbbbb

lio_setup_checked 64
A=$LIO_DEV_A B=$LIO_DEV_B

# helpers: exact exit codes matter (sg3_utils: 0 ok, 24 reservation conflict, 6 unit attention)
rc_is() { local want=$1; shift; "$@" >/tmp/rc_is.out 2>&1; local rc=$?; sed 's/^/    | /' /tmp/rc_is.out; echo "    | (exit $rc)"; [ "$rc" -eq "$want" ]; }
keys_of() { sg_persist -n -i -k "$1" 2>&1; }
keys_flat() { keys_of "$1" | tr -s '\n ' '  '; }  # one line, for matching several keys
resv_of() { sg_persist -n -i -r "$1" 2>&1; }
# WRITE(10) of one 512-byte block at LBA $2 straight to the device: SCSI status, no block layer
raw_write() { sg_raw -s 512 -i "$3" "$1" 2a 00 00 00 00 "$(printf %02x "$2")" 00 00 01 00; }
blk_write() { dd if="$3" of="$1" bs=512 seek="$2" count=1 oflag=direct conv=notrunc status=none; }
blk_read() { dd if="$1" bs=512 skip="$2" count=1 iflag=direct status=none; }
printf 'AAAAAAAA%.0s' $(seq 64) >/tmp/pat-a   # 512 bytes
printf 'BBBBBBBB%.0s' $(seq 64) >/tmp/pat-b
printf 'XXXXXXXX%.0s' $(seq 64) >/tmp/pat-x

check_out pr-initially-no-keys 'NO registered reservation keys' "no registrations on a fresh LUN" -- keys_of "$B"

check pr-register-a "A registers key $KA (-o -I -S)" -- rc_is 0 sg_persist -n -o -I -S $KA "$A"
check pr-register-b "B registers key $KB" -- rc_is 0 sg_persist -n -o -I -S $KB "$B"
check_out pr-keys-seen-from-a "0xaaaa 0xbbbb" "A reads both keys (-i -k)" -- keys_flat "$A"
check_out pr-keys-seen-from-b "0xaaaa 0xbbbb" "B reads both keys" -- keys_flat "$B"

check pr-reserve-a "A reserves type 5 (-o -R -T 5)" -- rc_is 0 sg_persist -n -o -R -T 5 -K $KA "$A"
check_out pr-b-sees-reservation 'Key=0xaaaa' "B reads A's reservation (-i -r)" -- resv_of "$B"
check_out pr-reservation-type-5 'Write Exclusive, registrants only' "reservation type is 5" -- resv_of "$B"
check pr-b-reserve-conflicts "B's RESERVE while A holds: reservation conflict (exit 24)" -- \
  rc_is 24 sg_persist -n -o -R -T 5 -K $KB "$B"

# Type 5 semantics: the holder and every registrant may write; an unregistered initiator may not.
check pr-holder-write-ok "A (holder) writes" -- blk_write "$A" 0 /tmp/pat-a
check pr-registrant-write-ok "B (registered, not holder) writes: registrants only" -- blk_write "$B" 1 /tmp/pat-b
check pr-unregister-b "B unregisters (-o -G -S 0)" -- rc_is 0 sg_persist -n -o -G -K $KB -S 0 "$B"
check_out_not pr-b-key-gone '0xbbbb' "B's key no longer listed" -- keys_of "$A"
check pr-unregistered-raw-write-conflict "unregistered B: WRITE(10) gets status RESERVATION CONFLICT (sg_raw exit 24)" -- \
  rc_is 24 raw_write "$B" 2 /tmp/pat-x
check_not pr-unregistered-blk-write-fails "unregistered B: block-layer write fails" -- blk_write "$B" 2 /tmp/pat-x
check pr-unregistered-read-ok "unregistered B may still read (write exclusive)" -- \
  cmp -s <(blk_read "$B" 0) /tmp/pat-a
check_out pr-unregistered-reserve-conflict 'Reservation conflict' "unregistered B cannot reserve" -- \
  sg_persist -n -o -R -T 5 -K $KB "$B"

# Fencing: B (re-registered) preempts A. A loses its registration and the reservation.
check pr-reregister-b "B registers again" -- rc_is 0 sg_persist -n -o -I -S $KB "$B"
check pr-preempt "B preempts A (-o -P -T 5 -K $KB -S $KA)" -- rc_is 0 sg_persist -n -o -P -T 5 -K $KB -S $KA "$B"
check_out pr-preempt-moves-reservation 'Key=0xbbbb' "reservation now held by B" -- resv_of "$B"
check_out_not pr-preempt-removes-victim-key '0xaaaa' "A's key removed" -- keys_of "$B"
check_out pr-loser-ua-registrations-preempted 'Registrations preempted' \
  "A's next PR IN: unit attention 'Registrations preempted'" -- keys_of "$A"
check pr-loser-raw-write-conflict "A's WRITE(10) after preempt: RESERVATION CONFLICT" -- rc_is 24 raw_write "$A" 0 /tmp/pat-x
check_not pr-loser-blk-write-fails "A's block-layer write after preempt fails" -- blk_write "$A" 0 /tmp/pat-x
check pr-loser-write-not-persisted "sector 0 still holds A's pre-preempt data, not the fenced write" -- \
  cmp -s <(blk_read "$B" 0) /tmp/pat-a
check_out pr-loser-reserve-conflict 'Reservation conflict' "A cannot take the reservation back" -- \
  sg_persist -n -o -R -T 5 -K $KA "$A"
check pr-winner-write-ok "B (new holder) writes" -- blk_write "$B" 3 /tmp/pat-b

# Stop: release and unregister.
check pr-release "B releases (-o -L -T 5)" -- rc_is 0 sg_persist -n -o -L -T 5 -K $KB "$B"
check_out pr-no-reservation 'NO reservation held' "no reservation after release" -- resv_of "$A"
check pr-unregister "B unregisters" -- rc_is 0 sg_persist -n -o -G -K $KB -S 0 "$B"
check_out pr-no-keys 'NO registered reservation keys' "no registrations left" -- keys_of "$A"
check pr-write-after-release "A writes again once nobody holds a reservation" -- blk_write "$A" 4 /tmp/pat-a

ferry_vm_done
