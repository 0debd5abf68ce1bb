// ip driver keywords at the link level, against real namespaces (test/helpers/net-ns.ts):
// check_carrier, gateway, alias, and type netns (the address inside a real container's
// network namespace). Addresses are 10.213.0.0/16, private to these namespaces.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { makeFerryRoot, requireRoot, runCli, sh, testImage, uniquePrefix } from '../helpers/env.js';
import { addressesIn, createNetPair } from '../helpers/net-ns.js';
import type { NetPair } from '../helpers/net-ns.js';
import { runDriver } from '../helpers/driver-exec.js';
import type { KeywordValue } from '../../src/vocab/keywords.js';

async function pair(t: ExecutionContext): Promise<NetPair> {
  requireRoot();
  const p = await createNetPair(uniquePrefix('l'));
  t.teardown(() => p.cleanup());
  return p;
}

const ipAction = (p: NetPair, action: 'start' | 'stop' | 'status', kw: Record<string, KeywordValue>, extra: { type?: string; rid?: string; svcname?: string } = {}) =>
  runDriver({ section: 'ip', kw, action, rid: extra.rid ?? 'ip#1', ...(extra.type ? { type: extra.type } : {}), ...(extra.svcname ? { svcname: extra.svcname } : {}) }, p.ns);

test('check_carrier: a link without carrier is down with a message and refuses a start; off, the address stays up', async (t) => {
  const p = await pair(t);
  const kw = { ipname: '10.213.11.10', ipdev: p.dev, netmask: '24' };
  t.deepEqual(await ipAction(p, 'start', kw), { ok: true });
  t.like(await ipAction(p, 'status', kw), { status: { status: 'up', messages: [] } });
  // the far end of the veth goes down: our end loses its carrier, the address stays configured
  await sh('ip', ['-n', p.peerNs, 'link', 'set', p.peerDev, 'down']);
  t.deepEqual(await ipAction(p, 'status', kw), {
    ok: true,
    status: { status: 'down', label: `10.213.11.10@${p.dev}`, messages: [`no carrier on ${p.dev} (operstate down)`] },
  });
  t.deepEqual(await addressesIn(p.ns, p.dev), ['10.213.11.10/24']);
  t.deepEqual(await ipAction(p, 'start', { ...kw, ipname: '10.213.11.11' }), { ok: false, error: `no carrier on ${p.dev} (operstate down)` });
  t.like(await ipAction(p, 'status', { ...kw, check_carrier: false }), { status: { status: 'up', messages: [] } });
  // the carrier comes back: up again
  await sh('ip', ['-n', p.peerNs, 'link', 'set', p.peerDev, 'up']);
  t.like(await ipAction(p, 'status', kw), { status: { status: 'up', messages: [] } });
  t.deepEqual(await ipAction(p, 'stop', kw), { ok: true });
});

const defaultRoutes = async (ns: string): Promise<string[]> =>
  (JSON.parse((await sh('ip', ['-n', ns, '-4', '-j', 'route', 'show', 'default'])).stdout || '[]') as { gateway?: string; dev?: string }[]).map((r) => `${r.gateway}@${r.dev}`);

