#!/usr/bin/env bash
# VM lane guest test: ferry's fs driver (`type = nfs4`, `type = nfs`) against a real NFS
# server: the Debian kernel's nfsd, driven by nfs-kernel-server's exportfs, rpc.mountd and
# rpc.nfsd (the host's packages, seen through the 9p root), exporting a tmpfs directory on
# 127.0.0.1 of the guest. No daemon: svcmgr on one node, FERRY_ROOT under /tmp.
#  1. type = nfs, mnt_opt vers=3,nolock: start, status up, the app's data on the server's
#     side, stop with a plain umount;
#  2. type = nfs4 (hard mount, the default): the same, then start again, the server goes away
#     (nfsd stopped: every RPC of the mount now waits for a server that never answers, the
#     app blocks in its writes), `svcmgr print status` still answers within STATUS_BOUND s
#     and says fs#1 up (mount table only), `svcmgr stop` ends within STOP_BOUND s: the app
#     killed, the mount, kept busy by a loop device on one of its files, detached with
#     umount -f -l (event fs_forced_umount).
# Prints `CHECK <name> ok|fail <detail>`; exit code = number of failed checks.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

NODE=$(command -v node)
EXPORT=/srv/ferry-nfs-export
ROOT=/tmp/ferry-nfs-root
STATUS_BOUND=${FERRY_GUEST_NFS_STATUS_BOUND:-30}
# the fs stop's own bound (fs-net-ops: 3 umounts of at most 15 + 5 s, stop_timeout, /proc
# scans) plus the app's stop and svcmgr's start-up on a 1 vCPU TCG guest
STOP_BOUND=${FERRY_GUEST_NFS_STOP_BOUND:-90}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
wait_for() {
  local end=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.3; done
}
svcmgr() { local s=$1; shift; FERRY_ROOT=$ROOT FERRY_NODENAME=vm1 "$NODE" "$repo/dist/src/cli/svcmgr.js" -s "$s" "$@"; }
# the kernel's file system type of the top mount at $1 (mount table only: never a stat)
mnt_type() { awk -v m="$1" '$5 == m { t = $0 } END { if (t) { sub(/.* - /, "", t); split(t, a, " "); print a[1] } }' /proc/self/mountinfo; }
mounted() { [ -n "$(mnt_type "$1")" ]; }

T0=$(now)
# ---- the server ---------------------------------------------------------------------------
ip link set lo up
srv() {
  modprobe nfsd && modprobe nfsv3 && modprobe nfsv4 &&
    mount -t nfsd nfsd /proc/fs/nfsd &&
    mkdir -p "$EXPORT" /var/lib/nfs/v4recovery /run/rpcbind && mount -t tmpfs -o size=32m ferry-nfs "$EXPORT" &&
    mkdir -p "$EXPORT/v3" "$EXPORT/v4" &&
    # a tmpfs has no UUID: an export of it needs fsid=. fsid=0: it is also the root of the
    # NFSv4 pseudo filesystem (v4 clients name $EXPORT/v4 as /v4; the guest's / is an overlay,
    # which nfsd cannot export as the pseudo root mountd would make). 127.0.0.1 only.
    echo "$EXPORT 127.0.0.1(rw,sync,no_root_squash,no_subtree_check,insecure,fsid=0)" >/etc/exports &&
    # the v4 grace period (no OPEN for that long after nfsd starts) and lease at their minimum
    echo 10 >/proc/fs/nfsd/nfsv4gracetime && echo 10 >/proc/fs/nfsd/nfsv4leasetime &&
    rpcbind -w && exportfs -ra && rpc.mountd && rpc.nfsd 4 && exportfs -v
}
check nfs-server "nfsd + rpc.mountd + rpcbind exporting $EXPORT (tmpfs) to 127.0.0.1" -- run srv
check_out nfs-server-versions '\+4' "nfsd serves v4 ($(cat /proc/fs/nfsd/versions 2>/dev/null))" -- cat /proc/fs/nfsd/versions
echo "server up: $(since "$T0") s"

