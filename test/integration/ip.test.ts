// ip driver against real namespaces: the driver runs inside namespace `ns` (via driver-run),
// the peer namespace plays the rest of the segment. Addresses are 10.213.0.0/16, private to
// these namespaces.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { requireRoot, sh, uniquePrefix } from '../helpers/env.js';
import { addressesIn, createNetPair } from '../helpers/net-ns.js';
import type { NetPair } from '../helpers/net-ns.js';
import { runDriver } from '../helpers/driver-exec.js';
import type { KeywordValue } from '../../src/vocab/keywords.js';

async function pair(t: ExecutionContext): Promise<NetPair> {
  requireRoot();
  const p = await createNetPair(uniquePrefix('i'));
  t.teardown(() => p.cleanup());
  return p;
}

const ipAction = (p: NetPair, action: 'start' | 'stop' | 'status', kw: Record<string, KeywordValue>) =>
  runDriver({ section: 'ip', kw, action, rid: 'ip#1' }, p.ns);

test('start adds the address and announces it, is idempotent; stop removes it', async (t) => {
  const p = await pair(t);
  const kw = { ipname: '10.213.1.10', ipdev: p.dev, netmask: '255.255.255.0' };
  // the peer believes 10.213.1.10 is some other MAC: the gratuitous ARP must correct it
  await sh('ip', ['-n', p.peerNs, 'addr', 'add', '10.213.1.2/24', 'dev', p.peerDev]);
  await sh('ip', ['-n', p.peerNs, 'neigh', 'replace', '10.213.1.10', 'lladdr', '02:00:00:00:00:99', 'dev', p.peerDev, 'nud', 'stale']);

  t.like(await ipAction(p, 'status', kw), { ok: true, status: { status: 'down', label: `10.213.1.10@${p.dev}`, messages: [] } });
  t.deepEqual(await ipAction(p, 'start', kw), { ok: true });
  t.deepEqual(await addressesIn(p.ns, p.dev), ['10.213.1.10/24']);
  t.like(await ipAction(p, 'status', kw), { ok: true, status: { status: 'up', messages: [] } });

  const mac = JSON.parse((await sh('ip', ['-n', p.ns, '-j', 'link', 'show', 'dev', p.dev])).stdout)[0].address as string;
  const neigh = (await sh('ip', ['-n', p.peerNs, 'neigh', 'show', '10.213.1.10', 'dev', p.peerDev])).stdout;
  t.true(neigh.includes(mac), `peer neighbour entry updated by gratuitous ARP: ${neigh}`);

  // second start: nothing to do, and certainly no duplicate refusal against ourselves
  t.deepEqual(await ipAction(p, 'start', kw), { ok: true });
  t.deepEqual(await addressesIn(p.ns, p.dev), ['10.213.1.10/24']);

  t.deepEqual(await ipAction(p, 'stop', kw), { ok: true });
  t.deepEqual(await addressesIn(p.ns, p.dev), []);
  t.like(await ipAction(p, 'status', kw), { ok: true, status: { status: 'down' } });
  t.deepEqual(await ipAction(p, 'stop', kw), { ok: true });
});

test('duplicate-IP guard: an address answering from the peer is refused and nothing is configured', async (t) => {
  const p = await pair(t);
  await sh('ip', ['-n', p.peerNs, 'addr', 'add', '10.213.2.20/24', 'dev', p.peerDev]);
  const r = await ipAction(p, 'start', { ipname: '10.213.2.20', ipdev: p.dev, netmask: '24' });
  t.false(r.ok);
  t.regex(r.ok ? '' : r.error, /10\.213\.2\.20 already answers on the network/);
  t.deepEqual(await addressesIn(p.ns, p.dev), []);
  // once the peer lets it go, the same start succeeds
  await sh('ip', ['-n', p.peerNs, 'addr', 'del', '10.213.2.20/24', 'dev', p.peerDev]);
  t.deepEqual(await ipAction(p, 'start', { ipname: '10.213.2.20', ipdev: p.dev, netmask: '24' }), { ok: true });
  t.deepEqual(await addressesIn(p.ns, p.dev), ['10.213.2.20/24']);
});

