#!/usr/bin/env bash
# Builds ferry/busybox:latest from Debian's busybox-static into Docker and Podman.
# No registry is reachable here, so the image is imported from a rootfs made on the spot.
set -euo pipefail
IMAGE=${FERRY_TEST_IMAGE:-ferry/busybox:latest}
need_docker=1; need_podman=1
timeout 10 docker image inspect "$IMAGE" >/dev/null 2>&1 && need_docker=0
timeout 10 podman image exists "$IMAGE" 2>/dev/null && need_podman=0
[ $need_docker -eq 0 ] && [ $need_podman -eq 0 ] && exit 0

rootfs=$(mktemp -d /tmp/ferry-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,var,run,root}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
if [ $need_docker -eq 1 ]; then
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin:/sbin' - "$IMAGE" >/dev/null
  echo "build-test-image: $IMAGE imported into docker"
fi
if [ $need_podman -eq 1 ]; then
  tar -C "$rootfs" -c . | podman import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin:/sbin' - "$IMAGE" >/dev/null
  echo "build-test-image: $IMAGE imported into podman"
fi
