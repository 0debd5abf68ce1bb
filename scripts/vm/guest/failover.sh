#!/usr/bin/env bash
# VM lane guest test: fenced failover of an LVM volume group between two nodes sharing a LUN,
# with SCSI-3 PR type 5 as the fence. Node A (/dev/sda) owns the VG and the reservation; node B
# (/dev/sdb) preempts A, after which A's I/O through its still-active LV and its LVM metadata
# writes are refused by the storage, and B takes the VG over (tags, activation, data).
# Prints `CHECK <name> ok|fail <detail>`; exit code = number of failed checks.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/lio.sh"
. "$here/lvm-node.sh"

lio_setup_checked 64
A=$LIO_DEV_A B=$LIO_DEV_B KA=0xaaaa KB=0xbbbb VG=ferryvg LV=lv0 DEV=/dev/mapper/ferryvg-lv0
lvm_node_conf nodeA "$A" >/dev/null
lvm_node_conf nodeB "$B" >/dev/null
printf 'BEFORE..%.0s' $(seq 64) >/tmp/fo-before
printf 'FENCED..%.0s' $(seq 64) >/tmp/fo-fenced
printf 'AFTER...%.0s' $(seq 64) >/tmp/fo-after
lv_write() { dd if="$1" of="$DEV" bs=512 count=1 oflag=direct conv=notrunc status=none; }
lv_is() { cmp -s <(dd if="$DEV" bs=512 count=1 iflag=direct status=none) "$1"; }
tags_as() { lvm_as "$1" vgs --noheadings -o vg_tags "$VG"; }

# Node A starts the service: register, reserve, then the VG (created here for the lab).
check fo-a-register "A registers" -- run sg_persist -n -o -I -S $KA "$A"
check fo-a-reserve "A reserves type 5" -- run sg_persist -n -o -R -T 5 -K $KA "$A"
check fo-a-vg "A creates and activates $VG with tag nodeA" -- run bash -c "
  LVM_SYSTEM_DIR=/run/ferry-lvm/nodeA; export LVM_SYSTEM_DIR
  pvcreate -y $A && vgcreate --addtag nodeA $VG $A && lvcreate -y -L 16M -n $LV $VG"
check fo-a-write "A writes through its LV" -- lv_write /tmp/fo-before
# Node B joins: registers its key (type 5: a registrant, but not the holder).
check fo-b-register "B registers" -- run sg_persist -n -o -I -S $KB "$B"

# Failover: B fences A with a plain PREEMPT (PREEMPT AND ABORT hangs with tcm_loop, see docs).
check fo-b-preempt "B preempts A" -- run sg_persist -n -o -P -T 5 -K $KB -S $KA "$B"
check_out fo-holder-b 'Key=0xbbbb' "B holds the reservation" -- sg_persist -n -i -r "$B"
check_not fo-a-lv-write-fenced "A's write through its still-active LV fails" -- lv_write /tmp/fo-fenced
check_not fo-a-metadata-fenced "A's LVM metadata write (vgchange --addtag) fails" -- \
  run lvm_as nodeA vgchange --addtag stale "$VG"
# Both lab nodes share this VM's device-mapper namespace: A's LV must go before B activates.
check fo-a-deactivate "A deactivates its LV (no metadata write needed)" -- run lvm_as nodeA vgchange -an "$VG"

check_out fo-b-sees-a-tag '^ *nodeA *$' "B sees the VG tagged nodeA (A's fenced tag change did not land)" -- tags_as nodeB
check fo-b-retag "B moves the host tag: --deltag nodeA --addtag nodeB" -- \
  run lvm_as nodeB vgchange --deltag nodeA --addtag nodeB "$VG"
check fo-b-activate "B activates $VG" -- run lvm_as nodeB vgchange -ay "$VG"
check fo-b-data "B reads A's pre-fence data; A's fenced write is not there" -- lv_is /tmp/fo-before
check fo-b-write "B writes" -- lv_write /tmp/fo-after
check fo-b-data2 "B reads back its write" -- lv_is /tmp/fo-after
check fo-b-deactivate "B deactivates" -- run lvm_as nodeB vgchange -an "$VG"
check_out fo-a-sees-b-tag '^ *nodeB *$' "A (read-only access) sees tag nodeB" -- tags_as nodeA
check fo-b-release "B releases and unregisters" -- run bash -c \
  "sg_persist -n -o -L -T 5 -K $KB $B && sg_persist -n -o -G -K $KB -S 0 $B"
check_out fo-clean 'NO registered reservation keys' "no keys left" -- sg_persist -n -i -k "$B"

ferry_vm_done
