// The state channel over real TCP on 127.0.0.1: framing limits, the handshake (wrong secret,
// unknown node, other cluster refused), frames that are replayed, reordered or tampered with
// refused, garbage and silent connections dropped and counted, and a good peer still served.
import crypto from 'node:crypto';
import net from 'node:net';
import test from 'ava';
import type { ChannelKeys } from '../../src/statechan/crypto.js';
import { deriveChannelKeys, FrameCipher } from '../../src/statechan/crypto.js';
import type { CloseReason } from '../../src/statechan/connection.js';
import { SecureConn } from '../../src/statechan/connection.js';
import { stateItems } from '../../src/statechan/facts.js';
import { encodeFrame, FRAME_MAX, FrameError, FrameReader, HANDSHAKE_FRAME_MAX } from '../../src/statechan/framing.js';
import { MSG } from '../../src/statechan/protocol.js';
import { Puller } from '../../src/statechan/puller.js';
import { ChannelServer, emptyChanDrops } from '../../src/statechan/server.js';
import { StateStore } from '../../src/statechan/store.js';
import { bigState } from '../helpers/node-states.js';

const SECRET = '5a'.repeat(32);
const NODES = ['n1', 'n2'];
const keys = deriveChannelKeys(SECRET, 'lab');
const quiet = (): void => undefined;

async function startServer(t: import('ava').ExecutionContext, services = 10, timeouts = { handshakeMs: 2000, idleMs: 10_000 }) {
  const store = new StateStore('100');
  store.update(stateItems(bigState(services)));
  const drops = emptyChanDrops();
  const server = new ChannelServer({ keys, self: 'n1', nodes: NODES, store, log: quiet, drops, timeouts });
  t.true(await server.listen('127.0.0.1', 0));
  t.teardown(() => server.close());
  return { store, drops, server, port: server.addresses()[0]!.port };
}