test('gateway: the default route comes with the address and goes with it', async (t) => {
  const p = await pair(t);
  await sh('ip', ['-n', p.peerNs, 'addr', 'add', '10.213.12.1/24', 'dev', p.peerDev]);
  const kw = { ipname: '10.213.12.10', ipdev: p.dev, netmask: '24', gateway: '10.213.12.1' };
  t.deepEqual(await defaultRoutes(p.ns), []);
  t.deepEqual(await ipAction(p, 'start', kw), { ok: true });
  t.deepEqual(await defaultRoutes(p.ns), [`10.213.12.1@${p.dev}`]);
  t.like(await ipAction(p, 'status', kw), { status: { status: 'up', messages: [] } });
  // the route removed behind our back: warn
  await sh('ip', ['-n', p.ns, 'route', 'del', 'default']);
  t.like(await ipAction(p, 'status', kw), { status: { status: 'warn', messages: [`default route via 10.213.12.1 is missing on ${p.dev}`] } });
  t.deepEqual(await ipAction(p, 'start', kw), { ok: true });
  t.deepEqual(await defaultRoutes(p.ns), [`10.213.12.1@${p.dev}`]);
  t.deepEqual(await ipAction(p, 'stop', kw), { ok: true });
  t.deepEqual(await defaultRoutes(p.ns), []);
  t.deepEqual(await addressesIn(p.ns, p.dev), []);
  // a gateway of the other family is refused before anything is added
  const r = await ipAction(p, 'start', { ...kw, gateway: 'fd00:213::1' });
  t.deepEqual(r, { ok: false, error: 'gateway fd00:213::1 is not an IPv4 address like 10.213.12.10' });
  t.deepEqual(await addressesIn(p.ns, p.dev), []);
});

test('alias: addresses labelled dev:0, dev:1; without alias the label is the device', async (t) => {
  const p = await pair(t);
  const labels = async () =>
    (JSON.parse((await sh('ip', ['-n', p.ns, '-4', '-j', 'addr', 'show', 'dev', p.dev])).stdout) as { addr_info: { local: string; label?: string }[] }[])[0]!.addr_info.map((a) => `${a.local}=${a.label}`);
  t.deepEqual(await ipAction(p, 'start', { ipname: '10.213.13.10', ipdev: p.dev, netmask: '24', alias: true }), { ok: true });
  t.deepEqual(await ipAction(p, 'start', { ipname: '10.213.13.11', ipdev: p.dev, netmask: '24', alias: true }), { ok: true });
  t.deepEqual(await ipAction(p, 'start', { ipname: '10.213.13.12', ipdev: p.dev, netmask: '24' }), { ok: true });
  t.deepEqual(await labels(), [`10.213.13.10=${p.dev}:0`, `10.213.13.11=${p.dev}:1`, `10.213.13.12=${p.dev}`]);
  t.deepEqual(await ipAction(p, 'stop', { ipname: '10.213.13.10', ipdev: p.dev, alias: true }), { ok: true });
  // the freed label is the next one given
  t.deepEqual(await ipAction(p, 'start', { ipname: '10.213.13.13', ipdev: p.dev, netmask: '24', alias: true }), { ok: true });
  t.true((await labels()).includes(`10.213.13.13=${p.dev}:0`));
});

