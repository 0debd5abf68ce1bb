// What svcmon and print status show of a cluster (src/daemon/svcmon-model.ts, render-cluster.ts),
// from realistic daemon views: a dead node's last statuses are never current facts, the node
// table says why a node is quorate, the hb column counts live members, placement is judged.
import test from 'ava';
import { modelOfLocal, modelOfView } from '../../src/daemon/svcmon-model.js';
import { renderClusterSvcmon, renderNodes, serviceNotes } from '../../src/cli/render-cluster.js';
import type { ClusterView, NodeView } from '../../src/daemon/control-protocol.js';
import type { NodeState, QuorumInfo, ServiceState } from '../../src/cluster/node-state.js';
import type { HbStats } from '../../src/heartbeat/index.js';
import type { ServiceStatus } from '../../src/service/status.js';
import { emptyDrops } from '../../src/heartbeat/types.js';
import { hbRows } from '../../src/cli/relocate.js';

const NOW = Date.UTC(2026, 11, 2, 10, 0, 0);

function svc(avail: 'up' | 'down', o: Partial<ServiceState> = {}): ServiceState {
  const g = avail === 'up' ? 'up' : 'down';
  return {
    avail, overall: avail, frozen: false, orchestrate: 'ha', service_type: 'PRD', nodes: ['n1', 'n2'], monitor: 'idle',
    groups: { container: g, ip: g, disk: 'n/a', fs: g, share: 'n/a', app: 'n/a', sync: 'n/a' }, updated: NOW - 6_000, ...o,
  };
}

function node(state: NodeView['state'], services: Record<string, ServiceState>, o: Partial<NodeState> = {}): NodeView {
  return { state, payload: { v: 1, frozen: false, services, intents: {}, ...o } };
}

/** this node's heartbeats: tx up, each peer with its rx state and last message */
function hbs(peers: Record<string, { rx: 'up' | 'down' | 'unknown' | 'left'; seen: number | null }>): HbStats[] {
  return ['unicast', 'disk'].map((type, i) => ({
    id: `hb#${i + 1}`, type: type as HbStats['type'], txState: 'up', txError: undefined, tx: 100, lastSent: NOW - 100, drops: emptyDrops(),
    peers: Object.fromEntries(Object.entries(peers).map(([n, p]) => [n, { rxState: p.rx, lastSeen: p.seen === null ? null : p.seen - i * 200, rx: 50, drops: emptyDrops() }])),
  }));
}

function view(self: string, nodes: Record<string, NodeView>, heartbeats: HbStats[]): ClusterView {
  return { nodename: self, cluster: 'lab', nodes, hb: { at: NOW, nodename: self, incarnation: '1', heartbeats }, intents: {} };
}

const quorumOff: QuorumInfo = { state: 'off', votes: 1, total: 2, needed: 2, why: 'quorum disabled' };

/** n1 (the owner) powered off, n2 took web over; n1's last word: web up */
const afterFailover = (): ClusterView =>
  view('n2', {
    n2: node('self', { web: svc('up') }, { quorum: quorumOff }),
    n1: node('down', { web: svc('up') }, { quorum: quorumOff }),
  }, hbs({ n1: { rx: 'down', seen: NOW - 5_000 } }));

const rowOf = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l));

