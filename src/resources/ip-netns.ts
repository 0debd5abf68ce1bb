// ip type netns (om3 resipnetns): the address lives in the network namespace of a container
// of the service. A macvlan (bridge mode) on the host's ipdev is created, moved into the
// container's namespace by the pid its engine reports, renamed to nsdev and brought up there;
// the address goes on it. Deleting the macvlan takes the address with it.
import type { Logger } from '../log.js';
import { run, runOk } from '../util/exec.js';
import { engine, type EngineTarget } from './container-engine.js';
import { checkInterfaceName, ipCommand, readDevice, type NsPrefix } from './ip-tools.js';

const TIMEOUT = 15_000;
const MAX_PS_LINES = 16;

export const NETNS_RE = /^container#[A-Za-z0-9_.-]+$/;

/** The command prefix entering the network namespace of process `pid`. */
export function enterNetns(pid: number): NsPrefix {
  return ['nsenter', '-t', String(pid), '-n', '--'];
}

/**
 * The pid of the running container of resource `rid` of the service on this node, looked up
 * by the labels every ferry container carries, in each engine the service may use. Undefined
 * when none runs (or no engine answers).
 */
export async function containerPid(targets: readonly EngineTarget[], svcname: string, nodename: string, rid: string, log: Logger): Promise<number | undefined> {
  const filters = [`label=ferry.svc=${svcname}`, `label=ferry.rid=${rid}`, `label=ferry.node=${nodename}`].flatMap((f) => ['--filter', f]);
  for (const t of targets) {
    const r = await engine(t, ['ps', '-q', '--no-trunc', ...filters], TIMEOUT, log);
    if (!r.ok) continue;
    const ids = r.stdout.split('\n').slice(0, MAX_PS_LINES).map((l) => l.trim()).filter((l) => /^[0-9a-f]{12,64}$/.test(l));
    if (ids.length !== 1) continue;
    const i = await engine(t, ['inspect', '--type', 'container', '--format', '{{.State.Pid}}', '--', ids[0]!], TIMEOUT, log);
    const pid = Number(i.stdout.trim());
    if (i.ok && Number.isInteger(pid) && pid > 0) return pid;
  }
  return undefined;
}

/** Make sure `nsdev` exists and is up in the namespace of `pid`: a macvlan of the host's `parent`. */
export async function plugLink(parent: string, pid: number, nsdev: string, log: Logger): Promise<void> {
  checkInterfaceName(parent);
  checkInterfaceName(nsdev);
  const via = enterNetns(pid);
  if (!(await readDevice(nsdev, via))) {
    // a temporary host-side name, unique to this process, renamed once inside
    const tmp = `fy${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`.slice(0, 15);
    await runOk('ip', ['link', 'add', tmp, 'link', parent, 'type', 'macvlan', 'mode', 'bridge'], { timeout: TIMEOUT, log });
    try {
      await runOk('ip', ['link', 'set', tmp, 'netns', String(pid)], { timeout: TIMEOUT, log });
    } catch (e) {
      await run('ip', ['link', 'del', tmp], { timeout: TIMEOUT, log });
      throw e;
    }
    const [file, args] = ipCommand(via, ['link', 'set', tmp, 'name', nsdev]);
    const r = await run(file, args, { timeout: TIMEOUT, log });
    if (!r.ok) {
      const [f2, a2] = ipCommand(via, ['link', 'del', tmp]);
      await run(f2, a2, { timeout: TIMEOUT, log });
      throw new Error(`cannot name the macvlan ${nsdev} in the container's namespace: ${r.stderr.trim()}`);
    }
  }
  const [file, args] = ipCommand(via, ['link', 'set', nsdev, 'up']);
  await runOk(file, args, { timeout: TIMEOUT, log });
}

/** Delete `nsdev` from the namespace of `pid` if it is there (its addresses go with it). */
export async function unplugLink(pid: number, nsdev: string, log: Logger): Promise<void> {
  checkInterfaceName(nsdev);
  const via = enterNetns(pid);
  if (!(await readDevice(nsdev, via))) return;
  const [file, args] = ipCommand(via, ['link', 'del', nsdev]);
  await runOk(file, args, { timeout: TIMEOUT, log });
}
