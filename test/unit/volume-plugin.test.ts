// The Docker volume plugin without docker: request validation (pure), the answers on real
// volume directories in a temp dir, the hardened listener on a temp unix socket.
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseClusterConfig } from '../../src/cluster/config.js';
import { EVENT } from '../../src/events.js';
import { VolumePlugin, type VolumeEnv } from '../../src/daemon/volume-plugin/plugin.js';
import { notHereProblem, parseRequest, volumeNameProblem, type PluginRequest, type ServicePlace } from '../../src/daemon/volume-plugin/protocol.js';
import { listenPlugin, PLUGIN_LIMITS } from '../../src/daemon/volume-plugin/server.js';
import { readVolume } from '../../src/daemon/volume-plugin/store.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'debug' }, stream), lines };
}

function tmp(t: { teardown(f: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-volplug-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('volume names: one safe path component, bounded', (t) => {
  for (const good of ['pgdata', 'a', 'web_1.data-2', 'A'.repeat(128)]) t.is(volumeNameProblem(good), undefined, good);
  t.regex(volumeNameProblem('a/b') ?? '', /contains "\/"/);
  t.regex(volumeNameProblem('a..b') ?? '', /contains "\.\."/);
  t.regex(volumeNameProblem('..') ?? '', /\.\./);
  t.regex(volumeNameProblem('') ?? '', /empty/);
  t.regex(volumeNameProblem('.hidden') ?? '', /starts with a letter/);
  t.regex(volumeNameProblem('a b') ?? '', /only A-Z/);
  t.regex(volumeNameProblem('x'.repeat(129)) ?? '', /longer than 128/);
  for (const bad of ['a\nb', 'é', '-x', 'a;b']) t.truthy(volumeNameProblem(bad), bad);
});

test('requests: endpoints, bodies and options are checked before anything runs', (t) => {
  t.deepEqual(parseRequest('/Plugin.Activate', ''), { req: { op: 'activate' } });
  t.deepEqual(parseRequest('/VolumeDriver.List', '{}'), { req: { op: 'list' } });
  t.deepEqual(parseRequest('/VolumeDriver.Create', '{"Name":"v","Opts":{"service":"web"}}'), { req: { op: 'create', name: 'v', opts: { service: 'web' } } });
  t.deepEqual(parseRequest('/VolumeDriver.Create', '{"Name":"v","Opts":null}'), { req: { op: 'create', name: 'v', opts: {} } });
  t.deepEqual(parseRequest('/VolumeDriver.Mount', '{"Name":"v","ID":"abc"}'), { req: { op: 'mount', name: 'v', id: 'abc' } });
  t.deepEqual(parseRequest('/VolumeDriver.Get', '{"Name":"v"}'), { req: { op: 'get', name: 'v' } });
  const err = (u: string, b: string) => { const r = parseRequest(u, b); return 'err' in r ? `${r.status} ${r.err}` : 'accepted'; };
  t.regex(err('/VolumeDriver.Nope', '{}'), /^404 unknown endpoint/);
  t.regex(err('/VolumeDriver.Get', 'not json'), /^400 request body is not JSON/);
  t.regex(err('/VolumeDriver.Get', '[1]'), /^400 .*not a JSON object/);
  t.regex(err('/VolumeDriver.Get', '{}'), /^400 missing volume Name/);
  t.regex(err('/VolumeDriver.Remove', '{"Name":"../etc"}'), /^400 bad volume name/);
  t.regex(err('/VolumeDriver.Create', '{"Name":"v","Opts":{"size":"1G"}}'), /^400 unknown option "size" \(known: service\)/);
  t.regex(err('/VolumeDriver.Create', '{"Name":"v","Opts":{"service":1}}'), /^400 option service is not a string/);
  t.regex(err('/VolumeDriver.Mount', `{"Name":"v","ID":"${'x'.repeat(300)}"}`), /^400 bad mount ID/);
  t.regex(err('/constructor', '{}'), /^404/);
});

test('where a service runs: unknown, here, elsewhere, nowhere', (t) => {
  const p = (o: Partial<ServicePlace>): ServicePlace => ({ known: true, here: false, elsewhere: [], ...o });
  t.is(notHereProblem('web', p({ here: true })), undefined);
  t.is(notHereProblem('web', p({ elsewhere: ['n2'] })), 'service web does not run on this node (it runs on n2)');
  t.is(notHereProblem('web', p({})), 'service web does not run on this node (it runs nowhere)');
  t.is(notHereProblem('nosuch', p({ known: false })), 'unknown service "nosuch"');
});

test('[cluster] volume_plugin: off unless set, a bad name is a file:line error', (t) => {
  const base = ['[cluster]', 'name = c', 'nodes = a', `secret = ${'5e'.repeat(32)}`];
  t.is(parseClusterConfig(base.join('\n'), '/etc/cluster.conf', 'a', '/etc').config?.volumePlugin, undefined);
  t.is(parseClusterConfig([...base, 'volume_plugin = ferry'].join('\n'), '/etc/cluster.conf', 'a', '/etc').config?.volumePlugin, 'ferry');
  const bad = parseClusterConfig([...base, 'volume_plugin = ../x'].join('\n'), '/etc/cluster.conf', 'a', '/etc');
  t.is(bad.config, undefined);
  const e = bad.errors.find((x) => x.severity === 'error');
  t.is(e?.line, 5);
  t.regex(e?.message ?? '', /volume_plugin: not a plugin name/);
});

function setup(t: { teardown(f: () => void): void }) {
  const root = tmp(t);
  const places: Record<string, ServicePlace> = {
    web: { known: true, here: true, elsewhere: [] },
    db: { known: true, here: false, elsewhere: ['n2'] },
    bare: { known: true, here: true, elsewhere: [] },
  };
  const dirs: Record<string, string | undefined> = { web: path.join(root, 'web', 'volumes'), db: path.join(root, 'db', 'volumes'), bare: undefined };
  const env: VolumeEnv = {
    services: () => Object.keys(places),
    place: (s) => places[s] ?? { known: false, here: false, elsewhere: [] },
    volumesDir: (s) => dirs[s],
  };
  const { log, lines } = capture();
  const plugin = new VolumePlugin(env, log);
  const ask = (r: PluginRequest) => plugin.answer(r);
  return { root, places, dirs, plugin, ask, lines };
}

test('create, mount, list, get, remove: the volume is a directory on the service\'s volumes_dir', (t) => {
  const { dirs, ask, plugin, lines } = setup(t);
  t.deepEqual(ask({ op: 'activate' }), { Implements: ['VolumeDriver'] });
  t.deepEqual(ask({ op: 'capabilities' }), { Capabilities: { Scope: 'global' } });
  t.deepEqual(ask({ op: 'create', name: 'pg', opts: { service: 'web' } }), { Err: '' });
  const dir = path.join(dirs.web!, 'pg');
  t.true(fs.statSync(dir).isDirectory());
  t.is(readVolume(dirs.web!, 'pg')?.service, 'web');
  t.true(lines.some((l) => l.event === EVENT.volumeCreated && l.volume === 'pg' && l.svc === 'web'));
  t.deepEqual(ask({ op: 'create', name: 'pg', opts: { service: 'web' } }), { Err: '' }, 'twice: idempotent');
  t.deepEqual(ask({ op: 'list' }), { Volumes: [{ Name: 'pg', Mountpoint: dir }], Err: '' });
  t.deepEqual(ask({ op: 'mount', name: 'pg', id: 'c1' }), { Mountpoint: dir, Err: '' });
  t.deepEqual(ask({ op: 'path', name: 'pg' }), { Mountpoint: dir, Err: '' });
  const got = ask({ op: 'get', name: 'pg' }) as { Volume: { Name: string; Mountpoint: string; Status: { service: string; mounts: number } } };
  t.is(got.Volume.Mountpoint, dir);
  t.is(got.Volume.Status.service, 'web');
  t.is(got.Volume.Status.mounts, 1);
  t.regex(String(ask({ op: 'remove', name: 'pg' }).Err), /^volume pg is in use \(1 mount\)$/);
  t.true(fs.existsSync(dir), 'a mounted volume is not removed');
  t.deepEqual(ask({ op: 'unmount', name: 'pg', id: 'c1' }), { Err: '' });
  t.deepEqual(plugin.mountsOf('pg'), []);
  t.deepEqual(ask({ op: 'remove', name: 'pg' }), { Err: '' });
  t.false(fs.existsSync(dir));
  t.regex(String(ask({ op: 'get', name: 'pg' }).Err), /volume pg not found/);
});

test('refusals: no service, unknown service, not here, no volumes_dir, taken name, not ours', (t) => {
  const { root, dirs, ask, places, lines } = setup(t);
  t.is(ask({ op: 'create', name: 'v', opts: {} }).Err, 'volume v: give its service (-o service=<svc>)');
  t.is(ask({ op: 'create', name: 'v', opts: { service: 'nosuch' } }).Err, 'unknown service "nosuch"');
  t.is(ask({ op: 'create', name: 'v', opts: { service: 'db' } }).Err, 'service db does not run on this node (it runs on n2)');
  t.is(ask({ op: 'create', name: 'v', opts: { service: 'bare' } }).Err, 'service bare has no volumes_dir ([DEFAULT] volumes_dir): it cannot hold volumes');
  t.false(fs.existsSync(path.join(root, 'db')), 'nothing created');
  t.true(lines.some((l) => l.event === EVENT.volumeRefused && l.op === 'create'));
  // a volume of a service that moved away: mount refused, where it runs said
  places.db = { known: true, here: true, elsewhere: [] };
  t.is(ask({ op: 'create', name: 'dbv', opts: { service: 'db' } }).Err, '');
  t.is(ask({ op: 'create', name: 'dbv', opts: { service: 'web' } }).Err, 'volume dbv already belongs to service db');
  places.db = { known: true, here: false, elsewhere: ['n2'] };
  t.is(ask({ op: 'mount', name: 'dbv', id: 'x' }).Err, 'service db does not run on this node (it runs on n2)');
  t.is(ask({ op: 'remove', name: 'dbv' }).Err, 'service db does not run on this node (it runs on n2)');
  t.true(fs.existsSync(path.join(dirs.db!, 'dbv')));
  t.deepEqual(ask({ op: 'list' }), { Volumes: [], Err: '' }, 'only the volumes of services running here');
  // a directory without our metadata (or a symlink) is not a volume and is never removed
  fs.mkdirSync(path.join(dirs.web!, 'foreign'), { recursive: true });
  fs.symlinkSync('/etc', path.join(dirs.web!, 'link'));
  t.regex(String(ask({ op: 'remove', name: 'foreign' }).Err), /not found/);
  t.regex(String(ask({ op: 'mount', name: 'link', id: 'x' }).Err), /not found/);
  t.true(fs.existsSync(path.join(dirs.web!, 'foreign')));
  t.regex(String(ask({ op: 'create', name: 'foreign', opts: { service: 'web' } }).Err), /foreign exists and is not a ferry volume$/);
});

function post(socket: string, url: string, body: string | Buffer, method = 'POST'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: url, method, headers: { 'content-type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the listener: JSON answers, bounded body, POST only, the socket removed at close', async (t) => {
  const { root, ask } = setup(t);
  const socket = path.join(root, 'p.sock');
  const { log, lines } = capture();
  const l = await listenPlugin(socket, ask, log);
  let closed = false;
  t.teardown(async () => { if (!closed) await l.close(); });
  const a = await post(socket, '/Plugin.Activate', '');
  t.is(a.status, 200);
  t.is(a.type, 'application/vnd.docker.plugins.v1+json');
  t.deepEqual(JSON.parse(a.body), { Implements: ['VolumeDriver'] });
  t.deepEqual(JSON.parse((await post(socket, '/VolumeDriver.Create', '{"Name":"v1","Opts":{"service":"web"}}')).body), { Err: '' });
  const bad = await post(socket, '/VolumeDriver.Create', '{"Name":"a/b","Opts":{"service":"web"}}');
  t.is(bad.status, 400);
  t.regex((JSON.parse(bad.body) as { Err: string }).Err, /contains "\/"/);
  t.true(lines.some((x) => x.event === EVENT.volumeRefused));
  // a refusal of the plugin itself: an error status and its Err (podman reads Err only then)
  const refused = await post(socket, '/VolumeDriver.Create', '{"Name":"v2","Opts":{"service":"nosuch"}}');
  t.is(refused.status, 500);
  t.deepEqual(JSON.parse(refused.body), { Err: 'unknown service "nosuch"' });
  t.is((await post(socket, '/VolumeDriver.Nope', '{}')).status, 404);
  t.is((await post(socket, '/Plugin.Activate', '', 'GET')).status, 405);
  const big = await post(socket, '/VolumeDriver.Get', Buffer.alloc(PLUGIN_LIMITS.bodyBytes + 10, 0x20)).catch(() => ({ status: 413, body: '', type: '' }));
  t.is(big.status, 413);
  // still serving after all that
  t.is((await post(socket, '/VolumeDriver.List', '{}')).status, 200);
  // a second listener on a served socket is refused; a stale socket file is replaced
  await t.throwsAsync(listenPlugin(socket, ask, log), { message: /served by another process/ });
  await l.close();
  closed = true;
  t.false(fs.existsSync(socket));
  fs.writeFileSync(path.join(root, 'file.sock'), '');
  await t.throwsAsync(listenPlugin(path.join(root, 'file.sock'), ask, log), { message: /not a socket/ });
});
