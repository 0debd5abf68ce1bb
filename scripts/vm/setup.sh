#!/usr/bin/env bash
# VM lane host set-up (Debian 12, as root). Idempotent. Installs what scripts/vm/run.sh needs:
# qemu (TCG, no KVM needed), the Debian kernel package (its vmlinuz and modules are booted in the
# guest; the host's own kernel is not touched or used), kmod (depmod), busybox-static (initramfs
# userland), cpio (initramfs archive), and sg3-utils + lvm2 + nfs-kernel-server (used by the
# guest through the 9p share of the host root: exportfs, rpc.mountd, rpc.nfsd drive the guest
# kernel's nfsd; nfs-common's mount.nfs and rpcbind come with it). Installing
# nfs-kernel-server starts no server here: its service needs the nfsd module, which the host
# kernel may lack; only the guest runs one.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "vm-setup: must run as root" >&2
  exit 1
fi

PKGS=(qemu-system-x86 linux-image-amd64 kmod busybox-static cpio sg3-utils lvm2 nfs-kernel-server)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "vm-setup: installing ${missing[*]}"
  apt-get update -q
  # INITRD=No: the guest boots our own initramfs, skip building a host initrd for that kernel.
  # NEEDRESTART_SUSPEND: never let needrestart restart services (dockerd) of a shared host.
  DEBIAN_FRONTEND=noninteractive INITRD=No NEEDRESTART_SUSPEND=1 \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Sanity: a Debian kernel with the modules the lane loads.
# shellcheck disable=SC1091
. "$(dirname "$0")/kernel.sh"
ver=$(ferry_vm_kernel_version) || { echo "vm-setup: no Debian kernel found in /boot" >&2; exit 1; }
for m in dm-mod target_core_mod target_core_file tcm_loop 9p 9pnet_virtio overlay nfsd nfsv3 nfsv4 loop; do
  [ -n "$(find "/lib/modules/$ver/kernel" -name "${m//-/[-_]}.ko*" -print -quit)" ] ||
    { echo "vm-setup: module $m missing for kernel $ver" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "vm-setup: qemu-system-x86_64 missing" >&2; exit 1; }
echo "vm-setup: ok (kernel $ver)"
