// Reading /proc: process start times (to survive pid reuse), namespace identities, and the
// set of processes that belong to a lab node. Kept synchronous and tolerant: processes come
// and go while we scan, and a vanished one is simply not there.
import fs from 'node:fs';

/** Start time of `pid` in clock ticks since boot, or null if it is gone. */
export function startTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields from the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19]);
  } catch {
    return null;
  }
}

/** State letter of `pid` (R, S, T, Z, ...), or null if it is gone. */
export function procState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** Alive = exists, is not a zombie, and (if given) still has the start time we recorded. */
export function isAlive(pid: number | null, start?: number | null): boolean {
  if (pid === null || pid <= 0) return false;
  const st = procState(pid);
  if (st === null || st === 'Z' || st === 'X') return false;
  if (start !== undefined && start !== null && startTime(pid) !== start) return false;
  return true;
}

/** "net:[4026532...]"-style identity of a namespace of `pid`, or null. */
export function nsOf(pid: number | 'self', kind: 'net' | 'mnt' | 'uts'): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/**
 * A namespace pinned by an open file descriptor. Namespace inode numbers are handed out
 * lowest-free-first, so the moment a node's namespace dies its number goes to the next
 * namespace anyone creates (another lab's node, a container): an identity read earlier and
 * matched later would then select strangers' processes. Holding the fd while we scan and
 * kill keeps the namespace, and so its number, ours.
 */
export interface HeldNs {
  id: string;
  release(): void;
}

export function holdNs(file: string, kind: 'net' | 'mnt'): HeldNs | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  const st = fs.fstatSync(fd);
  // an unmounted /run/netns/<name> is a plain file, whose inode number means nothing here
  if (st.dev !== fs.statSync(`/proc/self/ns/${kind}`).dev) {
    fs.closeSync(fd);
    return null;
  }
  let open = true;
  return {
    id: `${kind}:[${st.ino}]`,
    release() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

export function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => p !== process.pid);
}

function environHas(pid: number, needle: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(needle);
  } catch {
    return false;
  }
}

export interface NodeMatch {
  netNs?: string | null;
  mntNs?: string | null;
  /** exact NAME=value that every process started through the lab carries */
  envMark?: string;
}

/**
 * Processes of a node: inside its network namespace, or its mount namespace, or carrying its
 * environment mark (a process that was started in the node and moved itself elsewhere).
 * The host's own namespaces never match, so a stale record cannot make us kill host processes.
 */
export function nodePids(m: NodeMatch): number[] {
  const hostNet = nsOf(1, 'net');
  const hostMnt = nsOf(1, 'mnt');
  const net = m.netNs && m.netNs !== hostNet ? m.netNs : null;
  const mnt = m.mntNs && m.mntNs !== hostMnt ? m.mntNs : null;
  const out: number[] = [];
  for (const pid of allPids()) {
    // a node's own crash runs the lab fence agent inside it: the agent must not kill itself
    if (pid === process.pid || procState(pid) === 'Z') continue;
    if ((net && nsOf(pid, 'net') === net) || (mnt && nsOf(pid, 'mnt') === mnt) || (m.envMark && environHas(pid, m.envMark))) {
      out.push(pid);
    }
  }
  return out;
}

/** Does any process on the machine still see a mount whose source or target matches? */
export function mountedAnywhere(pred: (source: string, target: string) => boolean): boolean {
  const seen = new Set<string>();
  for (const pid of [process.pid, ...allPids()]) {
    const mnt = nsOf(pid, 'mnt');
    if (!mnt || seen.has(mnt)) continue;
    seen.add(mnt);
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/mounts`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [source, target] = line.split(' ');
      if (source && target && pred(source, target)) return true;
    }
  }
  return false;
}
