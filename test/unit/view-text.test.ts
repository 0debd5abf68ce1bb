// The daemon's `view` answer built from cached parts (src/daemon/view-text.ts): the same bytes
// as JSON.stringify of the answer, a replaced peer item or an edited own state shows at the
// next answer, and `lean` (svcmon's text) drops only the config digests without a conflict,
// leaving the text unchanged. The control server sends such an answer as is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { viewAnswerText } from '../../src/daemon/view-text.js';
import type { ClusterView } from '../../src/daemon/control-protocol.js';
import type { ConfigDigest, NodeState, ServiceState } from '../../src/cluster/node-state.js';
import { emptyDrops } from '../../src/heartbeat/types.js';
import { svcmonJson, svcmonText } from '../../src/cli/svcmon-output.js';
import { askDaemon } from '../../src/daemon/control-client.js';
import { controlSocketPath, parseRequest } from '../../src/daemon/control-protocol.js';
import { listenControl } from '../../src/daemon/control-server.js';
import { silentLogger } from '../../src/log.js';
import { ferryPaths } from '../../src/paths.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

function svc(o: Partial<ServiceState> = {}): ServiceState {
  return {
    avail: 'up', overall: 'up', frozen: false, orchestrate: 'ha', service_type: 'PRD', nodes: ['n1', 'n2', 'n3'], monitor: 'idle',
    groups: { container: 'up', ip: 'up', disk: 'n/a', fs: 'up', share: 'n/a', app: 'n/a', sync: 'n/a' }, updated: NOW - 1000, ...o,
  };
}

const digest = (sum: string, o: Partial<ConfigDigest> = {}): ConfigDigest => ({ updated: NOW - 5000, sum, hist: [sum.slice(0, 16)], nodes: ['n1', 'n2', 'n3'], ...o });
const conflict = { with: 'n3', at: NOW - 2000, kept: 'a'.repeat(64), lost: 'b'.repeat(64) };

function payload(services: Record<string, ServiceState>, configs: Record<string, ConfigDigest>, o: Partial<NodeState> = {}): NodeState {
  return {
    v: 1, frozen: false, services, intents: {}, configs, cluster_sum: 'c0ffee',
    quorum: { state: 'quorate', votes: 3, total: 3, needed: 2, why: '3/3 votes' }, fence: {}, ...o,
  };
}

function sample(): ClusterView {
  const services = (n: string): Record<string, ServiceState> => ({
    web: svc({ error: n === 'n2' ? 'start failed' : undefined }),
    // odd names: integer-like keys come first in JSON.stringify, quotes are escaped
    '7': svc({ expect: { state: 'up', at: NOW - 9000 } }),
    'a"b\u00e9': svc({ monitor: 'starting' }),
  });
  const configs = (n: string): Record<string, ConfigDigest> => ({
    web: digest('1'.repeat(64), n === 'n2' ? { conflict } : {}),
    '7': digest('2'.repeat(64)),
    'a"b\u00e9': digest('3'.repeat(64)),
  });
  return {
    nodename: 'n1', cluster: 'lab',
    nodes: {
      n1: { state: 'self', payload: payload(services('n1'), configs('n1'), { intents: { web: { id: 'i1', svc: 'web', target: 'n2', by: 'n1', at: NOW, done: false } } }) },
      n2: { state: 'up', payload: { ...payload(services('n2'), configs('n2')), complete: true } },
      n3: { state: 'down', payload: payload(services('n3'), configs('n3'), { quorum: undefined }) },
      n4: { state: 'unknown', payload: undefined },
    },
    hb: {
      at: NOW, nodename: 'n1', incarnation: '1',
      heartbeats: [{ id: 'hb#1', type: 'unicast', txState: 'up', txError: undefined, tx: 10, lastSent: NOW - 100, drops: emptyDrops(), peers: { n2: { rxState: 'up', lastSeen: NOW - 300, rx: 10, drops: emptyDrops() }, n3: { rxState: 'down', lastSeen: NOW - 60_000, rx: 10, drops: emptyDrops() } } }],
    },
    intents: {},
    control: { connections: 1, answered: 3, drops: {} },
  };
}

const answer = (view: ClusterView): string => JSON.stringify({ ok: true, view });

test('viewAnswerText: the bytes of JSON.stringify of the answer, again and again (undefined fields, odd keys, no payload)', (t) => {
  const v = sample();
  for (let i = 0; i < 3; i++) t.is(viewAnswerText(v, 'n1'), answer(v));
  const { control: _c, ...old } = v;
  t.is(viewAnswerText(old, 'n1'), answer(old));
  const empty: ClusterView = { ...v, nodes: {} };
  t.is(viewAnswerText(empty, 'n1'), answer(empty));
});

