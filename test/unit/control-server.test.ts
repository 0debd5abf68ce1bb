// The control server in-process with small limits, and the client against hostile servers:
// a handler that throws, answers that cannot be sent, the timeout and the connection cap;
// an answer too long, a server that never answers or never closes.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { askDaemon, DaemonUnreachable } from '../../src/daemon/control-client.js';
import { controlSocketPath, type Response } from '../../src/daemon/control-protocol.js';
import { listenControl, type ControlLimits, type Handler } from '../../src/daemon/control-server.js';
import { silentLogger } from '../../src/log.js';
import { ferryPaths, type FerryPaths } from '../../src/paths.js';

function scratch(t: ExecutionContext): FerryPaths {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-ctl-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  return ferryPaths({ FERRY_ROOT: root });
}

async function serve(t: ExecutionContext, handler: Handler, limits: Partial<ControlLimits> = {}) {
  const paths = scratch(t);
  const server = await listenControl(controlSocketPath(paths), handler, silentLogger(), limits);
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { paths, server };
}

/** Raw exchange: send bytes, collect until the server closes. */
function raw(socket: string, bytes: Buffer | undefined): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const c = net.connect(socket, () => bytes && c.write(bytes));
    let answer = '';
    c.on('data', (b: Buffer) => (answer += b.toString()));
    c.on('error', () => undefined);
    c.on('close', () => resolve({ answer, ms: Date.now() - t0 }));
  });
}

/** Wait (up to 10 s) for what the server side sees after the client side closed. */
async function until(what: string, f: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ping: Handler = async () => ({ ok: true, nodename: 'x' });

test('a handler that throws (sync or async) or answers what JSON cannot carry: an error answer, the server goes on', async (t) => {
  let mode = 0;
  const { paths, server } = await serve(t, (req) => {
    mode++;
    if (mode === 1) throw new Error('sync boom');
    if (mode === 2) return Promise.reject(new Error('async boom'));
    if (mode === 3) return Promise.resolve({ ok: true, nodename: 10n } as unknown as Response);
    return Promise.resolve({ ok: true, nodename: req.op });
  });
  t.deepEqual(await askDaemon(paths, { op: 'ping' }, 5_000), { ok: false, error: 'sync boom' });
  t.deepEqual(await askDaemon(paths, { op: 'ping' }, 5_000), { ok: false, error: 'async boom' });
  const r = await askDaemon(paths, { op: 'ping' }, 5_000);
  t.false(r.ok);
  t.regex(r.ok ? '' : r.error, /internal error: the answer cannot be sent/);
  t.deepEqual(await askDaemon(paths, { op: 'view' }, 5_000), { ok: true, nodename: 'view' });
  t.is(server.stats().drops['handler-failed'], 2);
});

test('the request line must come within requestTimeoutMs; over maxConnections is refused; counters follow', async (t) => {
  const { paths, server } = await serve(t, ping, { requestTimeoutMs: 400, maxConnections: 3, lingerMs: 300 });
  const socket = controlSocketPath(paths);
  const idle = await raw(socket, undefined);
  t.true(idle.ms >= 350 && idle.ms < 5_000, `${idle.ms} ms`);
  t.regex(idle.answer, /"ok":false.*no complete request line within 400 ms/);
  const holders = [0, 1, 2].map(() => raw(socket, Buffer.from('{"op":')));
  await new Promise((r) => setTimeout(r, 100));
  const over = await raw(socket, Buffer.from('{"op":"ping"}\n'));
  t.regex(over.answer, /too many control connections \(3 open\)/);
  await Promise.all(holders);
  await until('connections closed on the server side', () => server.stats().connections === 0);
  t.deepEqual(JSON.parse((await raw(socket, Buffer.from('{"op":"ping"}\n'))).answer), { ok: true, nodename: 'x' });
  await until('connections closed on the server side', () => server.stats().connections === 0);
  const s = server.stats();
  t.is(s.drops.timeout, 4);
  t.is(s.drops['too-many-connections'], 1);
  t.is(s.connections, 0);
});

test('a client that closes mid-line is counted incomplete; one that sends after its request is not read further', async (t) => {
  const { paths, server } = await serve(t, ping);
  const socket = controlSocketPath(paths);
  await new Promise<void>((resolve) => {
    const c = net.connect(socket, () => c.end('{"op":"pi'));
    c.on('close', () => resolve());
    c.on('error', () => undefined);
  });
  const r = await raw(socket, Buffer.from('{"op":"ping"}\n{"op":"shutdown"}\n' + 'x'.repeat(100_000)));
  t.deepEqual(r.answer.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown), [{ ok: true, nodename: 'x' }]);
  await until('the incomplete client counted', () => server.stats().drops.incomplete === 1);
  t.is(server.stats().drops.incomplete, 1);
  t.is(server.stats().answered, 1);
});