const until = async (what: string, f: () => boolean, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

function puller(port: number, k: ChannelKeys = keys, self = 'n2') {
  const drops = emptyChanDrops();
  let updates = 0;
  const p = new Puller({ keys: k, self, peer: 'n1', nodes: NODES, log: quiet, drops, onUpdate: () => updates++ });
  p.setRoutes([{ hb: 'hb#1', addr: '127.0.0.1', port }]);
  return { p, drops, updates: () => updates };
}

/** A client connection whose raw writes are recorded, to replay or alter them. */
async function rawClient(port: number, k: ChannelKeys = keys, self = 'n2') {
  const socket = net.connect({ host: '127.0.0.1', port });
  const written: Buffer[] = [];
  const write = socket.write.bind(socket) as (b: Buffer) => boolean;
  socket.write = ((b: Buffer) => (written.push(Buffer.from(b)), write(b))) as typeof socket.write;
  const messages: number[] = [];
  let closed: CloseReason | undefined;
  let ready = false;
  const conn = new SecureConn(socket, {
    keys: k, self, nodes: NODES, role: 'client', expectPeer: 'n1', handshakeTimeoutMs: 5000, idleTimeoutMs: 10_000,
    onReady: () => (ready = true), onMessage: (type) => messages.push(type), onClose: (r) => (closed = r),
  });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  conn.startClient();
  return { socket, conn, written, messages, raw: write, ready: () => ready, closed: () => closed };
}

test('frames: split and joined reads, the limit refused before buffering', (t) => {
  const r = new FrameReader(100);
  const a = encodeFrame(Buffer.from('hello'));
  const b = encodeFrame(Buffer.from('world!'));
  const both = Buffer.concat([a, b]);
  t.deepEqual(r.push(both.subarray(0, 3)), []);
  t.deepEqual(r.push(both.subarray(3, 12)).map(String), ['hello']);
  t.deepEqual(r.push(both.subarray(12)).map(String), ['world!']);
  t.is(r.pending, 0);
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(101, 0);
  t.throws(() => r.push(huge), { instanceOf: FrameError });
  t.is(new FrameReader().limit, HANDSHAKE_FRAME_MAX);
  t.throws(() => encodeFrame(Buffer.alloc(FRAME_MAX + 1)));
  // byte by byte (the length prefix itself split), then a large frame in many reads
  const r2 = new FrameReader(FRAME_MAX);
  const got: Buffer[] = [];
  for (const byte of both) got.push(...r2.push(Buffer.from([byte])));
  t.deepEqual(got.map(String), ['hello', 'world!']);
  const big = crypto.randomBytes(8 * 1024 * 1024);
  const wire = encodeFrame(big);
  const parts: Buffer[] = [];
  for (let i = 0; i < wire.length; i += 65536) parts.push(...r2.push(wire.subarray(i, i + 65536)));
  t.is(parts.length, 1);
  t.true(parts[0]!.equals(big));
});

test('frame cipher: in order only; a replayed, reordered or altered frame fails', (t) => {
  const key = crypto.randomBytes(32);
  const tx = new FrameCipher(key, 1);
  const f1 = tx.seal(Buffer.from('one'));
  const f2 = tx.seal(Buffer.from('two'));
  const rx = new FrameCipher(key, 1);
  t.is(String(rx.open(f1)), 'one');
  t.is(rx.open(f1), undefined, 'replayed');
  t.is(new FrameCipher(key, 1).open(f2), undefined, 'reordered: second frame first');
  const bad = Buffer.from(f2);
  bad[0]! ^= 1;
  const rx2 = new FrameCipher(key, 1);
  rx2.open(f1);
  t.is(rx2.open(bad), undefined, 'tampered');
  t.is(new FrameCipher(key, 2).open(f1), undefined, 'the other direction');
});

test('a peer pulls a snapshot of 2000 services, then only what changed', async (t) => {
  const { store, server, port } = await startServer(t, 2000);
  const { p, updates } = puller(port);
  t.teardown(() => p.stop());
  p.announce(store.mark);
  await until('first sync', () => p.synced);
  t.is(p.replica.size, 2000);
  const s = bigState(2000);
  s.services.svc00042!.avail = 'down';
  store.update(stateItems(s));
  p.announce(store.mark);
  t.false(p.synced, 'behind the new generation until pulled');
  await until('delta sync', () => p.synced);
  t.is(updates(), 2);
  t.is(server.served, 2);
  t.is((p.replica.values.get('s:svc00042') as { avail: string }).avail, 'down');
});

test('wrong secret: refused both ways (server proof, client proof), counted, nothing learned', async (t) => {
  const { store, drops, port } = await startServer(t);
  const wrong = deriveChannelKeys('00'.repeat(32), 'lab');
  const { p, drops: pd } = puller(port, wrong);
  t.teardown(() => p.stop());
  p.announce(store.mark);
  await until('client refuses the server proof', () => pd.forged > 0);
  t.false(p.synced);
  t.is(p.replica.size, 0);
  // a client that answers the server's reply with a made-up proof
  const c = await rawClient(port);
  const { socket } = c;
  socket.removeAllListeners('data');
  socket.once('data', () => c.raw(encodeFrame(Buffer.concat([Buffer.from([0x12]), Buffer.from(JSON.stringify({ p: crypto.randomBytes(32).toString('hex') }))]))));
  await until('server refuses the client proof', () => drops.forged > 0);
  t.is(drops.forged, 1);
});

test('another cluster and a node not in the cluster are refused', async (t) => {
  const { store, drops, port } = await startServer(t);
  const other = puller(port, deriveChannelKeys(SECRET, 'other'));
  t.teardown(() => other.p.stop());
  other.p.announce(store.mark);
  await until('foreign', () => drops.foreign > 0);
  const mallory = puller(port, keys, 'mallory');
  t.teardown(() => mallory.p.stop());
  mallory.p.announce(store.mark);
  await until('unknown', () => drops.unknown > 0);
  t.false(other.p.synced);
  t.false(mallory.p.synced);
});

test('a replayed or tampered frame ends the connection; the server keeps serving', async (t) => {
  const { store, drops, port } = await startServer(t);
  for (const mode of ['replay', 'tamper'] as const) {
    const c = await rawClient(port);
    await until('handshake', c.ready);
    const before = c.written.length;
    c.conn.send(MSG.PING, Buffer.alloc(0));
    await until('pong', () => c.messages.includes(MSG.PONG));
    const frame = Buffer.from(c.written[before]!);
    if (mode === 'tamper') frame[frame.length - 1]! ^= 0x80;
    c.raw(frame);
    await until(`${mode} refused`, () => c.closed() !== undefined);
  }
  t.is(drops.forged, 2);
  const good = puller(port);
  t.teardown(() => good.p.stop());
  good.p.announce(store.mark);
  await until('a good peer still syncs', () => good.p.synced);
});

test('garbage, oversized and silent connections are dropped and counted', async (t) => {
  const { store, drops, port } = await startServer(t, 10, { handshakeMs: 300, idleMs: 10_000 });
  const send = (b: Buffer) => new Promise<void>((r) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(b));
    s.on('error', () => r());
    s.on('close', () => r());
  });
  await send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await send(encodeFrame(Buffer.from('\x10not json at all')));
  await send(Buffer.alloc(0));
  await until('counted', () => drops.oversize === 1 && drops.malformed === 1 && drops.timeout === 1);
  const good = puller(port);
  t.teardown(() => good.p.stop());
  good.p.announce(store.mark);
  await until('still serving', () => good.p.synced);
  t.pass();
});

test('40 connections of random bytes: each dropped and counted, the server keeps serving', async (t) => {
  const { store, drops, port } = await startServer(t, 10, { handshakeMs: 300, idleMs: 10_000 });
  const total = () => Object.values(drops).reduce((a, b) => a + b, 0);
  for (let i = 0; i < 40; i++) {
    const bytes = crypto.randomBytes(1 + crypto.randomInt(0, 6000));
    // some start like a frame of a plausible size, to get past the length check
    if (i % 2 === 0) bytes.writeUInt32BE(Math.min(bytes.length - 4, crypto.randomInt(0, 4096)), 0);
    await new Promise<void>((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => s.write(bytes));
      s.on('error', () => r());
      s.on('close', () => r());
    });
  }
  await until('all counted', () => total() === 40);
  const good = puller(port);
  t.teardown(() => good.p.stop());
  good.p.announce(store.mark);
  await until('still serving', () => good.p.synced);
  t.log(JSON.stringify(drops));
});
