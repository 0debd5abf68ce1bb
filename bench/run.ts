// `npm run bench`: every benchmark, figures printed as JSON lines. Not part of the tests.
import { statusLatency } from './status-latency.js';
import { parallelStart } from './parallel-start.js';
import { failover } from './failover.js';
import { statechan } from './statechan.js';
import { soakLoss } from './soak-loss.js';
import { relocateData } from './relocate-data.js';
import { soakScale } from './soak-scale.js';
import { idle } from './idle.js';
import { cliLatency } from './cli.js';
import { svcmonScale } from './svcmon-scale.js';
import { heldPush } from './held-push.js';

const which = process.argv.slice(2);
const benches: Record<string, () => Promise<Record<string, number>>> = {
  'status-latency': statusLatency,
  'parallel-start': parallelStart,
  cli: cliLatency,
  // svcmon of a synthetic 3 x 5000 view served on a socket, against node -e 0 (docs/benchmarks.md)
  'svcmon-scale': svcmonScale,
  // a relocation's final rsync push, fresh transport against one pre-opened: loopback, no root, ~10 s (docs/benchmarks.md)
  'held-push': heldPush,
  // a lab cluster, ferry against keepalived: root, ~10 min; run it by name (docs/benchmarks.md)
  failover,
  // 3 nodes x 5000 services in namespaces: root, ~2 min (docs/benchmarks.md)
  statechan,
  // 2 nodes at 100ms/300ms, 20 % loss on one link, both cores busy: root, 30 min (docs/benchmarks.md)
  'soak-loss': soakLoss,
  // 2-node labs, a 1 GiB volume under 10 MiB/s of writes, two-phase rsync/btrfs vs a naive copy: root, ~10 min (docs/benchmarks.md)
  'relocate-data': relocateData,
  // 3 real agents x 5000 services held SOAK_MINUTES (default 10): root, ~15 min (docs/benchmarks.md)
  'soak-scale': soakScale,
  // a 2-node lab, 100 services: root, ~5 min (docs/benchmarks.md)
  idle,
};
// long and root-only: run only when named
const optIn = new Set(['failover', 'statechan', 'soak-loss', 'relocate-data', 'soak-scale', 'idle']);
for (const [name, fn] of Object.entries(benches)) {
  if (which.length ? !which.includes(name) : optIn.has(name)) continue;
  const started = Date.now();
  const figures = await fn();
  console.log(JSON.stringify({ bench: name, ...figures, wall_s: (Date.now() - started) / 1000 }));
}
