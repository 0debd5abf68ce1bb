// The daemon's metrics (src/daemon/http/metrics.ts) rendered from a realistic svcmon model and
// event records, read back by a strict Prometheus text parser; the metrics_listen keyword.
import test from 'ava';
import { DaemonMetrics, deadPeersOf, STATUSES } from '../../src/daemon/http/metrics.js';
import { modelOfView } from '../../src/daemon/svcmon-model.js';
import { parseClusterConfig } from '../../src/cluster/config.js';
import type { ClusterView } from '../../src/daemon/control-protocol.js';
import type { ServiceState } from '../../src/cluster/node-state.js';
import type { EventRecord } from '../../src/daemon/event-ring.js';
import { emptyDrops } from '../../src/heartbeat/types.js';
import { EVENT } from '../../src/events.js';
import { parseHostPort } from '../../src/util/host-port.js';
import { parsePromText, sampleValue, samplesOf } from '../helpers/prom-text.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

const svc = (avail: ServiceState['avail'], o: Partial<ServiceState> = {}): ServiceState => ({
  avail, overall: avail === 'up' ? 'warn' : avail, frozen: false, orchestrate: 'ha', service_type: 'PRD', nodes: ['n1', 'n2', 'n3'], monitor: 'idle',
  groups: { container: 'n/a', ip: avail === 'up' ? 'up' : 'down', disk: 'n/a', fs: 'n/a', share: 'n/a', app: 'n/a', sync: 'n/a' }, updated: NOW, ...o,
});

/** n2 took web over from n1 (down); n3 up with web down; one heartbeat with drops */
function view(): ClusterView {
  return {
    nodename: 'n2', cluster: 'lab', intents: {},
    nodes: {
      n2: { state: 'self', payload: { v: 1, frozen: false, services: { web: svc('up') }, intents: {}, quorum: { state: 'quorate', votes: 2, total: 3, needed: 2, why: 'majority' } } },
      n1: { state: 'down', payload: { v: 1, frozen: false, services: { web: svc('up') }, intents: {} } },
      n3: { state: 'up', payload: { v: 1, frozen: true, services: { web: svc('down', { frozen: true }) }, intents: {} } },
    },
    hb: {
      at: NOW, nodename: 'n2', incarnation: '1',
      heartbeats: [{
        id: 'hb#1', type: 'unicast', txState: 'up', txError: undefined, tx: 321, lastSent: NOW, drops: { ...emptyDrops(), forged: 4, replayed: 1 },
        peers: { n1: { rxState: 'down', lastSeen: NOW - 9000, rx: 100, drops: emptyDrops() }, n3: { rxState: 'up', lastSeen: NOW, rx: 250, drops: emptyDrops() } },
      }],
    },
  };
}

let seq = 0;
const ev = (event: string, time: number, f: Record<string, unknown> = {}): EventRecord => ({ seq: ++seq, time, level: 30, event, ...f });

