// The shape of a lab as it is recorded on disk (/run/ferry-lab/<id>.json). Everything a
// later process needs to operate on, or tear down, a lab lives here: a `ferry-lab` CLI call
// or a cleanup after a crashed test run has nothing else to go on.

export interface LabDiskSizes {
  /** MiB of the raw disk-heartbeat device; 0 = none */
  heartbeat: number;
  /** MiB of the ext4 service-filesystem device; 0 = none */
  data: number;
}

export interface LabOptions {
  nodes: number;
  /** id prefix; must start with "fy" so the suite's generic leftover sweep matches too */
  prefix?: string;
  /** number of separate networks (one bridge each): 1 or 2; default 2 */
  links?: 1 | 2;
  disks?: Partial<LabDiskSizes>;
  /** the process that owns the lab; `ferry-lab cleanup` leaves labs of live owners alone. null = nobody (CLI-made labs) */
  owner?: number | null;
}

export interface LabDisk {
  role: 'heartbeat' | 'data';
  file: string;
  /** /dev/loopN once attached */
  dev: string | null;
}

export interface LabNode {
  name: string;
  /** 1-based: the last octet of its addresses */
  index: number;
  netns: string;
  /** FERRY_ROOT of the node */
  root: string;
  /** pid of the process holding the node's mount + UTS namespaces; null once killed */
  initPid: number | null;
  /** start time (jiffies since boot, /proc/<pid>/stat field 22): guards against pid reuse */
  initStart: number | null;
  /** "mnt:[inode]" of the node's mount namespace, for people reading the record; code finds it through the live init (numbers are reused) */
  mntNs: string | null;
  agentPid: number | null;
  agentStart: number | null;
  state: 'up' | 'down';
}

export interface LabNetwork {
  index: number;
  /** bridge name inside the switch namespace */
  bridge: string;
  /** e.g. 10.215.0 — node i gets <subnet>.<i>/24 */
  subnet: string;
}

export interface LabRecord {
  version: 1;
  id: string;
  dir: string;
  switchNs: string;
  networks: LabNetwork[];
  nodes: LabNode[];
  disks: LabDisk[];
  owner: { pid: number; start: number } | null;
  createdAt: string;
}

/** What a node process sees: FERRY_* variables that place it in the lab. */
export interface NodeEnv {
  FERRY_ROOT: string;
  FERRY_NODENAME: string;
  /** lab id: marks every process started through the lab, for cleanup */
  FERRY_LAB: string;
  /** <lab id>:<node>: marks the processes of one node */
  FERRY_LAB_NODE: string;
  /** extra labels for containers the node's agent starts ("k=v k2=v2", space-separated); the driver adds ferry.node itself */
  FERRY_CONTAINER_LABELS: string;
}