test('viewAnswerText: a replaced peer item and an edited own state show at the next answer', (t) => {
  const v = sample();
  viewAnswerText(v, 'n1');
  // a peer publishes: the replica holds a new object for the changed item
  v.nodes.n2!.payload!.services.web = svc({ avail: 'down', overall: 'down' });
  v.nodes.n2!.payload!.configs!['7'] = digest('9'.repeat(64));
  delete v.nodes.n2!.payload!.services['7'];
  // this node edits its states in place
  v.nodes.n1!.payload!.services.web!.monitor = 'stopping';
  v.nodes.n1!.payload!.configs!.web!.sum = 'f'.repeat(64);
  const text = viewAnswerText(v, 'n1');
  t.is(text, answer(v));
  t.regex(text, /"stopping"/);
  t.regex(text, /9{64}/);
});

test('lean: only the config digests without a conflict are left out, and the text is the same', (t) => {
  const v = sample();
  const lean = (JSON.parse(viewAnswerText(v, 'n1', { lean: true })) as { view: ClusterView }).view;
  const expected = JSON.parse(answer(v)) as { view: ClusterView };
  for (const n of Object.values(expected.view.nodes)) {
    const c = n.payload?.configs;
    if (c) for (const k of Object.keys(c)) if (!c[k]!.conflict) delete c[k];
  }
  t.deepEqual(lean, expected.view);
  t.deepEqual(Object.keys(lean.nodes.n2!.payload!.configs!), ['web']);
  t.deepEqual(lean.nodes.n1!.payload!.configs, {});
  // the text draws only the conflict from the digests
  const full = (JSON.parse(answer(v)) as { view: ClusterView }).view;
  const text = svcmonText(lean, [], NOW);
  t.is(text, svcmonText(full, [], NOW));
  t.regex(text, /web@n2: config conflict with n3/);
  t.is(svcmonText(lean, ['web'], NOW), svcmonText(full, ['web'], NOW));
});

test('spans: each payload text in the line; svcmon json copying them is the same bytes as its stringify', (t) => {
  const v = sample();
  const line = viewAnswerText(v, 'n1', { spans: true });
  const a = JSON.parse(line) as { view: ClusterView; spans: Record<string, [number, number]> };
  t.deepEqual(a.view, JSON.parse(answer(v)).view);
  t.deepEqual(Object.keys(a.spans), ['n1', 'n2', 'n3']);
  for (const [n, [from, to]] of Object.entries(a.spans)) t.is(line.slice(from, to), JSON.stringify(v.nodes[n]!.payload), n);
  const json = svcmonJson(a.view, [], { text: line, spans: a.spans });
  t.is(json, svcmonJson(a.view));
  t.notRegex(json, /ferry-payload/);
  // the down node's payload is the model's (stale statuses), not the daemon's text
  t.true(JSON.parse(json).nodes.n3.payload.services.web.stale);
  t.is(svcmonJson(a.view, ['web'], { text: line, spans: a.spans }), svcmonJson(a.view, ['web']));
  // a span that does not hold the payload would show: the test can fail
  const shifted = Object.fromEntries(Object.entries(a.spans).map(([n, [f, e]]) => [n, [f + 1, e + 1]])) as Record<string, [number, number]>;
  t.not(svcmonJson(a.view, [], { text: line, spans: shifted }), svcmonJson(a.view));
});

test('view requests: lean and spans are optional booleans', (t) => {
  t.deepEqual(parseRequest('{"op":"view"}'), { ok: true, request: { op: 'view' } });
  t.deepEqual(parseRequest('{"op":"view","lean":true}'), { ok: true, request: { op: 'view', lean: true } });
  t.deepEqual(parseRequest('{"op":"view","spans":false,"lean":false}'), { ok: true, request: { op: 'view', lean: false, spans: false } });
  const r = parseRequest('{"op":"view","lean":1}');
  t.false(r.ok);
  t.regex(r.ok ? '' : r.error, /"lean" must be true or false/);
});

test('the control server sends a raw answer as is, one line', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-viewtext-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const paths = ferryPaths({ FERRY_ROOT: root });
  const v = sample();
  const server = await listenControl(controlSocketPath(paths), async (req) => (req.op === 'view' ? { raw: viewAnswerText(v, 'n1', { lean: req.lean === true, spans: req.spans === true }) } : { ok: true }), silentLogger());
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  t.deepEqual(await askDaemon(paths, { op: 'view' }, 5_000), JSON.parse(answer(v)));
  const lean = await askDaemon(paths, { op: 'view', lean: true }, 5_000);
  t.true(lean.ok && lean.view !== undefined && Object.keys(lean.view.nodes.n1!.payload!.configs!).length === 0);
  t.is(server.stats().answered, 2);
});