test('gauges follow the svcmon model: peers, quorum, heartbeats, per-instance avail and overall (stale ones left out)', async (t) => {
  const m = new DaemonMetrics();
  const fams = parsePromText(await m.render(modelOfView(view())));
  t.is(sampleValue(fams, 'ferry_info', { node: 'n2', cluster: 'lab' }), 1);
  t.is(sampleValue(fams, 'ferry_peer_up', { peer: 'n1' }), 0);
  t.is(sampleValue(fams, 'ferry_peer_up', { peer: 'n3' }), 1);
  t.is(sampleValue(fams, 'ferry_peer_state', { peer: 'n1', state: 'down' }), 1);
  t.is(sampleValue(fams, 'ferry_peer_state', { peer: 'n1', state: 'up' }), 0);
  t.is(samplesOf(fams, 'ferry_peer_up').length, 2, 'self is not a peer');
  t.is(sampleValue(fams, 'ferry_quorum_ok'), 1);
  t.is(sampleValue(fams, 'ferry_quorum_state', { state: 'quorate' }), 1);
  t.is(sampleValue(fams, 'ferry_quorum_votes'), 2);
  t.is(sampleValue(fams, 'ferry_quorum_votes_total'), 3);
  t.is(sampleValue(fams, 'ferry_quorum_votes_needed'), 2);
  t.is(sampleValue(fams, 'ferry_heartbeat_tx_total', { hb: 'hb#1' }), 321);
  t.is(sampleValue(fams, 'ferry_heartbeat_rx_total', { hb: 'hb#1', peer: 'n3' }), 250);
  t.is(sampleValue(fams, 'ferry_heartbeat_drops_total', { hb: 'hb#1', reason: 'forged' }), 4);
  t.is(sampleValue(fams, 'ferry_heartbeat_drops_total', { hb: 'hb#1', reason: 'malformed' }), 0);
  t.is(sampleValue(fams, 'ferry_heartbeat_peer_up', { hb: 'hb#1', peer: 'n1' }), 0);
  t.is(fams.get('ferry_heartbeat_tx_total')!.type, 'counter');
  t.is(sampleValue(fams, 'ferry_service_avail', { service: 'web', node: 'n2', status: 'up' }), 1);
  t.is(sampleValue(fams, 'ferry_service_overall', { service: 'web', node: 'n2', status: 'warn' }), 1);
  t.is(sampleValue(fams, 'ferry_service_avail', { service: 'web', node: 'n3', status: 'down' }), 1);
  t.is(samplesOf(fams, 'ferry_service_avail').filter((s) => s.labels.node === 'n2').length, STATUSES.length);
  t.is(samplesOf(fams, 'ferry_service_avail').filter((s) => s.labels.node === 'n2' && s.value === 1).length, 1);
  t.is(samplesOf(fams, 'ferry_service_avail').filter((s) => s.labels.node === 'n1').length, 0, 'a dead node\'s last word is no current metric');
  t.is(sampleValue(fams, 'ferry_service_frozen', { service: 'web', node: 'n3' }), 1);
  t.is(sampleValue(fams, 'ferry_service_running_nodes', { service: 'web' }), 1);
  t.is(sampleValue(fams, 'ferry_node_frozen', { node: 'n3' }), 1);
});

test('a state that went away leaves no series behind at the next scrape', async (t) => {
  const m = new DaemonMetrics();
  await m.render(modelOfView(view()));
  const v = view();
  delete v.nodes.n3;
  for (const n of Object.values(v.nodes)) delete n.payload!.services.web;
  const fams = parsePromText(await m.render(modelOfView(v)));
  t.is(samplesOf(fams, 'ferry_service_avail').length, 0);
  t.is(samplesOf(fams, 'ferry_peer_up').length, 1);
});

test('counters from events: fences, actions with a duration histogram, the last takeover duration', async (t) => {
  const m = new DaemonMetrics();
  m.observe([
    ev(EVENT.peerDown, NOW - 8_000, { peer: 'n1' }),
    ev(EVENT.fenceBegin, NOW - 7_900, { target: 'n1' }),
    ev(EVENT.fenceEnd, NOW - 7_000, { target: 'n1', ok: false, err: 'agent failed' }),
    ev(EVENT.fenceBegin, NOW - 6_000, { target: 'n1' }),
    ev(EVENT.fenceEnd, NOW - 5_500, { target: 'n1', ok: true }),
    ev(EVENT.daemonActionEnd, NOW - 1_500, { svc: 'web', kind: 'start', ok: true, ms: 1_200, why: 'not running anywhere (n1 dead)' }),
    ev(EVENT.daemonActionEnd, NOW, { svc: 'db', kind: 'stop', ok: false, ms: 40, err: 'x' }),
    // a plain start (no dead peer) is no takeover
    ev(EVENT.daemonActionEnd, NOW, { svc: 'db', kind: 'start', ok: true, ms: 300, why: 'not running anywhere' }),
  ]);
  const fams = parsePromText(await m.render(modelOfView(view())));
  t.is(sampleValue(fams, 'ferry_fence_attempts_total', { target: 'n1' }), 2);
  t.is(sampleValue(fams, 'ferry_fence_failures_total', { target: 'n1' }), 1);
  t.is(sampleValue(fams, 'ferry_actions_total', { service: 'web', kind: 'start', result: 'ok' }), 1);
  t.is(sampleValue(fams, 'ferry_actions_total', { service: 'db', kind: 'stop', result: 'failed' }), 1);
  t.is(sampleValue(fams, 'ferry_action_duration_seconds_count', { kind: 'start', result: 'ok' }), 2);
  t.is(sampleValue(fams, 'ferry_action_duration_seconds_sum', { kind: 'start', result: 'ok' }), 1.5);
  t.is(sampleValue(fams, 'ferry_action_duration_seconds_bucket', { kind: 'start', result: 'ok', le: '1' }), 1);
  t.is(sampleValue(fams, 'ferry_action_duration_seconds_bucket', { kind: 'start', result: 'ok', le: '+Inf' }), 2);
  t.is(sampleValue(fams, 'ferry_last_failover_duration_seconds', { service: 'web' }), 6.5);
  t.is(sampleValue(fams, 'ferry_failovers_total', { service: 'web' }), 1);
  t.is(samplesOf(fams, 'ferry_last_failover_duration_seconds').length, 1);
  t.is(fams.get('ferry_action_duration_seconds')!.type, 'histogram');
});

