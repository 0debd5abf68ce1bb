// Split handling: without quorum, the other partition may have it and take this node's
// failover services over after its split_grace. split_action is applied to them as long as
// the state lasts: `crash` takes the node out now, `freeze` freezes them (they keep running),
// `stop` stops them, and crashes the node if they still run at 80% of split_grace
// (docs/quorum.md).
import type { ClusterConfig } from '../cluster/config.js';
import { SPLIT_GRACE_DEFAULT } from '../cluster/keywords.js';
import { runsHere, type ServiceState } from '../cluster/node-state.js';
import type { QuorumView } from '../cluster/quorum.js';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import { Service } from '../service/service.js';
import type { InstanceMonitor } from './instance-monitor.js';
import { selfFence } from './self-fence.js';

export interface SplitDeps {
  cluster: ClusterConfig;
  paths: FerryPaths;
  nodename: string;
  log: Logger;
  /** this node's services and their state */
  local: ReadonlyMap<string, ServiceState>;
  instance: (name: string) => InstanceMonitor;
}

export class SplitGuard {
  /** split_action = stop: when the node crashes itself if its failover services still run */
  private splitDeadline: number | undefined;
  private selfFenced = false;

  constructor(private readonly d: SplitDeps) {}

  /** After each quorum computation. majorityLostAt: when the majority was lost (src/daemon/membership.ts). */
  enforceSplit(q: QuorumView, majorityLostAt: number | undefined): void {
    const { local, log } = this.d;
    const now = Date.now();
    const mine = [...local.entries()].filter(([, s]) => runsHere(s) && s.nodes.length > 1 && s.orchestrate !== 'no').map(([n]) => n);
    if (!q.mustSplit || mine.length === 0 || this.selfFenced) {
      this.splitDeadline = undefined;
      return;
    }
    const action = this.d.cluster.splitAction;
    if (action === 'crash') {
      this.selfFenced = true;
      selfFence('crash', `${q.why}: split_action = crash while running ${mine.join(', ')}`, log);
      return;
    }
    if (action === 'freeze') {
      for (const name of mine.filter((n) => !local.get(n)!.frozen)) {
        log.warn({ event: EVENT.splitFreeze, svc: name }, `${q.why}: freezing ${name} (split_action = freeze)`);
        local.get(name)!.frozen = true;
        void Service.open(this.d.paths, name, this.d.nodename).freeze().catch((e: unknown) => log.error({ svc: name, err: String(e) }, 'freeze failed'));
      }
      return;
    }
    const grace = this.d.cluster.splitGrace ?? SPLIT_GRACE_DEFAULT;
    this.splitDeadline ??= (majorityLostAt ?? now) + Math.floor(grace * 0.8);
    if (now >= this.splitDeadline) {
      this.selfFenced = true;
      selfFence('crash', `${q.why}: ${mine.join(', ')} still running ${Math.floor(grace * 0.8)} ms after quorum was lost (split_grace ${grace} ms): the majority may start them`, log);
      return;
    }
    for (const name of mine) {
      const s = local.get(name)!;
      const inst = this.d.instance(name);
      if (inst.busy || (s.monitor === 'stop failed' && inst.retryPending(now))) continue;
      void inst.run('stop', (svc) => svc.stop(), `${q.why} (split_action = stop)`);
    }
  }
}
