#!/usr/bin/env bash
# The main job: a demo service on this machine — an address in a network namespace of its
# own, ext4 on a loop device, a Docker container using that filesystem and a web server app
# on the service address — started in order, shown up, then stopped in reverse. Everything
# it creates is removed at the end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
REPO=$PWD

id=fydemo$$
work=$(mktemp -d /tmp/ferry-demo.XXXXXX)
export FERRY_ROOT=$work/root FERRY_NODENAME=demo1
mkdir -p "$FERRY_ROOT/etc/services"
svc=demo.ferry
loopdev=""

cleanup() {
  set +e
  [ -f "$FERRY_ROOT/etc/services/$svc.env" ] && in_ns svcmgr -s "$svc" stop >/dev/null 2>&1
  docker rm -f "$svc.container.1" >/dev/null 2>&1
  umount "$work/data" 2>/dev/null
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  ip netns pids "$id" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns del "$id" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# the service's network: a namespace with eth0 (a veth whose peer stays inside)
ip netns add "$id"
ip -n "$id" link set lo up
ip -n "$id" link add eth0 type veth peer name eth0peer
ip -n "$id" link set eth0peer up
ip -n "$id" link set eth0 up
ip -n "$id" addr add 10.213.99.1/24 dev eth0
# ferry runs in that network namespace but in the host's mount namespace
in_ns() { local cmd=$1; shift; nsenter --net=/run/netns/"$id" node "$REPO/dist/src/cli/$cmd.js" "$@"; }

truncate -s 64M "$work/disk.img"
mkfs.ext4 -q -F "$work/disk.img"
loopdev=$(losetup --find --show "$work/disk.img")

cat >"$FERRY_ROOT/etc/services/$svc.env" <<CONF
[DEFAULT]
nodes = demo1
service_type = DEV

[ip#1]
ipname = 10.213.99.10
ipdev = eth0
netmask = 24

[fs#1]
dev = $loopdev
mnt = $work/data
type = ext4

[container#1]
type = docker
run_image = ferry/busybox:latest
run_args = --network none -v $work/data:/data
run_command = /bin/sh -c "date > /data/written-by-container; trap 'exit 0' TERM; sleep 100000 & wait"

[app#web]
start = /bin/busybox httpd -p 10.213.99.10:8080 -h $work/data
stop = /usr/bin/pkill -f "httpd -p 10.213.99.10:8080"
check = /bin/busybox wget -q -O /dev/null http://10.213.99.10:8080/written-by-container
CONF

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "svcmgr -s $svc validate config"
in_ns svcmgr -s "$svc" validate config && echo "clean"
step "svcmgr -s $svc start"
in_ns svcmgr -s "$svc" start
step "svcmgr -s $svc print status"
in_ns svcmgr -s "$svc" print status || true
step "svcmon"
in_ns svcmon
step "the app answers on the service address, serving a file the container wrote on the service fs"
nsenter --net=/run/netns/"$id" busybox wget -q -O - http://10.213.99.10:8080/written-by-container
step "svcmgr -s $svc stop"
in_ns svcmgr -s "$svc" stop
step "svcmgr -s $svc print status"
in_ns svcmgr -s "$svc" print status || true
