#!/usr/bin/env bash
# VM lane guest test: a service with vg (scsireserv) + fs + ip + app fails over, through the
# real ferry daemons, from a killed node to its peer, with the SCSI-3 reservation moving.
#
# Two lab nodes (src/lab, `ferry-lab` CLI: network + mount + UTS namespaces on one bridged
# network, UDP heartbeats) share one LUN through two tcm_loop initiators: n1 = /dev/sda,
# n2 = /dev/sdb, each with its own LVM_SYSTEM_DIR whose filter admits only its own path.
#  1. manual svcmgr on the vg alone: n2 starts it (free disk: reserves), n1's start fails with
#     the clear "reserved by key ... not preempting it without --force" error and exit 1,
#     n1's `start --force` preempts n2, n1 stops (release, unregister);
#  2. the daemons: n1 runs the service (its key holds the reservation on /dev/sda), n1 is
#     killed as by a power-off, n2's daemon takes over (forced start: plain PREEMPT, as
#     PREEMPT AND ABORT hangs with tcm_loop): reservation held by n2's key, n1's key gone, VG
#     tagged n2, LV active, fs mounted, address and app up on n2; n1's writes refused.
# Prints `CHECK <name> ok|fail <detail>`; exit code = number of failed checks.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"
. "$here/lio.sh"
. "$here/lvm-node.sh"

