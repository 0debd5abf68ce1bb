#!/usr/bin/env bash
# VM lane: boot the Debian kernel (package linux-image-amd64) under qemu TCG with a throw-away
# initramfs, share this machine's root read-only over 9p (under an overlay with a tmpfs upper
# layer, so the guest sees the host's bash, node, lvm2, sg3-utils and this checkout), run one
# guest script as root inside that root, stream the serial console to stdout and power off.
#
#   scripts/vm/run.sh <guest-script> [args...]
#
# Exit code: the guest script's exit code (reported by the guest as `FERRY-VM-EXIT <code>`);
# 124 on the hard timeout (qemu is killed); 125 when the lane itself fails (qemu or the kernel
# missing, no exit marker). Environment:
#   FERRY_VM_TIMEOUT  hard limit for the whole run in seconds (default 240)
#   FERRY_VM_MEM      guest memory in MiB (default 1024)
#   FERRY_VM_SMP      guest vCPUs (default 1: TCG, shared 2-core hosts)
#   FERRY_VM_KERNEL   kernel version to boot (default: newest /boot/vmlinuz-*-amd64 with modules)
#   FERRY_VM_MODULES  extra modules to load in the initramfs (space separated)
#   FERRY_VM_9P_CACHE 9p cache mode for the shared root: loose (default, faster) or none
#   FERRY_VM_KEEP=1   keep the temp dir (initramfs, console log) for debugging
#   FERRY_GUEST_*     exported into the guest script's environment unchanged
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091
. "$here/kernel.sh"

die() { echo "ferry-vm: $*" >&2; exit 125; }

[ $# -ge 1 ] || { echo "usage: $0 <guest-script> [args...]" >&2; exit 2; }
script=$(realpath -e -- "$1" 2>/dev/null) || die "guest script not found: $1"
shift

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed (run scripts/vm/setup.sh)"
command -v depmod >/dev/null || die "depmod not installed (package kmod; run scripts/vm/setup.sh)"
command -v cpio >/dev/null || die "cpio not installed (run scripts/vm/setup.sh)"
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -x modprobe >/dev/null ||
  die "static busybox not installed (package busybox-static; run scripts/vm/setup.sh)"
kver=$(ferry_vm_kernel_version) || die "no Debian kernel in /boot with /lib/modules (package linux-image-amd64; run scripts/vm/setup.sh)"
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || die "cannot read $kernel"

timeout_s=${FERRY_VM_TIMEOUT:-240}
mem=${FERRY_VM_MEM:-1024}
smp=${FERRY_VM_SMP:-1}

tmp=$(mktemp -d /tmp/ferry-vm.XXXXXX)
qpid=""
tailpid=""
cleanup() {
  local rc=$?
  if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
    kill -TERM "$qpid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$qpid" 2>/dev/null || true
  fi
  if [ -n "$tailpid" ]; then kill "$tailpid" 2>/dev/null || true; fi
  if [ "${FERRY_VM_KEEP:-0}" = 1 ]; then echo "ferry-vm: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s.%N)

# ---- initramfs: static busybox + the lane's modules (dependency closure), depmod'ed ----------
ir=$tmp/initramfs
mkdir -p "$ir"/{bin,dev,proc,sys,newroot,lower,rw,ferry} "$ir/lib/modules/$kver"
cp /bin/busybox "$ir/bin/busybox"
# virtio + 9p + overlay to reach the host root; scsi disk + LIO (target core, fileio, loopback
# fabric) + device-mapper for the storage tests.
mods="virtio_pci 9pnet_virtio 9p overlay configfs sd_mod dm_mod target_core_mod target_core_file tcm_loop ${FERRY_VM_MODULES:-}"
: >"$ir/ferry/modules"
for m in $mods; do
  deps=$(modprobe -S "$kver" --show-depends "$m" 2>/dev/null) || die "module $m not found for $kver"
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    rel=${path#/lib/modules/$kver/}
    mkdir -p "$ir/lib/modules/$kver/$(dirname "$rel")"
    cp -n "$path" "$ir/lib/modules/$kver/$rel"
  done <<<"$deps"
  echo "$m" >>"$ir/ferry/modules"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "/lib/modules/$kver/$f" ] && cp "/lib/modules/$kver/$f" "$ir/lib/modules/$kver/"
done
depmod -b "$ir" "$kver"

# 9p cache mode for the read-only host root: loose (page cache in the guest) or none.
echo "${FERRY_VM_9P_CACHE:-loose}" >"$ir/ferry/9p_cache"

# What the guest runs: the script, its arguments and FERRY_GUEST_* variables, bash-quoted.
{
  printf 'export FERRY_VM=1 FERRY_VM_SCRIPT=%q\n' "$script"
  while IFS='=' read -r name _; do
    case $name in FERRY_GUEST_*) printf 'export %s=%q\n' "$name" "${!name}" ;; esac
  done < <(env)
  printf 'set --'; for a in "$@"; do printf ' %q' "$a"; done; printf '\n'
} >"$ir/ferry/env"

cat >"$ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "ferry-vm-init: $*"; echo "FERRY-VM-EXIT 125"; sync; poweroff -f; }
for m in $(cat /ferry/modules); do modprobe "$m" || fail "modprobe $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=$(cat /ferry/9p_cache),ro host /lower || fail "9p mount failed"
mount -t tmpfs -o mode=0755 rw /rw && mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "overlay mount failed"
n=/newroot
mount -t proc proc $n/proc
mount -t sysfs sysfs $n/sys
mount -t devtmpfs devtmpfs $n/dev
mkdir -p $n/dev/pts $n/dev/shm
ln -sf /proc/self/fd $n/dev/fd; ln -sf /proc/self/fd/0 $n/dev/stdin
ln -sf /proc/self/fd/1 $n/dev/stdout; ln -sf /proc/self/fd/2 $n/dev/stderr
mount -t devpts devpts $n/dev/pts
mount -t tmpfs tmpfs $n/dev/shm
mount -t configfs configfs $n/sys/kernel/config
mount -t tmpfs -o mode=0755 tmpfs $n/run
# /tmp stays the overlay (host content visible, writes land in the tmpfs upper layer).
mkdir -p $n/run/lock $n/run/ferry
cp /ferry/env /ferry/guest-init $n/run/ferry/
cp /bin/busybox $n/run/ferry/busybox
# PID 1 itself must change root: kernel threads share PID 1's fs_struct, and LIO resolves its
# dbroot (PR state files) from a kernel thread. A chroot in a child would leave them in here.
exec switch_root $n /bin/bash /run/ferry/guest-init
INIT
cat >"$ir/ferry/guest-init" <<'GINIT'
# PID 1 inside the shared host root (bash). Runs the guest script, reports, powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
. /run/ferry/env
echo "FERRY-VM-BOOTED $(cut -d' ' -f1 /proc/uptime)"
# Kernel messages would interleave with the script's lines on the one serial console: keep
# them off the console while the script runs and print the warnings and errors afterwards.
dmesg -n 1
cd /
/bin/bash "$FERRY_VM_SCRIPT" "$@" </dev/null
rc=$?
echo ""
dmesg --level=emerg,alert,crit,err,warn 2>/dev/null | sed 's/^/kmsg: /'
echo "FERRY-VM-EXIT $rc $(cut -d' ' -f1 /proc/uptime)"
sync
/run/ferry/busybox poweroff -f
GINIT
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet) >"$tmp/initrd.cpio"
t1=$(date +%s.%N)
echo "ferry-vm: kernel $kver, initramfs $(du -k "$tmp/initrd.cpio" | cut -f1) KiB built in $(awk "BEGIN{printf \"%.2f\", $t1-$t0}")s, script $script, tmp $tmp" >&2

