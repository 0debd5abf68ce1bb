// `nodemgr stonith --node N [--action off|reboot|status]`: fence by hand, through the same
// code the daemon uses, and say in one line what happened. Logged to <log>/fence.log too: a
// power-off is something to find afterwards.
import { loadClusterConfig } from '../cluster/config.js';
import { runFenceAgent } from '../fence/agent.js';
import { fenceNode, stonithFor } from '../fence/fencer.js';
import { nodeLogger } from '../log.js';
import { UserError } from './errors.js';
import type { CliContext } from './main.js';

const ACTIONS = ['off', 'reboot', 'status'] as const;
type StonithAction = (typeof ACTIONS)[number];

export async function stonithCommand(ctx: CliContext, o: { node: string; action: string; force?: boolean }): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(o.action)) throw new UserError(`bad --action "${o.action}": expected ${ACTIONS.join(', ')}`);
  const action = o.action as StonithAction;
  const cluster = loadClusterConfig(ctx.paths, ctx.nodename);
  if (!cluster.nodes.includes(o.node)) throw new UserError(`${o.node} is not a node of cluster ${cluster.name} (nodes: ${cluster.nodes.join(' ')})`);
  const cfg = stonithFor(cluster, o.node);
  if (!cfg) throw new UserError(`no stonith configured for ${o.node}: add a [stonith#${o.node}] section to ${cluster.file}`);
  // powering off the machine you type on is rarely what was meant
  if (action !== 'status' && o.node === ctx.nodename && !o.force) throw new UserError(`${o.node} is this node: refusing to fence it without --force`);
  const log = nodeLogger(ctx.paths, ctx.nodename, 'fence');

  if (action === 'status') {
    const r = await runFenceAgent(cfg, 'status', log);
    if (!r.ok) throw new UserError(`status of ${o.node} failed: ${r.message}`);
    process.stdout.write(`${o.node}: power ${r.power} (${cfg.agent}, ${(r.ms / 1000).toFixed(1)}s)\n`);
    return 0;
  }
  const out = await fenceNode(cluster, o.node, log, { action });
  if (!out.ok) throw new UserError(`fencing ${o.node} failed: ${out.message}`);
  process.stdout.write(`${out.message}\n`);
  return 0;
}
