// `svcmgr print status` output, from statuses read here or by the daemon (src/cli/svcmgr-main.ts):
// the status tree (or JSON, with the placement when the daemon runs) and the exit code.
import type { ClusterView } from '../daemon/control-protocol.js';
import { modelOfView } from '../daemon/svcmon-model.js';
import type { ServiceStatus } from '../service/status.js';
import { serviceNotes } from './render-cluster.js';
import { renderStatusTree } from './render-status.js';
import { statusesExitCode } from './status-exit.js';

/** Write the statuses; returns the exit code (the worst overall status by severity). */
export function printStatuses(statuses: ServiceStatus[], v: ClusterView | undefined, format: 'json' | 'text'): number {
  if (format === 'json') {
    // with the daemon: where the service runs against where it should (non-optimal placement)
    const placed = v ? statuses.map((s) => ({ ...s, placement: modelOfView(v, [s.svcname]).services[s.svcname]?.placement ?? 'n/a' })) : statuses;
    process.stdout.write(JSON.stringify(placed.length === 1 ? placed[0] : placed, null, 2) + '\n');
  } else {
    // the daemon's word on why it waits or failed (a failed fence, no quorum) under the tree
    const text = (s: ServiceStatus) => [renderStatusTree(s), ...(v ? serviceNotes(v, s.svcname).map((n) => `# ${n}`) : [])].join('\n');
    process.stdout.write(statuses.map(text).join('\n\n') + '\n');
  }
  // a down service is never hidden behind an n/a one
  return statusesExitCode(statuses.map((s) => s.overall));
}