NODE=$(command -v node)
SVC=prsvc VG=ferryvg LV=lv0 MNT=/srv/prsvc VIP=10.215.0.100
lab() { "$NODE" "$repo/dist/src/cli/ferry-lab.js" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# poll: wait_for SECONDS cmd... (every 0.5 s until cmd exits 0); returns 1 at the deadline
wait_for() {
  local end=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done
}

T0=$(now)
lio_setup_checked 64 n1 n2
DEV_n1=$LIO_DEV_A DEV_n2=$LIO_DEV_B
lvm_node_conf n1 "$DEV_n1" >/dev/null
lvm_node_conf n2 "$DEV_n2" >/dev/null

# The VG, LV and filesystem, made once from n1's path (untagged, inactive, no reservation).
check dfo-vg "$VG/$LV (32 MiB ext4) created through n1's path" -- run bash -c "
  export LVM_SYSTEM_DIR=/run/ferry-lvm/n1
  pvcreate -y $DEV_n1 && vgcreate $VG $DEV_n1 && lvcreate -y -L 32M -n $LV $VG &&
  mkfs.ext4 -q /dev/$VG/$LV && vgchange -an $VG"
mkdir -p "$MNT"

# The app: a writer loop on the shared fs, one pid file per node (the nodes share /run and pids).
cat >/run/ferry-vm-app.sh <<'APP'
#!/bin/sh
# ferry-vm-app.sh start|stop|check NODE MNT
pidf=/run/ferry-vm-app.$2.pid
case $1 in
  start) sh -c 'while :; do echo "$(date +%s) $1" >>"$2/app.log"; sleep 1; done' writer "$2" "$3" </dev/null >/dev/null 2>&1 &
         echo $! >"$pidf" ;;
  stop) [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null; rm -f "$pidf"; exit 0 ;;
  check) [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null ;;
esac
APP
chmod +x /run/ferry-vm-app.sh

modprobe veth && modprobe bridge
ID=$(lab create --nodes 2 --links 1 --hb-mb 0 --data-mb 0 --quiet 2>&1 | tail -n 1)
if ! [ -f "/run/ferry-lab/$ID.json" ]; then echo "CHECK dfo-lab fail ferry-lab create: $ID"; ferry_vm_done; fi
echo "CHECK dfo-lab ok lab $ID: two nodes (netns + mount ns), one bridged network, in the VM ($(since "$T0") s since script start)"
LABDIR=/tmp/ferry-lab-$ID
init_of() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print([n for n in r["nodes"] if n["name"]==sys.argv[2]][0]["initPid"])' "/run/ferry-lab/$ID.json" "$1"; }
INIT_n1=$(init_of n1) INIT_n2=$(init_of n2)
# run a command "on" a node: its namespaces, FERRY_ROOT, node name and LVM configuration
in_node() {
  local n=$1 init; shift; init=INIT_$n
  nsenter -t "${!init}" -n -m -u env FERRY_ROOT="$LABDIR/$n" FERRY_NODENAME="$n" LVM_SYSTEM_DIR="/run/ferry-lvm/$n" "$@"
}
svcmgr() { local n=$1; shift; in_node "$n" "$NODE" "$repo/dist/src/cli/svcmgr.js" -s "$SVC" "$@"; }
# sg_persist prints keys without leading zeros
key_of() { sed 's/^0x0*/0x/' "$LABDIR/$1/var/scsi_pr_key" 2>/dev/null; }
# sg_persist, again once on unit attention (exit 6: a preempted initiator's first command)
sgp() { local out rc; out=$(sg_persist "$@" 2>&1); rc=$?; [ $rc -eq 6 ] && { out=$(sg_persist "$@" 2>&1); rc=$?; }; echo "$out"; return $rc; }
holder_on() { sgp -n -i -r "$1" | sed -n 's/^ *Key=\(0x[0-9a-f]*\).*/\1/p'; }
holds() { local k; k=$(key_of "$1") && [ -n "$k" ] && [ "$(holder_on "$2")" = "$k" ]; }
keys_on() { sgp -n -i -k "$1" | tr -s ' \n' ' '; }

cat >"$LABDIR/svc.env" <<EOF
[DEFAULT]
nodes = n1 n2
orchestrate = ha

[ip#1]
ipname = $VIP
ipdev = eth0
netmask = 24

[vg#1]
vgname = $VG
scsireserv = true
no_preempt_abort = true

[fs#1]
dev = /dev/$VG/$LV
mnt = $MNT
type = ext4

[app#1]
start = /run/ferry-vm-app.sh start {nodename} $MNT
stop = /run/ferry-vm-app.sh stop {nodename} $MNT
check = /run/ferry-vm-app.sh check {nodename} $MNT
EOF
for n in n1 n2; do mkdir -p "$LABDIR/$n/etc/services" && cp "$LABDIR/svc.env" "$LABDIR/$n/etc/services/$SVC.env"; done

# --- 1. manual starts of the vg alone, no daemon running -----------------------------------
T=$(now)
check dfo-manual-n2-start "n2: svcmgr start --rid vg#1 on a free disk reserves it" -- run svcmgr n2 start --rid vg#1
check dfo-manual-n2-holds "n2's key $(key_of n2) holds the reservation on $DEV_n2" -- holds n2 "$DEV_n2"
out=$(svcmgr n1 start --rid vg#1 2>&1); rc=$?; sed 's/^/    | /' <<<"$out"
check dfo-manual-start-refused "n1: svcmgr start while n2 holds the disk exits 1 (exit $rc)" -- test "$rc" -eq 1
check dfo-manual-start-message "one clear line names the disk, the holder's key and --force" -- \
  grep -Eq "disk $DEV_n1 of vg $VG is reserved by key $(key_of n2) \(another node\): not preempting it without --force" <<<"$out"
check dfo-manual-refused-no-register "the refused start did not register n1's key (type 5: registrants may write)" -- \
  bash -c "! { sg_persist -n -i -k $DEV_n1 || sg_persist -n -i -k $DEV_n1; } | grep -q '$(key_of n1)'"
check dfo-manual-force "n1: svcmgr start --rid vg#1 --force preempts n2" -- run svcmgr n1 start --rid vg#1 --force
check dfo-manual-force-holds "n1's key $(key_of n1) now holds the reservation" -- holds n1 "$DEV_n1"
check_out_not dfo-manual-force-n2-key-gone "$(key_of n2)" "n2's registration is gone" -- keys_on "$DEV_n1"
check dfo-manual-stop "n1: svcmgr stop --rid vg#1 deactivates, untags, releases, unregisters" -- run svcmgr n1 stop --rid vg#1
check_out dfo-manual-clean 'NO registered reservation keys' "no keys left on the LUN" -- sgp -n -i -k "$DEV_n1"
# the operator's start/stop above are remembered per node: forget them before the daemons run
rm -f "$LABDIR"/n?/var/services/$SVC/expect.json
echo "manual phase: $(since "$T") s"

# --- 2. the daemons ------------------------------------------------------------------------
# The cluster file, written here rather than by `ferry-lab cluster-conf` (which adds lab STONITH
# sections): one unicast heartbeat, no disk heartbeat, no STONITH, and quorum = false said
# explicitly (two nodes without arbitrator): the reservation is the only fence in this test.
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
for n in n1 n2; do
  cat >"$LABDIR/$n/etc/cluster.conf" <<EOF
[cluster]
name = $ID
nodes = n1 n2
secret_file = cluster.secret
quorum = false

[hb#1]
type = unicast
addr@n1 = 10.215.0.1
addr@n2 = 10.215.0.2
port = 10001
interval = 1s
timeout = 6s
EOF
  (umask 077; echo "$secret" >"$LABDIR/$n/etc/cluster.secret")
done
agent() { echo "agent $1 pid $(lab agent-start "$ID" "$1" /usr/bin/env "LVM_SYSTEM_DIR=/run/ferry-lvm/$1" "$NODE" "$repo/dist/src/cli/nodemgr.js" daemon run)"; }

n1_up() {
  holds n1 "$DEV_n1" && /run/ferry-vm-app.sh check n1 &&
    nsenter -t "$INIT_n1" -m findmnt -n "$MNT" && ip -n "${ID}n1" -o addr show dev eth0 | grep -q "$VIP/"
}
# n1 first (the preferred node, so its beats come first), n2 right after: both boot at once
T=$(now)
agent n1
agent n2
check dfo-n1-up "n1's daemon starts $SVC on n1 (reservation on $DEV_n1, fs, address, app)" -- wait_for 150 n1_up
echo "agents start -> service up on n1: $(since "$T") s"
grep -hs "$SVC\|daemon started" "$LABDIR/n1/log/daemon.log" | tail -n 6 | cut -c1-300 | sed 's/^/    | /'
check_out dfo-n1-holder "Key=$(key_of n1)" "n1's key $(key_of n1) holds the reservation (read from n2's path)" -- sgp -n -i -r "$DEV_n2"
check_out dfo-n1-type5 'Write Exclusive, registrants only' "reservation type 5" -- sgp -n -i -r "$DEV_n2"
check_out dfo-n1-tag '^ *n1 *$' "VG tagged n1" -- lvm_as n2 vgs --noheadings -o vg_tags "$VG"

# n2 must know n1 before n1 dies, or there is no takeover to make
check dfo-n2-sees-n1 "n2's daemon hears n1" -- wait_for 90 bash -c "grep -hs 'peer n1 up' $LABDIR/n2/log/*.log | grep -q ."
echo "agents start -> n2 hears n1: $(since "$T") s"
sleep 2
check_not dfo-n2-standby "n2 does not run the app while n1 does" -- /run/ferry-vm-app.sh check n2

# Power-off of n1: every process SIGKILLed (daemon, app), its namespaces gone. Its mount went
# with its mount namespace; its dm device would go with its kernel: both nodes share this VM's
# device-mapper, so n1's LV is removed here by hand before n2 activates the same VG.
out=$(lab kill "$ID" n1 2>&1); rc=$?; TK=$(now); sed 's/^/    | /' <<<"$out"
check dfo-kill-n1 "ferry-lab kill n1 (power-off: SIGKILL of all its processes, namespaces removed)" -- test "$rc" -eq 0
check_not dfo-n1-app-dead "n1's app died with it" -- /run/ferry-vm-app.sh check n1
check dfo-n1-dm-removed "n1's LV device removed (its mount went with its namespace; power-off drops dm devices)" -- \
  wait_for 20 bash -c "! dmsetup info $VG-$LV >/dev/null 2>&1 || dmsetup remove $VG-$LV"
echo "n1 dm device gone at +$(since "$TK") s"

n2_app() { /run/ferry-vm-app.sh check n2; }
check dfo-n2-app "n2's daemon takes $SVC over: app running on n2" -- wait_for 150 n2_app
UP=$(since "$TK")
check dfo-n2-holder "reservation on $DEV_n2 now held by n2's key $(key_of n2)" -- holds n2 "$DEV_n2"
check_out dfo-n2-holder-from-n1-path "Key=$(key_of n2)" "same seen through n1's path" -- sgp -n -i -r "$DEV_n1"
check_out_not dfo-n1-key-gone "$(key_of n1)" "n1's key $(key_of n1) preempted: no longer registered" -- keys_on "$DEV_n2"
check dfo-n2-preempt-logged "n2's forced start preempted n1's key with plain PREEMPT (service log)" -- \
  grep -q "\"preempted key $(key_of n1) on $DEV_n2: reservation taken over\"" "$LABDIR/n2/log/$SVC.log"
check_out dfo-n2-tag '^ *n2 *$' "VG tagged n2" -- lvm_as n2 vgs --noheadings -o vg_tags "$VG"
check_out dfo-n2-lv-active '^ *....a' "LV active on n2" -- lvm_as n2 lvs --noheadings -o lv_attr "$VG/$LV"
check_out dfo-n2-dm-on-sdb "$(printf '%d:%d' 0x"$(stat -c %t "$DEV_n2")" 0x"$(stat -c %T "$DEV_n2")")" "n2's LV maps onto $DEV_n2" -- dmsetup table "$VG-$LV"
check dfo-n2-fs "fs mounted in n2's namespace" -- nsenter -t "$INIT_n2" -m findmnt -n "$MNT"
check dfo-n2-ip "address $VIP on n2" -- bash -c "ip -n ${ID}n2 -o addr show dev eth0 | grep -q '$VIP/'"
check dfo-n2-app-writes "the app writes on the shared fs from n2" -- \
  wait_for 10 bash -c "nsenter -t $INIT_n2 -m tail -n 1 $MNT/app.log | grep -q ' n2$'"
printf 'FENCED..%.0s' $(seq 64) >/tmp/dfo-fenced
# sector 120000 (58.6 MiB): past the LV's extents, so a write that wrongly succeeded harms nothing
check_not dfo-n1-write-refused "n1's path: a write to the LUN is refused (preempted)" -- \
  dd if=/tmp/dfo-fenced of="$DEV_n1" bs=512 seek=120000 count=1 oflag=direct conv=notrunc status=none
st=$(svcmgr n2 print status 2>&1); sed 's/^/    | /' <<<"$st"
check dfo-n2-status "svcmgr print status on n2: avail up (overall is warn: the heartbeat to dead n1 is down)" -- grep -Eq 'avail +up' <<<"$st"
check dfo-n2-status-vg "svcmgr print status on n2: vg#1 up (n2 holds every disk)" -- grep -Eq 'vg#1 +\.\.\.\. up' <<<"$st"
echo "CHECK dfo-timing ok n1 killed -> $SVC up on n2 (app running) in $UP s (heartbeat timeout 6 s; guest is 1 vCPU TCG)"
echo "--- n2 agent log (tail)"; tail -n 15 "$LABDIR/n2/log/agent.out" 2>/dev/null | sed 's/^/    | /'
grep -hs "$SVC" "$LABDIR/n2/log/daemon.log" | tail -n 8 | sed 's/^/    | /'

# no `ferry-lab destroy`: the guest powers off next, which ends everything (and saves a node start)
echo "total: $(since "$T0") s"
ferry_vm_done
