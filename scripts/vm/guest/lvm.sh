#!/usr/bin/env bash
# VM lane guest test: real LVM on a shared LUN seen by two nodes (A via /dev/sda, B via /dev/sdb).
# Activation uses device-mapper, which this VM's kernel has (the host's does not).
# Prints `CHECK <name> ok|fail <detail>`; exit code = number of failed checks.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/lio.sh"
. "$here/lvm-node.sh"

lio_setup_checked 64
A=$LIO_DEV_A B=$LIO_DEV_B
VG=ferryvg
LV=lv0
majmin() { printf '%d:%d' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")"; }
printf 'FERRYLVM%.0s' $(seq 64) >/tmp/lvm-pat

lvm_node_conf nodeA "$A" >/dev/null
lvm_node_conf nodeB "$B" >/dev/null
lvm_node_conf both "" >/dev/null   # no per-path filter: sees both paths

check lvm-pvcreate "node A: pvcreate $A" -- run lvm_as nodeA pvcreate -y "$A"
check lvm-vgcreate "node A: vgcreate $VG $A" -- run lvm_as nodeA vgcreate "$VG" "$A"
# Without a per-path filter LVM finds the PV on both paths (same PVID, same WWID) and drops
# both as multipath components: the VG is invisible. Hence one LVM_SYSTEM_DIR per lab node.
dup_log() { lvm_as both pvs -vvvv 2>&1 | grep -E 'duplicate|multipath component' | sed 's/^[0-9:.]* //'; }
check_out lvm-both-paths-duplicate 'duplicate PVID|duplicate device' \
  "a config admitting both paths sees the same PV twice" -- dup_log
check_out_not lvm-both-paths-pv-refused "$VG" "... and refuses it: pvs/vgs list nothing" -- \
  lvm_as both pvs --noheadings -o pv_name,vg_name
check_not lvm-both-paths-no-activation "... and cannot activate the VG" -- lvm_as both vgchange -ay "$VG"
check lvm-lvcreate "node A: lvcreate -L 16M -n $LV" -- run lvm_as nodeA lvcreate -y -L 16M -n "$LV" "$VG"
check lvm-initial-deactivate "node A: vgchange -an" -- run lvm_as nodeA vgchange -an "$VG"
check_not lvm-inactive-no-node "no /dev/mapper node while inactive" -- test -e "/dev/mapper/$VG-$LV"

check lvm-a-activate "node A: vgchange -ay" -- run lvm_as nodeA vgchange -ay "$VG"
check lvm-a-dev "/dev/mapper/$VG-$LV is a block device (device-mapper works)" -- test -b "/dev/mapper/$VG-$LV"
check_out lvm-a-dm-on-sda " linear $(majmin "$A") " "dm table maps the LV onto A's path $A ($(majmin "$A"))" -- \
  dmsetup table "$VG-$LV"
check_out lvm-a-lv-active '^ *-wi-a' "lvs reports the LV active" -- lvm_as nodeA lvs --noheadings -o lv_attr "$VG/$LV"
check lvm-a-write "node A writes through the LV" -- \
  dd if=/tmp/lvm-pat of="/dev/mapper/$VG-$LV" bs=512 count=1 oflag=direct conv=notrunc status=none
check lvm-a-addtag "node A: vgchange --addtag nodeA" -- run lvm_as nodeA vgchange --addtag nodeA "$VG"
check_out lvm-a-tag-visible '^ *nodeA *$' "vg_tags = nodeA" -- lvm_as nodeA vgs --noheadings -o vg_tags "$VG"
check lvm-a-deactivate "node A: vgchange -an" -- run lvm_as nodeA vgchange -an "$VG"
check_not lvm-a-dm-gone "dm device removed after deactivation" -- dmsetup info "$VG-$LV"

check_out lvm-b-sees-pv "^ *$B +$VG" "node B sees the PV through its own path only" -- \
  lvm_as nodeB pvs --noheadings -o pv_name,vg_name
check_out lvm-b-sees-tag '^ *nodeA *$' "node B reads A's host tag" -- lvm_as nodeB vgs --noheadings -o vg_tags "$VG"
check lvm-b-retag "node B: vgchange --deltag nodeA --addtag nodeB" -- \
  run lvm_as nodeB vgchange --deltag nodeA --addtag nodeB "$VG"
check_out lvm-b-tag '^ *nodeB *$' "vg_tags = nodeB" -- lvm_as nodeB vgs --noheadings -o vg_tags "$VG"
check lvm-b-activate "node B: vgchange -ay" -- run lvm_as nodeB vgchange -ay "$VG"
check_out lvm-b-dm-on-sdb " linear $(majmin "$B") " "dm table maps the LV onto B's path $B ($(majmin "$B"))" -- \
  dmsetup table "$VG-$LV"
check lvm-b-reads-a-data "node B reads what node A wrote" -- \
  cmp -s <(dd if="/dev/mapper/$VG-$LV" bs=512 count=1 iflag=direct status=none) /tmp/lvm-pat
check lvm-b-deactivate "node B: vgchange -an" -- run lvm_as nodeB vgchange -an "$VG"
check_out lvm-a-sees-b-tag '^ *nodeB *$' "node A reads B's tag (shared metadata)" -- \
  lvm_as nodeA vgs --noheadings -o vg_tags "$VG"
check_out lvm-no-dm-left 'No devices found' "no dm devices left" -- dmsetup ls

ferry_vm_done
