// Containers started by a node's agent run under the host's engines, outside the node's
// namespaces, so killing a node's processes does not reach them. They carry labels instead:
// the container driver adds ferry.node=<nodename> and whatever FERRY_CONTAINER_LABELS lists
// (the lab sets ferry.lab=<id>), and we find them by those labels.
import { haveCommand, run } from '../util/exec.js';

const ENGINES = ['docker', 'podman'] as const;
type Engine = (typeof ENGINES)[number];
const T = { timeout: 30_000 };

async function engines(): Promise<Engine[]> {
  const out: Engine[] = [];
  for (const e of ENGINES) if (await haveCommand(e)) out.push(e);
  return out;
}

function filters(lab: string, node?: string): string[] {
  const f = ['--filter', `label=ferry.lab=${lab}`];
  if (node) f.push('--filter', `label=ferry.node=${node}`);
  return f;
}

async function ids(engine: Engine, lab: string, node: string | undefined, running: boolean): Promise<string[]> {
  const r = await run(engine, ['ps', '-q', ...(running ? [] : ['-a']), ...filters(lab, node)], T);
  return r.ok ? r.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
}

/** Remove (kill) the lab's containers, of one node or all. Never throws; no engine = nothing. */
export async function removeContainers(lab: string, node?: string): Promise<void> {
  for (const e of await engines()) {
    const list = await ids(e, lab, node, false);
    if (list.length === 0) continue;
    await run(e, e === 'podman' ? ['rm', '-f', '-t', '0', ...list] : ['rm', '-f', ...list], T);
  }
}

/** Freeze or thaw the running containers of a node, as a paused machine would freeze them. */
export async function pauseContainers(lab: string, node: string, pause: boolean): Promise<void> {
  for (const e of await engines()) {
    const list = pause ? await ids(e, lab, node, true) : await pausedIds(e, lab, node);
    if (list.length > 0) await run(e, [pause ? 'pause' : 'unpause', ...list], T);
  }
}

async function pausedIds(engine: Engine, lab: string, node: string): Promise<string[]> {
  const r = await run(engine, ['ps', '-q', '--filter', 'status=paused', ...filters(lab, node)], T);
  return r.ok ? r.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
}