cat >/run/ferry-nfs-app.sh <<'APP'
#!/bin/sh
# ferry-nfs-app.sh start|stop|check SVC MNT : a writer of numbered records on the mount
pidf=/run/ferry-nfs-app.$2.pid
case $1 in
  start) sh -c 'i=0; while :; do i=$((i+1)); echo "record $i" >>"$1/app.log"; sleep 0.2; done' writer "$3" </dev/null >/dev/null 2>&1 &
         echo $! >"$pidf" ;;
  stop) [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null; rm -f "$pidf"; exit 0 ;;
  check) [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null ;;
esac
APP
chmod +x /run/ferry-nfs-app.sh

# svc_conf SVC TYPE EXPORT-PATH MNT_OPT
svc_conf() {
  mkdir -p "$ROOT/etc/services"
  cat >"$ROOT/etc/services/$1.env" <<EOF
[DEFAULT]
nodes = vm1

[fs#1]
type = $2
dev = 127.0.0.1:$3
mnt = /srv/$1
${4:+mnt_opt = $4}
stop_timeout = 3s

[app#1]
start = /run/ferry-nfs-app.sh start {svcname} /srv/$1
stop = /run/ferry-nfs-app.sh stop {svcname} /srv/$1
check = /run/ferry-nfs-app.sh check {svcname} /srv/$1
EOF
}

# happy SVC TYPE EXPORT-PATH SUBDIR KTYPE : start, status up, data on the server, stop (plain umount)
happy() {
  local s=$1 type=$2 dev=127.0.0.1:$3 sub=$4 ktype=$5 T st
  T=$(now)
  check "$s-start" "svcmgr start (type = $type)" -- run svcmgr "$s" start
  echo "$s start: $(since "$T") s"
  check_out "$s-kernel-type" "^$ktype\$" "the mount at /srv/$s is a kernel $ktype mount" -- mnt_type "/srv/$s"
  st=$(svcmgr "$s" print status 2>&1); sed 's/^/    | /' <<<"$st"
  check "$s-status-up" "print status: fs#1 up, app#1 up" -- bash -c "grep -Eq 'fs#1 +\.\.\.\. up +$dev@/srv/$s' <<<\"\$1\" && grep -Eq 'app#1 +\.\.\.\. up' <<<\"\$1\"" _ "$st"
  check "$s-data-on-server" "the app's records reach the server's export ($EXPORT/$sub/app.log)" -- \
    wait_for 20 bash -c "[ \"\$(wc -l <$EXPORT/$sub/app.log)\" -ge 5 ]"
  check "$s-write-read" "1 MiB written through the mount, the same bytes in the export" -- bash -c "
    head -c 1048576 /dev/urandom >/tmp/$s.bin && cp /tmp/$s.bin /srv/$s/blob && sync &&
    cmp /tmp/$s.bin $EXPORT/$sub/blob"
  T=$(now)
  check "$s-stop" "svcmgr stop" -- run svcmgr "$s" stop
  echo "$s stop: $(since "$T") s"
  check_not "$s-unmounted" "/srv/$s no longer mounted" -- mounted "/srv/$s"
  check_not "$s-plain-umount" "a plain umount (no fs_forced_umount) while the server is up" -- \
    grep -q '"event":"fs_forced_umount"' "$ROOT/log/$s.log"
  check_not "$s-app-stopped" "the app stopped" -- /run/ferry-nfs-app.sh check "$s"
}

# ---- 1. type = nfs, NFSv3 (kernel type nfs) ------------------------------------------------
svc_conf nfs3svc nfs "$EXPORT/v3" vers=3,nolock
happy nfs3svc nfs "$EXPORT/v3" v3 nfs

# ---- 2. type = nfs4 (kernel type nfs4), hard mount -----------------------------------------
svc_conf nfs4svc nfs4 /v4 ""
happy nfs4svc nfs4 /v4 v4 nfs4

# then the server goes away under a started service
check nfs4svc-restart "svcmgr start again" -- run svcmgr nfs4svc start
n0=$(wc -l <"$EXPORT/v4/app.log")
check nfs4svc-writing "the app writes again" -- wait_for 20 bash -c "[ \"\$(wc -l <$EXPORT/v4/app.log)\" -gt $n0 ]"
# a kernel reference on the mount that no kill of a process removes (as in the glusterfs lab
# test): a loop device on a file of the mount, so the plain umount is refused (busy) even
# once the app is gone, and the stop has to detach the mount
LOOP=""
lo_attach() { modprobe loop && head -c 4194304 /dev/zero >/srv/nfs4svc/img && LOOP=$(losetup -f --show /srv/nfs4svc/img) && [ -b "$LOOP" ]; }
check nfs4svc-loop "a loop device on /srv/nfs4svc/img (a reference the kernel holds, no process)" -- lo_attach
echo "    | loop device $LOOP"
check nfs4svc-server-gone "the server goes away: rpc.nfsd 0 (no nfsd thread, its sockets closed), exports removed" -- \
  run bash -c "rpc.nfsd 0 && exportfs -ua && cat /proc/fs/nfsd/threads"
n1=$(wc -l <"$EXPORT/v4/app.log")
sleep 2
check_out nfs4svc-app-blocked "^$n1\$" "the app's writes no longer reach the export ($n1 records)" -- wc -l <"$EXPORT/v4/app.log"
T=$(now)
st=$(timeout $((STATUS_BOUND + 10)) bash -c "FERRY_ROOT=$ROOT FERRY_NODENAME=vm1 $NODE $repo/dist/src/cli/svcmgr.js -s nfs4svc print status" 2>&1); rc=$?
ST=$(since "$T"); sed 's/^/    | /' <<<"$st"
check nfs4svc-gone-status "print status answers with the server gone (exit $rc) in $ST s (bound $STATUS_BOUND s)" -- \
  awk -v t="$ST" -v b="$STATUS_BOUND" -v rc="$rc" 'BEGIN { exit !(rc == 0 && t < b) }'
check nfs4svc-gone-status-up "print status: fs#1 up (read from the mount table, never a stat)" -- \
  grep -Eq "fs#1 +\.\.\.\. up" <<<"$st"
APP_PID=$(cat /run/ferry-nfs-app.nfs4svc.pid)
T=$(now)
out=$(timeout $((STOP_BOUND + 30)) bash -c "FERRY_ROOT=$ROOT FERRY_NODENAME=vm1 $NODE $repo/dist/src/cli/svcmgr.js -s nfs4svc stop" 2>&1); rc=$?
SP=$(since "$T"); sed 's/^/    | /' <<<"$out"
check nfs4svc-gone-stop "svcmgr stop with the server gone ends, exit 0 (exit $rc), in $SP s (bound $STOP_BOUND s)" -- \
  awk -v t="$SP" -v b="$STOP_BOUND" -v rc="$rc" 'BEGIN { exit !(rc == 0 && t < b) }'
check_not nfs4svc-gone-unmounted "/srv/nfs4svc no longer mounted" -- mounted /srv/nfs4svc
check nfs4svc-gone-forced "event fs_forced_umount logged for /srv/nfs4svc" -- \
  grep -q '"event":"fs_forced_umount".*"mnt":"/srv/nfs4svc"' "$ROOT/log/nfs4svc.log"
check_not nfs4svc-gone-app-dead "the app (pid $APP_PID, blocked in its write) is gone" -- kill -0 "$APP_PID"
# the loop device still holds the detached mount; its release would wait for the server
[ -n "$LOOP" ] && { timeout 5 losetup -d "$LOOP" >/dev/null 2>&1 & }
echo "--- nfs4svc log (tail)"; tail -n 12 "$ROOT/log/nfs4svc.log" | cut -c1-300 | sed 's/^/    | /'
echo "CHECK nfs-timing ok server gone: status answered in $ST s, stop ended in $SP s; script $(since "$T0") s"
ferry_vm_done
