// Node namespaces. A node is a named network namespace (/run/netns/<ns>, so iproute2 can
// address it even while no process runs there) plus a mount and a UTS namespace held by a
// small init process: `nsenter --net=<ns> unshare --mount --uts --propagation slave sh -c
// '...; exec sleep infinity'`. We do not use `ip netns exec` for node processes: it unshares a
// fresh mount namespace per call, so a mount made by one command would vanish with it.
// Everything that runs "in the node" joins the init's three namespaces with nsenter, so mounts
// persist between calls while the node lives and die with the init's mount namespace.
//
// Propagation is "slave": mounts made in a node never reach the host or other nodes, while
// unmounts done on the host (e.g. `ip netns del` of another namespace, docker tearing down a
// container) still propagate into the node instead of being pinned by its copy of the tree.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { runOk, run } from '../util/exec.js';
import { isAlive, nsOf, procState, startTime } from './procfs.js';

// Runs as the node's init after unshare: set the hostname, drop the copies of the host's
// scratch mounts under /tmp (another test's loop filesystems: a node must not pin them, or
// their owners could not free the devices), then become an idle holder of the namespaces.
const INIT_SCRIPT = [
  'hostname "$1"',
  "awk '$2 ~ \"^/tmp/\" {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l \"$m\" 2>/dev/null; done",
  'exec sleep infinity',
].join('\n');

export async function addNetns(name: string): Promise<void> {
  await runOk('ip', ['netns', 'add', name], { timeout: 10_000 });
  await runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { timeout: 10_000 });
}

/** Never throws: a namespace that is already gone is the goal. */
export async function delNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name], { timeout: 10_000 });
}

export async function netnsExists(name: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'list'], { timeout: 10_000 });
  return r.stdout.split('\n').some((l) => l.split(' ')[0] === name);
}

export interface NodeInit {
  pid: number;
  start: number;
  mntNs: string;
}

/**
 * Start the init of a node inside netns `netns`, with hostname `hostname`, and wait until its
 * namespaces are in place (it has exec'd `sleep`). `env` marks it as a lab process.
 */
export async function startInit(netns: string, hostname: string, env: Record<string, string>, logFile: string, timeoutMs = 10_000): Promise<NodeInit> {
  // the init's own complaints (nsenter, unshare, the script) land in logFile
  const out = fs.openSync(logFile, 'a');
  const child = spawn(
    'nsenter',
    [`--net=/run/netns/${netns}`, '--', 'unshare', '--mount', '--uts', '--propagation', 'slave', '--', 'sh', '-c', INIT_SCRIPT, 'ferry-lab-init', hostname],
    { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } },
  );
  fs.closeSync(out);
  // nsenter and unshare exec in place (no pid namespace, no --fork), so this pid ends up being
  // `sleep infinity` itself once the script is done.
  const pid = child.pid;
  child.unref();
  if (pid === undefined) throw new Error(`cannot start the init of ${hostname}`);
  const deadline = Date.now() + timeoutMs;
  const hostMnt = nsOf(1, 'mnt');
  for (;;) {
    const state = procState(pid);
    if (state === null || state === 'Z') {
      const why = fs.readFileSync(logFile, 'utf8').trim().split('\n').pop() ?? '';
      throw new Error(`the init of ${hostname} exited during start-up${why ? `: ${why}` : ''}`);
    }
    const mnt = nsOf(pid, 'mnt');
    if (comm(pid) === 'sleep' && mnt && mnt !== hostMnt) {
      const start = startTime(pid);
      if (start !== null) return { pid, start, mntNs: mnt };
    }
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      throw new Error(`the init of ${hostname} did not come up within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * argv prefix that runs a command inside the node's network, mount and UTS namespaces, in
 * directory cwd (nsenter -m would otherwise start it in "/").
 */
export function nsenterArgv(initPid: number, cwd: string): string[] {
  return ['-t', String(initPid), '-n', '-m', '-u', `--wd=${cwd}`, '--'];
}

export function initAlive(pid: number | null, start: number | null): boolean {
  return isAlive(pid, start);
}
