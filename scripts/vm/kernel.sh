# Sourced helper: picks the Debian kernel installed by linux-image-amd64 (not the host's running
# kernel, which may be a different build without these modules). FERRY_VM_KERNEL=<version>
# overrides. Prints the version (e.g. 6.1.0-56-amd64) whose /boot/vmlinuz-<ver> and
# /lib/modules/<ver> both exist; the newest wins.
ferry_vm_kernel_version() {
  if [ -n "${FERRY_VM_KERNEL:-}" ]; then
    [ -f "/boot/vmlinuz-$FERRY_VM_KERNEL" ] && [ -d "/lib/modules/$FERRY_VM_KERNEL" ] || return 1
    echo "$FERRY_VM_KERNEL"; return 0
  fi
  local v best=""
  for f in /boot/vmlinuz-*-amd64; do
    [ -f "$f" ] || continue
    v=${f#/boot/vmlinuz-}
    [ -d "/lib/modules/$v/kernel" ] || continue
    if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -1)" = "$v" ]; then best=$v; fi
  done
  [ -n "$best" ] || return 1
  echo "$best"
}
