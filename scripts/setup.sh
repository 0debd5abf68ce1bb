#!/usr/bin/env bash
# Host set-up for ferry on a Debian machine, as root. Idempotent: run it as often as you like.
# Installs the Debian packages the drivers and tests use, the npm packages, builds the code,
# starts a Docker engine if none answers, configures Podman for this host, and builds the
# local busybox test image into both engines (no image registry is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root (it installs packages and starts dockerd)" >&2
  exit 1
fi

PKGS=(docker.io podman runc lvm2 iproute2 arping iputils-ping resource-agents busybox-static
      fence-agents sg3-utils keepalived kmod psmisc e2fsprogs xfsprogs util-linux procps tcpdump nftables iptables
      systemd man-db groff-base logrotate dpkg rsync chromium btrfs-progs glusterfs-server glusterfs-client curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build

# Docker engine: the node's own, no iptables or bridge games on a shared host.
if ! timeout 10 docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd"
  mkdir -p /var/log
  nohup dockerd --iptables=false --bridge=none >/var/log/ferry-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    timeout 5 docker info >/dev/null 2>&1 && break
    sleep 1
  done
  timeout 10 docker info >/dev/null 2>&1 || { echo "setup: dockerd did not come up, see /var/log/ferry-dockerd.log" >&2; tail -20 /var/log/ferry-dockerd.log >&2; exit 1; }
fi

# Podman: crun fails on this cgroup layout and the default ulimits are refused (GUIDE §6).
# Host set-up, kept out of the driver.
mkdir -p /etc/containers/containers.conf.d
cat >/etc/containers/containers.conf.d/50-ferry.conf <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF

scripts/build-test-image.sh
echo "setup: done"
