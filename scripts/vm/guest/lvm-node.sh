# Guest-side helper (sourced; bash): per-node LVM configuration for two lab "nodes" sharing one
# LUN through two initiator paths. Both paths show the same PV, which LVM refuses as a duplicate,
# so each node gets its own LVM_SYSTEM_DIR whose device filter admits only its own path.
# No udev in the VM: LVM creates the /dev/mapper and /dev/<vg> nodes itself.
#   lvm_node_conf NAME DEVICE   writes /run/ferry-lvm/NAME/lvm.conf, prints the dir
#   lvm_as NAME cmd...          runs cmd with LVM_SYSTEM_DIR of node NAME

lvm_node_conf() {
  local name=$1 dev=$2 dir=/run/ferry-lvm/$1 filter
  mkdir -p "$dir/backup" "$dir/archive" "$dir/cache"
  if [ -n "$dev" ]; then filter="[ \"a|^${dev}\$|\", \"r|.*|\" ]"; else filter='[ "a|^/dev/sd.*|", "r|.*|" ]'; fi
  cat >"$dir/lvm.conf" <<CONF
devices {
  filter = $filter
  global_filter = $filter
  use_devicesfile = 0
  obtain_device_list_from_udev = 0
  external_device_info_source = "none"
  multipath_component_detection = 0
  md_component_detection = 0
}
activation {
  udev_sync = 0
  udev_rules = 0
  verify_udev_operations = 1
  monitoring = 0
}
global {
  use_lvmpolld = 0
  event_activation = 0
}
backup {
  backup_dir = "$dir/backup"
  archive_dir = "$dir/archive"
}
CONF
  echo "$dir"
}

lvm_as() { local name=$1; shift; LVM_SYSTEM_DIR=/run/ferry-lvm/$name "$@"; }
