// The status page's script (src/daemon/http/page.ts) run against a real svcmon model: the
// instance cells' text and class, and every node column of a service row addressable by its
// node (data-node), a dead node's stale cell included. The script runs in node:vm over the few
// DOM calls it makes (a stand-in for the browser, not for our code); the real thing in
// Chromium is test/integration/status-page.test.ts and cluster-status-page.test.ts.
import test from 'ava';
import vm from 'node:vm';
import { instanceCell, statusPage } from '../../src/daemon/http/page.js';
import { modelOfView } from '../../src/daemon/svcmon-model.js';
import type { ClusterView } from '../../src/daemon/control-protocol.js';
import type { ServiceState } from '../../src/cluster/node-state.js';
import { emptyDrops } from '../../src/heartbeat/types.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

const svc = (avail: ServiceState['avail'], o: Partial<ServiceState> = {}): ServiceState => ({
  avail, overall: avail, frozen: false, orchestrate: 'ha', service_type: 'PRD', nodes: ['n1', 'n2'], monitor: 'idle',
  groups: { container: 'n/a', ip: avail === 'up' ? 'up' : 'down', disk: 'n/a', fs: 'n/a', share: 'n/a', app: 'n/a', sync: 'n/a' }, updated: NOW, ...o,
});

/** n2 took web over from n1 (down, so stale); n3 is no node of web */
function view(): ClusterView {
  return {
    nodename: 'n2', cluster: 'lab', intents: {},
    nodes: {
      n2: { state: 'self', payload: { v: 1, frozen: false, services: { web: svc('up') }, intents: {} } },
      n1: { state: 'down', payload: { v: 1, frozen: false, services: { web: svc('up') }, intents: {} } },
      n3: { state: 'up', payload: { v: 1, frozen: false, services: {}, intents: {} } },
    },
    hb: { at: NOW, nodename: 'n2', incarnation: '1', heartbeats: [{ id: 'hb#1', type: 'unicast', txState: 'up', txError: undefined, tx: 3, lastSent: NOW, drops: emptyDrops(), peers: { n1: { rxState: 'down', lastSeen: NOW - 9000, rx: 1, drops: emptyDrops() } } }] },
  };
}

test('instanceCell: text and class of up, degraded, frozen, busy, stale and absent instances', (t) => {
  t.deepEqual(instanceCell({ stale: false, avail: 'up', overall: 'up', frozen: false, monitor: 'idle' }), { text: 'up', cls: 'st up' });
  t.deepEqual(instanceCell({ stale: false, avail: 'up', overall: 'warn', frozen: true, monitor: 'stopping' }), { text: 'up / warn frozen stopping', cls: 'st up' });
  t.deepEqual(instanceCell({ stale: false, avail: 'stdby down', overall: 'stdby down' }), { text: 'stdby down', cls: 'st stdby-down' });
  t.deepEqual(instanceCell({ stale: true, last: { avail: 'up' } }), { text: 'stale (up)', cls: 'st stale' });
  t.deepEqual(instanceCell(undefined), { text: '', cls: '' });
});

interface FakeEl {
  tag: string;
  textContent: string;
  className: string;
  dataset: Record<string, string>;
  children: FakeEl[];
}

/** Run the page's script once over the model; the tables it drew, by id. */
async function drawn(doc: unknown): Promise<Record<string, FakeEl>> {
  const html = statusPage();
  const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
  if (!script) throw new Error('no script in the page');
  class Node {}
  const mk = (tag: string): FakeEl & Node => {
    const e = Object.assign(new Node(), { tag, textContent: '', className: '', dataset: {} as Record<string, string>, children: [] as FakeEl[] });
    Object.assign(e, {
      appendChild: (c: FakeEl) => (e.children.push(c), c),
      append: (...c: FakeEl[]) => void e.children.push(...c),
      replaceChildren: (...c: FakeEl[]) => void (e.children = c),
    });
    // the page compares a table's markup before replacing it: a serialisation stands in
    const markup = (x: FakeEl): unknown => [x.tag, x.textContent, x.className, x.dataset, x.children.map(markup)];
    Object.defineProperty(e, 'innerHTML', { get: () => JSON.stringify(e.children.map(markup)) });
    return e;
  };
  const byId: Record<string, FakeEl> = {};
  for (const id of ['title', 'updated', 'services', 'nodes', 'heartbeats', 'events']) byId[id] = mk(id);
  let polled = 0;
  const ctx = vm.createContext({
    Node,
    document: { getElementById: (id: string) => byId[id], createElement: mk },
    fetch: async () => (polled++, { ok: true, status: 200, json: async () => doc }),
    setInterval: () => 0,
  });
  vm.runInContext(script, ctx, { filename: 'page.js' });
  for (let i = 0; i < 50 && !/^updated /.test(byId.updated!.textContent); i++) await new Promise((r) => setTimeout(r, 1));
  if (!/^updated /.test(byId.updated!.textContent)) throw new Error(`the page did not draw: ${byId.updated!.textContent}`);
  if (polled !== 1) throw new Error(`polled ${polled} times`);
  return byId;
}

const rowsOf = (table: FakeEl) => table.children[1]!.children;

test('the page script draws a cell per node column, each with its data-node, a stale one included', async (t) => {
  const byId = await drawn({ ...modelOfView(view()), events: [] });
  t.is(byId.title!.textContent, 'ferry lab — n2');
  const head = byId.services!.children[0]!.children[0]!.children.map((c) => c.textContent);
  t.deepEqual(head, ['service', 'placement', 'running on', 'n2', 'n1', 'n3']);
  const [web] = rowsOf(byId.services!);
  t.is(web!.dataset.service, 'web');
  const cells = web!.children.slice(3);
  t.deepEqual(cells.map((c) => c.dataset.node), ['n2', 'n1', 'n3']);
  t.deepEqual(cells.map((c) => [c.textContent, c.className]), [['up', 'st up'], ['stale (up)', 'st stale'], ['', '']]);
  t.is(web!.children[2]!.textContent, 'n2', 'running on');
  t.deepEqual(rowsOf(byId.nodes!).map((r) => r.dataset.node), ['n2', 'n1', 'n3']);
});
