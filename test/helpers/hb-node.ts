// A heartbeat-only node for integration tests, run inside a network namespace:
//   ip netns exec <ns> node dist/test/helpers/hb-node.js
// with FERRY_ROOT (holding etc/cluster.conf) and FERRY_NODENAME in the environment.
// Prints one JSON object per line (ready, peer, payload, snapshot, unblocked, stopped) and
// takes commands as JSON lines on stdin: {"cmd":"block","ms":N} busy-loops the main thread,
// {"cmd":"payload","value":...}, {"cmd":"snapshot"}, {"cmd":"stop","graceful":true}.
// With FERRY_HB_STATECHAN=1 it runs the heartbeats with the state channel (src/statechan),
// {"cmd":"services","n":N,"down":[i...]} publishes N services, and payload events are
// summarised ({complete, services: count, down: [names]}) instead of printed whole.
import readline from 'node:readline';
import { loadClusterConfig } from '../../src/cluster/config.js';
import type { JsonValue } from '../../src/heartbeat/envelope.js';
import { startHeartbeats } from '../../src/heartbeat/index.js';
import { startClusterState } from '../../src/statechan/index.js';
import type { NodeState } from '../../src/cluster/node-state.js';
import { bigState } from './node-states.js';
import { nodeLogger } from '../../src/log.js';
import { nodename as getNodename } from '../../src/node.js';
import { ferryPaths } from '../../src/paths.js';

type Command =
  | { cmd: 'block'; ms: number }
  | { cmd: 'payload'; value: JsonValue }
  | { cmd: 'services'; n: number; down?: number[] }
  | { cmd: 'churn'; n: number; changes: number; everyMs: number }
  | { cmd: 'snapshot' }
  | { cmd: 'stop'; graceful: boolean };

const out = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ ...o, at: Date.now() }) + '\n');

const paths = ferryPaths();
const nodename = getNodename();
const cluster = loadClusterConfig(paths, nodename);
const log = nodeLogger(paths, nodename, `hb-${nodename}`).child({ component: 'hb' });
const statechan = process.env.FERRY_HB_STATECHAN === '1';
const hb = statechan
  ? await startClusterState({ cluster, nodename, log, payload: bigState(0) as unknown as JsonValue })
  : await startHeartbeats({ cluster, nodename, log, payload: { node: nodename, gen: 0 } });
const summary = (p: unknown): unknown => {
  const s = p as NodeState | undefined;
  if (!statechan || !s?.services) return p;
  return { complete: s.complete, services: Object.keys(s.services).length, down: Object.entries(s.services).filter(([, v]) => v.avail === 'down').map(([k]) => k) };
};
// verdictAt: when the heartbeat worker decided (its clock), not when this line is printed
hb.on('peer', (peer, state, prev) => out({ ev: 'peer', peer, state, prev, verdictAt: hb.peers()[peer]?.since }));
hb.on('payload', (peer, payload) => out({ ev: 'payload', peer, payload: summary(payload) }));
out({ ev: 'ready', incarnation: hb.incarnation.toString() });

let churnTimer: NodeJS.Timeout | undefined;
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as Command;
  switch (c.cmd) {
    case 'block': {
      // the whole point: the main loop does nothing else for c.ms
      const end = Date.now() + c.ms;
      while (Date.now() < end) {
        /* busy */
      }
      out({ ev: 'unblocked' });
      break;
    }
    case 'payload':
      hb.setPayload(c.value);
      break;
    case 'services': {
      const st = bigState(c.n);
      for (const i of c.down ?? []) st.services[`svc${String(i).padStart(5, '0')}`]!.avail = 'down';
      hb.setPayload(st as unknown as JsonValue, true);
      break;
    }
    case 'churn': {
      // as the daemon does: republish every period with fresh `updated` stamps, `changes` services changed
      const st = bigState(c.n);
      let k = 0;
      if (churnTimer) clearInterval(churnTimer);
      churnTimer = setInterval(() => {
        const now = Date.now();
        for (const v of Object.values(st.services)) v.updated = now;
        for (let i = 0; i < c.changes; i++) {
          const v = st.services[`svc${String(k++ % c.n).padStart(5, '0')}`]!;
          v.monitor = v.monitor === 'idle' ? 'starting' : 'idle';
        }
        hb.setPayload(st as unknown as JsonValue);
      }, c.everyMs);
      hb.setPayload(st as unknown as JsonValue, true);
      break;
    }
    case 'snapshot': {
      const peers = hb.peers();
      for (const v of Object.values(peers)) v.payload = summary(v.payload);
      out({ ev: 'snapshot', snap: hb.snapshot(), peers, ...('statechan' in hb ? { statechan: (hb as { statechan: () => unknown }).statechan() } : {}) });
      break;
    }
    case 'stop':
      void hb.stop(c.graceful).then(() => {
        out({ ev: 'stopped' });
        process.exit(0);
      });
      break;
  }
});
