// The control server in-process with small limits, and the client against hostile servers:
// a handler that throws, answers that cannot be sent, the timeout and the connection cap;
// an answer too long, a server that never answers or never closes.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { askDaemon, DaemonUnreachable, streamDaemon } from '../../src/daemon/control-client.js';
import { controlSocketPath, type Response } from '../../src/daemon/control-protocol.js';
import { listenControl, type ControlLimits, type Handler, type StreamAnswer } from '../../src/daemon/control-server.js';
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

// ------------------------------------------------------------------ streams (events --follow)

/** A stream handler whose pushes the test drives. */
function streamer() {
  const pushes = new Set<(text: string) => void>();
  const handler: Handler = async (req) => {
    if (req.op !== 'events') return { ok: true, nodename: 'x' };
    const a: StreamAnswer = { stream: true, first: { ok: true, follow: true }, subscribe: (p) => (pushes.add(p), () => void pushes.delete(p)) };
    return a;
  };
  return { handler, pushes, push: (text: string) => [...pushes].forEach((p) => p(text)) };
}

test('a stream: the answer line, then every pushed line, until the client closes (unsubscribed then)', async (t) => {
  const s = streamer();
  const { paths, server } = await serve(t, s.handler);
  const lines: unknown[] = [];
  let first: Response | undefined;
  const ended = streamDaemon(paths, { op: 'events', follow: true }, (r) => (first = r), (v) => lines.push(v));
  await until('subscribed and answered', () => s.pushes.size === 1 && first !== undefined);
  t.deepEqual(first, { ok: true, follow: true });
  t.is(server.stats().followers, 1);
  s.push('{"n":1}\n{"n":2}\n');
  s.push('{"n":3}\n');
  await until('three lines', () => lines.length === 3);
  t.deepEqual(lines, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  // the server closing ends the stream (close() does not wait for followers)
  await new Promise<void>((r) => server.close(() => r()));
  await ended;
  t.is(s.pushes.size, 0, 'unsubscribed');
});

test('a follower that never reads is dropped once its backlog passes the limit: the pushes never block, the others go on', async (t) => {
  const s = streamer();
  const { paths, server } = await serve(t, s.handler, { maxStreamBacklog: 64 * 1024 });
  // the slow one: connects, asks, never reads
  const slow = net.connect(controlSocketPath(paths), () => slow.write('{"op":"events","follow":true}\n'));
  slow.pause();
  slow.on('error', () => undefined);
  t.teardown(() => slow.destroy());
  let fastLines = 0;
  const fast = streamDaemon(paths, { op: 'events', follow: true }, () => undefined, () => fastLines++);
  await until('two followers', () => s.pushes.size === 2);
  const line = JSON.stringify({ pad: 'x'.repeat(1000) }) + '\n';
  let pushed = 0;
  const t0 = Date.now();
  // far more than the kernel's socket buffer and the limit, in bursts below the limit (the
  // daemon's ring pushes one batch per turn): each push returns at once
  while (server.stats().drops['slow-client'] === undefined && Date.now() - t0 < 20_000) {
    for (let i = 0; i < 16; i++) s.push(line);
    pushed += 16;
    await new Promise((r) => setTimeout(r, 1));
  }
  t.is(server.stats().drops['slow-client'], 1);
  t.is(s.pushes.size, 1, 'the slow one is unsubscribed');
  t.true(pushed * line.length < 64 * 1024 * 1024, `pushed ${pushed} lines before the drop`);
  // the fast one got everything
  await until('the fast follower has every line', () => fastLines === pushed);
  t.deepEqual(await askDaemon(paths, { op: 'ping' }, 5_000), { ok: true, nodename: 'x' });
  await new Promise<void>((r) => server.close(() => r()));
  await fast;
});