test('type netns: the address lives in the container\'s namespace on a macvlan of ipdev, reachable from the segment, gone after stop', async (t) => {
  const p = await pair(t);
  const svc = uniquePrefix('ipn');
  const name = `${svc}.container.1`;
  t.teardown(async () => void (await sh('docker', ['rm', '-f', name], { reject: false })));
  await sh('docker', ['run', '-d', '--name', name, '--network', 'none', '--label', `ferry.svc=${svc}`, '--label', 'ferry.rid=container#1', '--label', 'ferry.node=node1', testImage, 'sleep', '600']);
  const pid = (await sh('docker', ['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim();
  const inside = async () => {
    const r = await sh('nsenter', ['-t', pid, '-n', '--', 'ip', '-4', '-j', 'addr', 'show'], { reject: false });
    return (JSON.parse(r.stdout || '[]') as { ifname: string; addr_info: { local: string; prefixlen: number }[] }[]).flatMap((l) => l.addr_info.map((a) => `${l.ifname}:${a.local}/${a.prefixlen}`));
  };
  await sh('ip', ['-n', p.peerNs, 'addr', 'add', '10.213.14.1/24', 'dev', p.peerDev]);
  const kw = { ipname: '10.213.14.10', ipdev: p.dev, netmask: '24', netns: 'container#1', gateway: '10.213.14.1' };
  const opts = { type: 'netns', rid: 'ip#2', svcname: svc };
  t.like(await ipAction(p, 'status', kw, opts), { status: { status: 'down', label: '10.213.14.10@container#1' } });
  t.deepEqual(await ipAction(p, 'start', kw, opts), { ok: true });
  t.deepEqual(await inside(), ['lo:127.0.0.1/8', 'eth2:10.213.14.10/24']);
  t.deepEqual(await addressesIn(p.ns, p.dev), [], 'nothing on the host side');
  const routes = (await sh('nsenter', ['-t', pid, '-n', '--', 'ip', '-4', 'route', 'show', 'default'])).stdout;
  t.regex(routes, /default via 10\.213\.14\.1 dev eth2/);
  t.like(await ipAction(p, 'status', kw, opts), { status: { status: 'up', messages: [] } });
  // the segment reaches the container through the macvlan
  t.is((await sh('ip', ['netns', 'exec', p.peerNs, 'ping', '-c', '1', '-W', '2', '10.213.14.10'], { reject: false })).exitCode, 0);
  t.deepEqual(await ipAction(p, 'start', kw, opts), { ok: true }, 'idempotent');
  t.deepEqual(await ipAction(p, 'stop', kw, opts), { ok: true });
  t.deepEqual(await inside(), ['lo:127.0.0.1/8']);
  t.like(await ipAction(p, 'status', kw, opts), { status: { status: 'down' } });
  // the container gone: stop has nothing to do, start says why it cannot
  await sh('docker', ['rm', '-f', name]);
  t.deepEqual(await ipAction(p, 'stop', kw, opts), { ok: true });
  const r = await ipAction(p, 'start', kw, opts);
  t.deepEqual(r, { ok: false, error: 'netns container#1: no running container for it (it must start first)' });
});

test('a service with a container and an ip of type netns: the ip starts after the container and stops before it', async (t) => {
  const p = await pair(t);
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const svc = uniquePrefix('ipsvc');
  const name = `${svc}.container.1`;
  t.teardown(async () => void (await sh('docker', ['rm', '-f', name], { reject: false })));
  fs.writeFileSync(path.join(root.services, `${svc}.env`), [
    '[DEFAULT]', 'nodes = node1', '',
    '[ip#1]', 'type = netns', 'netns = container#1', `ipdev = ${p.dev}`, 'ipname = 10.213.15.10', 'netmask = 24', '',
    '[container#1]', 'type = docker', `run_image = ${testImage}`, 'run_args = --network none',
    `run_command = /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait"`, 'stop_timeout = 5s', '',
  ].join('\n'));
  const inNs = { wrap: (cmd: string, args: string[]): [string, string[]] => ['ip', ['netns', 'exec', p.ns, cmd, ...args]] };
  const start = await runCli('svcmgr', ['-s', svc, 'start'], root.env, inNs);
  t.is(start.exitCode, 0, start.stderr);
  const pid = (await sh('docker', ['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim();
  const addrs = (await sh('nsenter', ['-t', pid, '-n', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1'])).stdout;
  t.regex(addrs, /inet 10\.213\.15\.10\/24/);
  const st = await runCli('svcmgr', ['-s', svc, 'print', 'status', '--format', 'json'], root.env, inNs);
  t.is(st.exitCode, 0, st.stderr);
  t.is((JSON.parse(st.stdout) as { avail: string }).avail, 'up');
  const stop = await runCli('svcmgr', ['-s', svc, 'stop'], root.env, inNs);
  t.is(stop.exitCode, 0, stop.stderr);
  // the ip found the container still running and took its address away itself
  const logText = fs.readFileSync(path.join(root.root, 'log', `${svc}.log`), 'utf8');
  const lines = logText.trim().split('\n').map((l) => JSON.parse(l) as { rid?: string; msg?: string });
  t.true(lines.some((l) => l.rid === 'ip#1' && l.msg === 'removed 10.213.15.10/24 from eth1'), 'ip#1 stopped while its container ran');
  t.is((await sh('docker', ['ps', '-q', '--filter', `name=^${name}$`])).stdout.trim(), '');
});