# ---- boot ---------------------------------------------------------------------------------
log=$tmp/console.log
: >"$log"
timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -nodefaults -no-user-config -no-reboot \
  -display none -serial "file:$log" -monitor none \
  -m "$mem" -smp "$smp" \
  -kernel "$kernel" -initrd "$tmp/initrd.cpio" \
  -append "console=ttyS0 panic=-1 loglevel=4 oops=panic" \
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  </dev/null >"$tmp/qemu.out" 2>&1 &
qpid=$!
tail -n +1 -F -s 0.2 --pid="$qpid" "$log" 2>/dev/null | tr -d '\r' &
tailpid=$!
set +e
wait "$qpid"
qrc=$?
set -e
qpid=""
wait "$tailpid" 2>/dev/null || true
tailpid=""
t2=$(date +%s.%N)

if [ -s "$tmp/qemu.out" ]; then sed 's/^/qemu: /' "$tmp/qemu.out" >&2; fi
marker=$(tr -d '\r' <"$log" | grep -E '^FERRY-VM-EXIT [0-9]+' | tail -1 || true)
boot=$(tr -d '\r' <"$log" | sed -n 's/^FERRY-VM-BOOTED \([0-9.]*\).*/\1/p' | tail -1)
wall=$(awk "BEGIN{printf \"%.1f\", $t2-$t1}")
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
  echo "ferry-vm: TIMEOUT after ${timeout_s}s, qemu killed (guest booted at ${boot:-never}s)" >&2
  exit 124
fi
[ -n "$marker" ] || die "no FERRY-VM-EXIT marker (qemu exit $qrc, guest booted at ${boot:-never}s)"
set -- $marker
echo "ferry-vm: guest exit $2, userspace at ${boot}s guest uptime, script done at ${3:-?}s, qemu wall ${wall}s" >&2
exit "$2"