/** A fake daemon doing `onConn` with each client. */
async function fakeDaemon(t: ExecutionContext, onConn: (c: net.Socket) => void): Promise<FerryPaths> {
  const paths = scratch(t);
  fs.mkdirSync(paths.run, { recursive: true });
  const conns = new Set<net.Socket>();
  const server = net.createServer((c) => {
    conns.add(c);
    c.on('error', () => undefined);
    onConn(c);
  });
  await new Promise<void>((r) => server.listen(controlSocketPath(paths), () => r()));
  t.teardown(() => {
    conns.forEach((c) => c.destroy());
    return new Promise<void>((r) => server.close(() => r()));
  });
  return paths;
}

test('client: an answer over its size limit is refused without waiting for the end', async (t) => {
  const big = Buffer.alloc(256 * 1024, 0x61);
  const paths = await fakeDaemon(t, (c) => {
    const iv = setInterval(() => (c.destroyed ? clearInterval(iv) : c.write(big)), 5);
  });
  const t0 = Date.now();
  const e = await t.throwsAsync(askDaemon(paths, { op: 'view' }, 20_000, 1024 * 1024));
  t.regex(e?.message ?? '', /bad answer from the daemon: longer than 1048576 bytes/);
  t.false(e instanceof DaemonUnreachable);
  t.true(Date.now() - t0 < 15_000);
});

test('client: a server that never answers, or dribbles, is given up after the timeout', async (t) => {
  const silent = await fakeDaemon(t, () => undefined);
  const e = await t.throwsAsync(askDaemon(silent, { op: 'ping' }, 300));
  t.true(e instanceof DaemonUnreachable);
  t.regex(e?.message ?? '', /did not answer within 300 ms/);
  const dribble = await fakeDaemon(t, (c) => {
    const iv = setInterval(() => (c.destroyed ? clearInterval(iv) : c.write(' ')), 20);
  });
  const e2 = await t.throwsAsync(askDaemon(dribble, { op: 'ping' }, 300));
  t.true(e2 instanceof DaemonUnreachable);
});

test('client: the first answer line is the answer, even if the server keeps the connection open', async (t) => {
  const paths = await fakeDaemon(t, (c) => c.once('data', () => c.write('{"ok":true,"nodename":"n"}\ntrailing')));
  t.deepEqual(await askDaemon(paths, { op: 'ping' }, 5_000), { ok: true, nodename: 'n' });
  const bad = await fakeDaemon(t, (c) => c.once('data', () => c.end('[1,2]\n')));
  await t.throwsAsync(askDaemon(bad, { op: 'ping' }, 5_000), { message: /bad answer from the daemon \(not a JSON object\)/ });
});

test('client: no daemon on the socket is DaemonUnreachable, as before', async (t) => {
  const paths = scratch(t);
  const e = await t.throwsAsync(askDaemon(paths, { op: 'ping' }, 2_000));
  t.true(e instanceof DaemonUnreachable);
  t.regex(e?.message ?? '', /the daemon is not running \(.*nodemgr\.sock: ENOENT\)/);
});
