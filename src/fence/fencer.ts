// Fencing a node: find its [stonith#<node>] section, power it off with the agent, then ask the
// agent whether it is really off. A fence is a success only when the agent said so; anything
// else (no section, missing agent, timeout, "still on") is a failure the caller must not
// start a takeover on. The race rule and the retry schedule are re-exported from their files.
import type { ClusterConfig, StonithConfig } from '../cluster/config.js';
import type { Logger } from '../log.js';
import { agentActions, runFenceAgent, type FenceResult } from './agent.js';

export { fenceDelayMs } from './race.js';
export { fenceBackoffMs, FenceRetries, type BackoffOptions } from './backoff.js';
export type { FenceResult, FenceAction } from './agent.js';

export interface FenceOptions {
  /** off (default: the node stays down until someone looks at it) or reboot */
  action?: 'off' | 'reboot';
  /** after off, require "off": the agent's own confirmation line, else ask `status` (default true; skipped when the agent has no status action) */
  confirm?: boolean;
  /** status checks after off while the agent still reports "on" (default 3, 1 s apart) */
  confirmTries?: number;
}

export interface FenceOutcome {
  ok: boolean;
  node: string;
  /** the configured agent, undefined when the node has no [stonith#<node>] section */
  agent: string | undefined;
  action: 'off' | 'reboot';
  /** the node is known off: the off's own confirmation line, or `status` answered "off" after it */
  confirmed: boolean;
  /** every agent run, in order */
  steps: FenceResult[];
  ms: number;
  /** one line: what happened, or why it failed (secrets masked) */
  message: string;
}

export function stonithFor(cluster: Pick<ClusterConfig, 'stonith'>, node: string): StonithConfig | undefined {
  return cluster.stonith.find((s) => s.node === node);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function fenceNode(cluster: Pick<ClusterConfig, 'stonith' | 'file'>, node: string, log: Logger, opts: FenceOptions = {}): Promise<FenceOutcome> {
  const started = Date.now();
  const action = opts.action ?? 'off';
  const cfg = stonithFor(cluster, node);
  const steps: FenceResult[] = [];
  const done = (ok: boolean, confirmed: boolean, message: string): FenceOutcome => {
    const outcome = { ok, node, agent: cfg?.agent, action, confirmed, steps, ms: Date.now() - started, message };
    log[ok ? 'warn' : 'error']({ target: node, agent: cfg?.agent, action, ok, confirmed, ms: outcome.ms }, `fence ${node}: ${message}`);
    return outcome;
  };
  if (!cfg) return done(false, false, `no [stonith#${node}] section in ${cluster.file}: ${node} cannot be fenced`);

  const r = await runFenceAgent(cfg, action, log);
  steps.push(r);
  if (!r.ok) return done(false, false, r.message);
  const secs = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  // a reboot comes back on by design: nothing to confirm beyond the agent's own exit 0
  if (action === 'reboot' || opts.confirm === false) return done(true, false, `${node} fenced (${action} by ${cfg.agent}: ${r.message}) in ${secs()}`);

  // the agent confirmed the node off itself (it polled status before saying so): another
  // agent run to ask the same question would only cost a process start
  if (r.offConfirmed) return done(true, true, `${node} fenced (off by ${cfg.agent}, confirmed off) in ${secs()}`);
  const actions = await agentActions(cfg);
  if (actions && !actions.has('status')) return done(true, false, `${node} fenced (off by ${cfg.agent}: ${r.message}; agent has no status to confirm) in ${secs()}`);
  const tries = Math.max(1, opts.confirmTries ?? 3);
  for (let i = 0; i < tries; i++) {
    if (i > 0) await sleep(1_000);
    const s = await runFenceAgent(cfg, 'status', log);
    steps.push(s);
    if (s.power === 'off') return done(true, true, `${node} fenced (off by ${cfg.agent}, confirmed off) in ${secs()}`);
    // unreachable after a "successful" off: we cannot know it is off, and a takeover must not
    // start on a guess
    if (!s.ok) return done(false, false, `off reported success but status failed: ${s.message}`);
  }
  return done(false, false, `${cfg.agent} off exited 0 but status still reports ${node} on`);
}
