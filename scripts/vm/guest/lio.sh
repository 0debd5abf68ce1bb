# Guest-side LIO helper (sourced; bash, inside the VM lane, as root).
#   lio_setup [SIZE_MB]   one fileio backstore on tmpfs, exported through two loopback
#                         (tcm_loop) targets with distinct initiator ports: /dev/sda and
#                         /dev/sdb are two SCSI initiators (I_T nexuses) on one LUN.
# Sets LIO_DEV_A=/dev/sda, LIO_DEV_B=/dev/sdb (the by-path names, resolved from sysfs).
#   lio_setup_checked [SIZE_MB] [NAME_A NAME_B]   lio_setup reported as the `lio-setup` CHECK;
#                         on failure the guest script ends (exit 100): nothing else can run.
# PR state lives in dbroot (a tmpfs dir with a pr/ subdir; without it PR OUT answers
# "Device not ready").

LIO_CFG=/sys/kernel/config/target
LIO_ROOT=/run/ferry-lio
LIO_WWN_A=naa.5001405aaaaaaa01   # target port A
LIO_WWN_B=naa.5001405bbbbbbb01   # target port B
LIO_INI_A=naa.5001405aaaaaaa02   # initiator port (nexus) A
LIO_INI_B=naa.5001405bbbbbbb02   # initiator port (nexus) B

lio_wait_dev() { # wait for a new sd* to appear; prints it
  local before=$1 i d
  for i in $(seq 1 100); do
    for d in /sys/block/sd*; do
      [ -e "$d" ] || continue
      case " $before " in *" ${d##*/} "*) continue ;; esac
      [ -b "/dev/${d##*/}" ] && { echo "/dev/${d##*/}"; return 0; }
    done
    sleep 0.1
  done
  return 1
}

lio_add_port() { # WWN INITIATOR -> prints the new /dev/sdX
  local wwn=$1 ini=$2 tpg before
  before=$(ls /sys/block | grep '^sd' | tr '\n' ' ' || true)
  tpg=$LIO_CFG/loopback/$wwn/tpgt_1
  mkdir -p "$tpg" || return 1
  # nexus first: tcm_loop scans the new LUN only when the I_T nexus exists
  echo "$ini" >"$tpg/nexus" || return 1
  mkdir -p "$tpg/lun/lun_0" || return 1
  ln -s "$LIO_CFG/core/fileio_0/ferry" "$tpg/lun/lun_0/ferry" || return 1
  lio_wait_dev "$before"
}

lio_setup() {
  local size_mb=${1:-64}
  modprobe target_core_mod && modprobe target_core_file && modprobe tcm_loop && modprobe dm_mod && modprobe sd_mod || return 1
  mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config || return 1
  mkdir -p "$LIO_ROOT"
  mountpoint -q "$LIO_ROOT" || mount -t tmpfs -o size=$((size_mb + 16))m tmpfs "$LIO_ROOT" || return 1
  mkdir -p "$LIO_ROOT/db/pr" "$LIO_ROOT/db/alua"
  # dbroot can only be changed before the first backstore is configured
  echo "$LIO_ROOT/db" >"$LIO_CFG/dbroot" || return 1
  mkdir -p "$LIO_CFG/core/fileio_0/ferry"
  echo "fd_dev_name=$LIO_ROOT/lun0.img,fd_dev_size=$((size_mb * 1024 * 1024))" \
    >"$LIO_CFG/core/fileio_0/ferry/control" || return 1
  echo ferry-lun0 >"$LIO_CFG/core/fileio_0/ferry/wwn/vpd_unit_serial" 2>/dev/null || true
  echo 1 >"$LIO_CFG/core/fileio_0/ferry/enable" || return 1
  LIO_DEV_A=$(lio_add_port "$LIO_WWN_A" "$LIO_INI_A") || return 1
  LIO_DEV_B=$(lio_add_port "$LIO_WWN_B" "$LIO_INI_B") || return 1
  export LIO_DEV_A LIO_DEV_B
  echo "lio: backstore $LIO_ROOT/lun0.img (${size_mb} MiB), dbroot $(cat "$LIO_CFG/dbroot"), initiator A $LIO_INI_A -> $LIO_DEV_A, initiator B $LIO_INI_B -> $LIO_DEV_B"
}

lio_setup_checked() {
  if ! lio_setup "${1:-64}"; then echo "CHECK lio-setup fail LIO set-up"; exit 100; fi
  echo "CHECK lio-setup ok two tcm_loop initiators on one fileio LUN: ${2:-A}=$LIO_DEV_A ${3:-B}=$LIO_DEV_B"
}