test('netmask defaults to the prefix of a same-subnet address on the device, else start fails', async (t) => {
  const p = await pair(t);
  await sh('ip', ['-n', p.ns, 'addr', 'add', '10.213.3.1/26', 'dev', p.dev]);
  t.deepEqual(await ipAction(p, 'start', { ipname: '10.213.3.10', ipdev: p.dev }), { ok: true });
  t.deepEqual(await addressesIn(p.ns, p.dev), ['10.213.3.1/26', '10.213.3.10/26']);

  const r = await ipAction(p, 'start', { ipname: '10.213.4.10', ipdev: p.dev });
  t.false(r.ok);
  t.regex(r.ok ? '' : r.error, /no netmask given .* set netmask/);
  t.false((await addressesIn(p.ns, p.dev)).some((a) => a.startsWith('10.213.4.10')));
});

test('a missing device is down with a message and start fails; a down device fails start', async (t) => {
  const p = await pair(t);
  const kw = { ipname: '10.213.5.10', ipdev: 'fynosuchdev0', netmask: '24' };
  t.deepEqual(await ipAction(p, 'status', kw), {
    ok: true,
    status: { status: 'down', label: '10.213.5.10@fynosuchdev0', messages: ['device fynosuchdev0 does not exist'] },
  });
  const r = await ipAction(p, 'start', kw);
  t.deepEqual(r, { ok: false, error: 'device fynosuchdev0 does not exist' });
  t.deepEqual(await ipAction(p, 'stop', kw), { ok: true });

  await sh('ip', ['-n', p.ns, 'link', 'set', p.dev, 'down']);
  t.deepEqual(await ipAction(p, 'start', { ...kw, ipdev: p.dev }), { ok: false, error: `device ${p.dev} is down` });
  t.deepEqual(await addressesIn(p.ns, p.dev), []);
});

test('names resolve through the resolver; an unresolvable name is down without a message', async (t) => {
  const p = await pair(t);
  // `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts for the command only
  const etc = path.join('/etc/netns', p.ns);
  fs.mkdirSync(etc, { recursive: true });
  t.teardown(() => fs.rmSync(etc, { recursive: true, force: true }));
  fs.writeFileSync(path.join(etc, 'hosts'), '127.0.0.1 localhost\n10.213.6.10 svc1.ferry.test\n');

  const kw = { name: 'svc1.ferry.test', dev: p.dev, netmask: '24' }; // modern aliases
  t.deepEqual(await ipAction(p, 'start', kw), { ok: true });
  t.deepEqual(await addressesIn(p.ns, p.dev), ['10.213.6.10/24']);
  t.deepEqual(await ipAction(p, 'status', kw), { ok: true, status: { status: 'up', label: `svc1.ferry.test@${p.dev}`, messages: [] } });

  const ghost = { ipname: 'busybox.opensvc.invalid', ipdev: 'eth0' };
  t.deepEqual(await ipAction(p, 'status', ghost), { ok: true, status: { status: 'down', label: 'busybox.opensvc.invalid@eth0', messages: [] } });
  const r = await ipAction(p, 'start', ghost);
  t.false(r.ok);
  t.regex(r.ok ? '' : r.error, /cannot resolve busybox\.opensvc\.invalid/);
});

