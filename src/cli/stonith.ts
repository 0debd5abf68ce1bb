// `nodemgr stonith --node N [--action off|reboot|status]`: fence by hand, through the same
// code the daemon uses, and say in one line what happened. Logged to <log>/fence.log too: a
// power-off is something to find afterwards.
import { loadClusterConfig } from '../cluster/config.js';
import { runFenceAgent } from '../fence/agent.js';
import { fenceNode, stonithFor } from '../fence/fencer.js';
import { nodeLogger } from '../log.js';
import { UsageError, UserError } from '../vocab/errors.js';
import { writeJson, type Format } from './format.js';
import type { CliContext } from './main.js';

const ACTIONS = ['off', 'reboot', 'status'] as const;
type StonithAction = (typeof ACTIONS)[number];

/** `--format json`: docs/schemas/nodemgr-stonith.schema.json */
export interface StonithOutput {
  node: string;
  action: StonithAction;
  agent: string;
  /** status: what the agent said of the power; off: confirmed off */
  power?: 'on' | 'off';
  /** off: a status after the off read the power off */
  confirmed?: boolean;
  ms: number;
  message: string;
}

export async function stonithCommand(ctx: CliContext, o: { node: string; action: string; force?: boolean; format?: Format }): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(o.action)) throw new UsageError(`bad --action "${o.action}": expected ${ACTIONS.join(', ')}`);
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
    const text = `${o.node}: power ${r.power} (${cfg.agent}, ${(r.ms / 1000).toFixed(1)}s)`;
    if (o.format === 'json') writeJson({ node: o.node, action, agent: cfg.agent, ...(r.power ? { power: r.power } : {}), ms: r.ms, message: text } satisfies StonithOutput);
    else process.stdout.write(`${text}\n`);
    return 0;
  }
  const out = await fenceNode(cluster, o.node, log, { action });
  if (!out.ok) throw new UserError(`fencing ${o.node} failed: ${out.message}`);
  if (o.format === 'json') writeJson({ node: o.node, action, agent: cfg.agent, ...(out.confirmed ? { power: 'off' as const } : {}), confirmed: out.confirmed, ms: out.ms, message: out.message } satisfies StonithOutput);
  else process.stdout.write(`${out.message}\n`);
  return 0;
}