test('svcmon text after a failover: the dead node shows no status as current, and when it was last heard', (t) => {
  const text = renderClusterSvcmon(afterFailover(), [], NOW);
  const [dead] = rowOf(text, /^web\s+n1 /);
  t.regex(dead ?? '', /^web\s+n1 \(down\)\s+PRD\s+hosted(\s+-){8}\s+unknown\s+unknown\s+-\s+-$/);
  t.notRegex(dead ?? '', /\bup\b/);
  t.regex(text, /^# web@n1: n1 is down, last seen 5\.0 s ago: its statuses are not current$/m);
  // steady state: n1 is known gone, the heartbeats of the live members are fine
  t.regex(rowOf(text, /^web\s+n2 /)[0] ?? '', /^web\s+n2\s+PRD\s+hosted\s+up\s+up\s+n\/a\s+up\s+n\/a\s+n\/a\s+up\s+n\/a\s+up\s+up\s+False\s+idle$/);
  t.regex(text, /^n1\s+down, last seen 5\.0 s ago\s+-\s+-$/m);
  t.regex(text, /^n2\s+self\s+off\s+-$/m);
});

/** every path to an `avail` or `overall` a script would count (not under `last`) */
function countable(x: unknown, path: string[] = []): string[] {
  if (typeof x !== 'object' || x === null) return [];
  return Object.entries(x).flatMap(([k, v]) => {
    if (k === 'last') return [];
    if ((k === 'avail' || k === 'overall') && typeof v === 'string') return [`${[...path, k].join('.')}=${v}`];
    return countable(v, [...path, k]);
  });
}

test('svcmon json after a failover: the dead node is stale, its last word under `last`, nothing to count as up', (t) => {
  const m = JSON.parse(JSON.stringify(modelOfView(afterFailover()))) as ReturnType<typeof modelOfView>;
  const n1 = m.services.web!.instances.n1!;
  t.like(n1, { agent: 'down', stale: true, lastSeen: NOW - 5_000, last: { avail: 'up', overall: 'up', at: NOW - 6_000 } });
  t.false('avail' in n1);
  t.false('overall' in n1);
  t.like(m.nodes.n1, { state: 'down', stale: true, lastSeen: NOW - 5_000 });
  t.like(m.nodes.n1!.payload!.services.web, { stale: true, last: { avail: 'up' } });
  // a script counting avail == up sees the service up once, on n2
  const ups = countable(m).filter((p) => p.endsWith('avail=up'));
  t.deepEqual(ups, ['services.web.instances.n2.avail=up', 'nodes.n2.payload.services.web.avail=up']);
  t.like(m, { nodename: 'n2', cluster: 'lab', daemon: { running: true } });
  t.like(m.services.web, { placement: 'optimal', best: 'n2', runningOn: ['n2'] });
});

test('a returning node that does not get its service back: non-optimal placement, in svcmon, print status notes and json', (t) => {
  const v = view('n2', {
    n2: node('self', { web: svc('up') }),
    n1: node('up', { web: svc('down') }),
  }, hbs({ n1: { rx: 'up', seen: NOW - 150 } }));
  t.like(modelOfView(v).services.web, { placement: 'non-optimal', best: 'n1', runningOn: ['n2'] });
  const note = 'web: non-optimal placement: runs on n2, n1 is the first eligible node';
  t.true(serviceNotes(v, 'web').includes(note), 'print status line');
  t.regex(renderClusterSvcmon(v, [], NOW), new RegExp(`^# ${note}$`, 'm'));
  // n1 frozen: n2 is the first eligible node, nothing to say
  v.nodes.n1!.payload!.frozen = true;
  t.like(modelOfView(v).services.web, { placement: 'optimal' });
  t.deepEqual(serviceNotes(v, 'web'), []);
});

test('the hb column: warn while a live member is not heard on one heartbeat', (t) => {
  const hb = hbs({ n1: { rx: 'up', seen: NOW - 150 } });
  hb[1]!.peers.n1!.rxState = 'down';
  const v = view('n2', { n2: node('self', { web: svc('up') }), n1: node('up', { web: svc('down') }) }, hb);
  t.like(modelOfView(v).services.web!.instances.n2, { stale: false, groups: { hb: 'warn' } });
  t.regex(renderClusterSvcmon(v, [], NOW), /^web\s+n2\s+(\S+\s+){8}warn\s/m);
});

test('node table: why a node is quorate (a won tie, an arbitrator, a majority), never "1/2 (2 needed)"', (t) => {
  const tie = view('n1', {
    n1: node('self', { web: svc('up') }, { quorum: { state: 'quorate', votes: 1, total: 2, needed: 2, why: 'tie won: peer n2 fenced' }, fence: { n2: { state: 'fenced', at: NOW - 3_000 } } }),
    n2: node('down', { web: svc('up') }, { quorum: { state: 'quorate', votes: 2, total: 2, needed: 2, why: '' } }),
  }, hbs({ n2: { rx: 'down', seen: NOW - 4_000 } }));
  const tieRows = renderNodes(tie, NOW);
  t.regex(tieRows.join('\n'), /^n1\s+self\s+quorate: peer n2 fenced\s+n2 fenced at 09:59:57$/m);
  t.regex(tieRows.join('\n'), /^n2\s+down, last seen 4\.0 s ago\s+-\s+-$/m, 'the dead node says nothing of its quorum');
  t.notRegex(tieRows.join('\n'), /\(2 needed\)/);

  const arb = view('n1', {
    n1: node('self', {}, { quorum: { state: 'quorate', votes: 2, total: 3, needed: 2, why: '', arbitrators: { 'arbitrator#1': { granted: true } } } }),
    n2: node('down', {}),
  }, hbs({ n2: { rx: 'down', seen: NOW - 4_000 } }));
  t.regex(renderNodes(arb, NOW)[1]!, /^n1\s+self\s+quorate: arbitrator#1 vote\s+-$/);

  const three = view('n3', {
    n3: node('self', {}, { quorum: { state: 'quorate', votes: 2, total: 3, needed: 2, why: '' } }),
    n2: node('up', {}, { quorum: { state: 'quorate', votes: 2, total: 3, needed: 2, why: '' } }),
    n1: node('down', {}),
  }, hbs({ n2: { rx: 'up', seen: NOW - 100 }, n1: { rx: 'down', seen: NOW - 12_000 } }));
  t.deepEqual(renderNodes(three, NOW), [
    'node  agent                       quorum              fencing',
    'n3    self                        quorate: 2/3 votes  -',
    'n2    up                          quorate: 2/3 votes  -',
    'n1    down, last seen 12.0 s ago  -                   -',
  ]);

  const lost = view('n1', {
    n1: node('self', {}, { quorum: { state: 'lost', votes: 1, total: 3, needed: 2, why: '', arbitrators: { 'arbitrator#1': { granted: false, error: 'held by n2' } } } }),
  }, []);
  t.regex(renderNodes(lost, NOW)[1]!, /^n1\s+self\s+lost: 1\/3 votes, 2 needed; arbitrator#1 no: held by n2\s+-$/);
});

test('--service: only those services, in the model and the published node view', (t) => {
  const v = view('n2', {
    n2: node('self', { web: svc('up'), db: svc('down', { nodes: ['n2', 'n1'] }) }),
    n1: node('down', { web: svc('up'), db: svc('up') }),
  }, hbs({ n1: { rx: 'down', seen: NOW - 5_000 } }));
  const m = modelOfView(v, ['db']);
  t.deepEqual(Object.keys(m.services), ['db']);
  t.deepEqual(Object.keys(m.nodes.n1!.payload!.services), ['db']);
  t.deepEqual(Object.keys(m.nodes.n2!.payload!.services), ['db']);
  t.deepEqual(rowOf(renderClusterSvcmon(v, ['db'], NOW), /^(web|db)\s/).map((l) => l.split(/\s+/).slice(0, 2).join(' ')), ['db n2', 'db n1']);
});

test('svcmon json has one shape with and without a daemon', (t) => {
  const status: ServiceStatus = {
    svcname: 'web', nodename: 'n2', service_type: 'PRD', orchestrate: 'ha', frozen: false, overall: 'down', avail: 'down',
    groups: { container: 'down', ip: 'down', disk: 'n/a', fs: 'down', share: 'n/a', app: 'n/a', sync: 'n/a', hb: 'n/a' }, resources: [], hb: [],
  };
  const local = modelOfLocal('n2', [status], 'the daemon is not running (/run/nodemgr.sock: ENOENT)');
  const daemon = modelOfView(afterFailover());
  t.deepEqual(Object.keys(local).sort(), Object.keys(daemon).sort());
  t.deepEqual(Object.keys(local.services.web!).sort(), Object.keys(daemon.services.web!).sort());
  t.deepEqual(Object.keys(local.services.web!.instances.n2!).sort(), Object.keys(daemon.services.web!.instances.n2!).sort());
  t.like(local, { daemon: { running: false, error: 'the daemon is not running (/run/nodemgr.sock: ENOENT)' }, cluster: null, hb: null });
  t.like(local.services.web!.instances.n2, { agent: 'self', stale: false, avail: 'down', groups: { hb: 'n/a' } });
});

test('print status hb rows after a failover: the dead peer is named, not a heartbeat fault', (t) => {
  t.deepEqual(hbRows(afterFailover()), [
    { name: 'hb#1', status: 'up', label: 'unicast tx up, rx n1 down' },
    { name: 'hb#2', status: 'up', label: 'disk tx up, rx n1 down' },
  ]);
  const v = afterFailover();
  v.nodes.n1!.state = 'up';
  t.deepEqual(hbRows(v).map((r) => r.status), ['warn', 'warn'], 'a live peer not heard');
});