test('IPv6: added with its prefix, netmask taken from a same-subnet address, duplicate refused via ping', async (t) => {
  const p = await pair(t);
  const v6 = async (ns: string, dev: string) =>
    (JSON.parse((await sh('ip', ['-n', ns, '-6', '-j', 'addr', 'show', 'dev', dev, 'scope', 'global'])).stdout) as { addr_info: { local?: string; prefixlen?: number }[] }[])[0]!.addr_info.filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`);
  t.deepEqual(await ipAction(p, 'start', { ipname: 'fd00:213::10', ipdev: p.dev, netmask: '64' }), { ok: true });
  t.deepEqual(await v6(p.ns, p.dev), ['fd00:213::10/64']);
  t.like(await ipAction(p, 'status', { ipname: 'fd00:213:0:0::10', ipdev: p.dev }), { status: { status: 'up' } });
  await sh('ip', ['-n', p.peerNs, 'addr', 'add', 'fd00:213::20/64', 'dev', p.peerDev, 'nodad']);
  // wait for our side's DAD to finish so the probe has a usable source address
  for (let i = 0; i < 30 && (await sh('ip', ['-n', p.ns, '-6', 'addr', 'show', 'dev', p.dev, 'tentative'])).stdout.trim() !== ''; i++) {
    await new Promise((res) => setTimeout(res, 100));
  }
  const dup = await ipAction(p, 'start', { ipname: 'fd00:213::20', ipdev: p.dev });
  t.false(dup.ok);
  t.regex(dup.ok ? '' : dup.error, /already answers on the network/);
  t.deepEqual(await ipAction(p, 'start', { ipname: 'fd00:213::30', ipdev: p.dev }), { ok: true });
  t.deepEqual((await v6(p.ns, p.dev)).sort(), ['fd00:213::10/64', 'fd00:213::30/64']);
  t.deepEqual(await ipAction(p, 'stop', { ipname: 'fd00:213::10', ipdev: p.dev }), { ok: true });
  t.deepEqual(await v6(p.ns, p.dev), ['fd00:213::30/64']);
});

/** arping processes in a namespace (none may outlive a prepared start) */
async function arpingsIn(ns: string): Promise<string[]> {
  const pids = (await sh('ip', ['netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean);
  return pids.filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'arping';
    } catch {
      return false;
    }
  });
}
const probeEvent = (r: { events?: Record<string, unknown>[] }) => r.events?.find((e) => e.event === 'ip.dup-probe');
const waitNoArping = async (ns: string): Promise<string[]> => {
  const end = Date.now() + 10_000;
  let left = await arpingsIn(ns);
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    left = await arpingsIn(ns);
  }
  return left;
};

test('prepared probe: a start after a full window of rolling probing uses it, and no arping survives', async (t) => {
  const p = await pair(t);
  const kw = { ipname: '10.213.7.10', ipdev: p.dev, netmask: '24' };
  const r = await runDriver({ section: 'ip', kw, action: 'prepared-start', rid: 'ip#1', prepareMs: 500 }, p.ns);
  t.true(r.ok, JSON.stringify(r));
  t.regex(r.prepared ?? '', /rolling duplicate-address probe of 10\.213\.7\.10/);
  t.like(probeEvent(r), { prepared: true, verdict: 'free', windowMs: 200 });
  t.true(Number(probeEvent(r)?.probedMs) >= 200);
  t.deepEqual(r.left, [], 'the start took and killed the prepared probe');
  t.deepEqual(await addressesIn(p.ns, p.dev), ['10.213.7.10/24']);
  t.deepEqual(await waitNoArping(p.ns), []);
});

test('prepared probe: started just before the start, the start waits out the rest of the window on it', async (t) => {
  const p = await pair(t);
  const r = await runDriver({ section: 'ip', kw: { ipname: '10.213.7.11', ipdev: p.dev, netmask: '24' }, action: 'prepared-start', rid: 'ip#1', prepareMs: 0 }, p.ns);
  t.true(r.ok, JSON.stringify(r));
  const ev = probeEvent(r);
  t.like(ev, { prepared: true, verdict: 'free' });
  t.true(Number(ev?.probedMs) >= 200, `probed ${String(ev?.probedMs)} ms`);
  t.deepEqual(await waitNoArping(p.ns), []);
});

test('prepared probe: a holder that appears while the probe rolls makes the start a refused duplicate', async (t) => {
  const p = await pair(t);
  const run = runDriver({ section: 'ip', kw: { ipname: '10.213.7.12', ipdev: p.dev, netmask: '24' }, action: 'prepared-start', rid: 'ip#1', prepareMs: 1_500 }, p.ns);
  // the holder comes up half-way through the preparation (the probe is rolling by then)
  await new Promise((r) => setTimeout(r, 700));
  await sh('ip', ['-n', p.peerNs, 'addr', 'add', '10.213.7.12/24', 'dev', p.peerDev]);
  const r = await run;
  t.false(r.ok);
  t.regex(r.ok ? '' : r.error, /10\.213\.7\.12 already answers on the network/);
  t.like(probeEvent(r), { prepared: true, verdict: 'reply' });
  t.deepEqual(await addressesIn(p.ns, p.dev), []);
  t.deepEqual(await waitNoArping(p.ns), []);
});