test('deadPeersOf reads the orchestrator\'s takeover reason', (t) => {
  t.deepEqual(deadPeersOf('not running anywhere (n1, n3 dead)'), ['n1', 'n3']);
  t.deepEqual(deadPeersOf('not running anywhere'), []);
  t.deepEqual(deadPeersOf(undefined), []);
});

test('the strict parser refuses what a scraper would', (t) => {
  const ok = '# HELP a x\n# TYPE a gauge\na{l="v\\"q"} 1\n';
  t.is(parsePromText(ok).get('a')!.samples[0]!.labels.l, 'v"q');
  t.throws(() => parsePromText('a 1\n'), { message: /without a TYPE/ });
  t.throws(() => parsePromText('# TYPE a gauge\na{l="v} 1\n'), { message: /unterminated/ });
  t.throws(() => parsePromText('# TYPE a gauge\na 1\na 2\n'), { message: /duplicate/ });
  t.throws(() => parsePromText('# TYPE a gauge\na one\n'), { message: /bad value/ });
  t.throws(() => parsePromText('# TYPE a counter\na -1\n'), { message: /negative/ });
  t.throws(() => parsePromText('# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n'), { message: /twice/ });
  t.throws(() => parsePromText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n'), { message: /cumulative/ });
  t.throws(() => parsePromText('# TYPE a gauge\na 1'), { message: /newline/ });
});

test('parseHostPort: IPv4, [IPv6], names; bad ones say why', (t) => {
  t.deepEqual(parseHostPort('127.0.0.1:9470'), { host: '127.0.0.1', port: 9470 });
  t.deepEqual(parseHostPort('[::1]:80'), { host: '::1', port: 80 });
  t.deepEqual(parseHostPort('localhost:9470'), { host: 'localhost', port: 9470 });
  for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:80', '[zz]:80', '300.1.1.1:80', 'a b:80', ':80', '1.2.3.4:80x']) t.true('error' in parseHostPort(bad), bad);
});

test('[cluster] metrics_listen: off by default, per node, a bad value is an error at its file:line', (t) => {
  const base = ['[cluster]', 'name = lab', 'nodes = n1 n2', `secret = ${'ab'.repeat(32)}`, 'quorum = false'];
  const parse = (extra: string[], node = 'n1') => parseClusterConfig([...base, ...extra].join('\n'), 'cluster.conf', node, '/nonexistent');
  t.is(parse([]).config!.metricsListen, undefined);
  t.deepEqual(parse(['metrics_listen = 127.0.0.1:9470']).config!.metricsListen, { host: '127.0.0.1', port: 9470 });
  t.deepEqual(parse(['metrics_listen = 127.0.0.1:9470', 'metrics_listen@n2 = [::1]:9471'], 'n2').config!.metricsListen, { host: '::1', port: 9471 });
  const r = parse(['metrics_listen = 127.0.0.1:9470', 'metrics_listen@n2 = 10.0.0.1'], 'n1');
  t.is(r.config, undefined, 'a peer\'s bad value is found on this node too');
  t.deepEqual(r.errors.filter((e) => e.severity === 'error').map(String), ['cluster.conf:7: metrics_listen: bad listen address "10.0.0.1": expected host:port (IPv6 as [addr]:port), e.g. 127.0.0.1:9470']);
});
