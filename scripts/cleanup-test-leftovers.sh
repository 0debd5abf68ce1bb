#!/usr/bin/env bash
# Removes what a crashed test run may have left: every host object tests create carries the
# "fy" prefix (network namespaces, interfaces, containers, VGs) or lives under /tmp/ferry-*.
# Run before the suite so a crashed run never poisons the next one.
set -u
# ferry labs first: their registry (/run/ferry-lab) names every process, namespace, loop device and dir
timeout 120 node "$(dirname "$0")/../dist/src/cli/ferry-lab.js" cleanup --all >/dev/null 2>&1
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^fy'); do
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$ns" 2>/dev/null
done
for dev in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^fy'); do
  ip link del "$dev" 2>/dev/null
done
for c in $(timeout 20 docker ps -aq --filter name=fy 2>/dev/null); do timeout 20 docker rm -f "$c" >/dev/null 2>&1; done
for c in $(timeout 20 podman ps -aq --filter name=fy 2>/dev/null); do timeout 20 podman rm -f -t 0 "$c" >/dev/null 2>&1; done
grep -E ' /tmp/ferry-[^ ]*' /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
for vg in $(vgs --noheadings -o vg_name 2>/dev/null | grep '^ *fy'); do vgremove -f "$vg" >/dev/null 2>&1; done
losetup -a 2>/dev/null | grep -E '/tmp/ferry-' | cut -d: -f1 | while read -r l; do losetup -d "$l" 2>/dev/null; done
rm -rf /tmp/ferry-lab-* 2>/dev/null
# VM lane scratch dirs of a run that was killed outright
for d in /tmp/ferry-vm.* /tmp/ferry-vmtest-*; do [ -e "$d" ] || continue; pgrep -f "$d/" >/dev/null || rm -rf "$d"; done
exit 0
