// The heartbeat envelope: only authentic, fresh messages of our cluster get through, and each
// refusal is classified.
import test from 'ava';
import { deriveKey, newIncarnation, open, ReplayGuard, seal } from '../../src/heartbeat/envelope.js';
import type { OpenResult } from '../../src/heartbeat/envelope.js';

const SECRET = 'ab'.repeat(32);
const ctx = deriveKey(SECRET, 'prod');
const nodes = ['n1', 'n2', 'n3'];
const at = (self: string, hb = 'hb#1') => ({ self, nodes, hb });
const msg = (over: Partial<{ seq: bigint; incarnation: bigint; sender: string; hb: string; kind: 'beat' | 'leaving' }> = {}, payload = '{"a":1}', k = ctx) =>
  seal(k, { kind: 'beat', incarnation: 1000n, seq: 1n, sender: 'n1', hb: 'hb#1', ...over }, Buffer.from(payload));
const reason = (r: OpenResult) => (r.ok ? 'ok' : r.reason);

test('round trip: header and payload come back', (t) => {
  const r = open(ctx, at('n2'), msg({ seq: 7n, kind: 'leaving' }, '{"svc":{"x":"up"}}'));
  t.true(r.ok);
  if (!r.ok) return;
  t.is(r.header.sender, 'n1');
  t.is(r.header.seq, 7n);
  t.is(r.header.incarnation, 1000n);
  t.is(r.header.kind, 'leaving');
  t.is(r.payload.toString(), '{"svc":{"x":"up"}}');
});

test('the payload is not readable on the wire', (t) => {
  const m = msg({}, '{"secretvalue":"visible?"}');
  t.false(m.toString('latin1').includes('secretvalue'));
});

test('any flipped bit in header, nonce, body or tag is forged (or malformed/foreign/unknown if it breaks the clear header)', (t) => {
  const m = msg();
  for (let i = 0; i < m.length; i++) {
    const bad = Buffer.from(m);
    bad[i] = bad[i]! ^ 0x01;
    const r = reason(open(ctx, at('n2'), bad));
    t.not(r, 'ok', `byte ${i}`);
  }
  // a body byte specifically
  const bad = Buffer.from(m);
  bad[m.length - 20] = bad[m.length - 20]! ^ 0xff;
  t.is(reason(open(ctx, at('n2'), bad)), 'forged');
  // the seq in the clear header is authenticated too
  const seqBad = Buffer.from(m);
  seqBad[29] = seqBad[29]! ^ 0x01;
  t.is(reason(open(ctx, at('n2'), seqBad)), 'forged');
});

test('wrong secret: forged', (t) => {
  const other = deriveKey('cd'.repeat(32), 'prod');
  t.is(reason(open(ctx, at('n2'), msg({}, '{}', other))), 'forged');
});

test('another cluster (even with the same secret): foreign', (t) => {
  const other = deriveKey(SECRET, 'staging');
  t.is(reason(open(ctx, at('n2'), msg({}, '{}', other))), 'foreign');
});

test('garbage, truncation and empty datagrams: malformed', (t) => {
  t.is(reason(open(ctx, at('n2'), Buffer.from('hello world, this is not a heartbeat at all.......'))), 'malformed');
  t.is(reason(open(ctx, at('n2'), Buffer.alloc(0))), 'malformed');
  t.is(reason(open(ctx, at('n2'), msg().subarray(0, 40))), 'malformed');
});

test('own messages and non-members: unknown', (t) => {
  t.is(reason(open(ctx, at('n1'), msg())), 'unknown');
  t.is(reason(open(ctx, at('n2'), msg({ sender: 'intruder' }))), 'unknown');
});

test('a message sealed for another heartbeat is a replay', (t) => {
  t.is(reason(open(ctx, at('n2', 'hb#2'), msg({ hb: 'hb#1' }))), 'replayed');
});

test('replay guard: same or older seq refused, newer incarnation accepted, older incarnation refused', (t) => {
  const g = new ReplayGuard();
  const h = (incarnation: bigint, seq: bigint) => {
    const r = open(ctx, at('n2'), msg({ incarnation, seq }));
    if (!r.ok) throw new Error('open failed');
    return r.header;
  };
  t.true(g.accept(h(1000n, 1n)));
  t.true(g.accept(h(1000n, 2n)));
  t.false(g.accept(h(1000n, 2n)), 'exact replay');
  t.false(g.accept(h(1000n, 1n)), 'older seq');
  t.true(g.accept(h(2000n, 1n)), 'restarted node, seq starts over');
  t.false(g.accept(h(1000n, 99n)), 'previous incarnation, however high its seq');
  t.true(g.accept(h(2000n, 2n)));
});

test('incarnations grow across restarts', (t) => {
  const a = newIncarnation();
  const b = newIncarnation(a);
  t.true(b > a);
  t.true(a > BigInt(Date.now() - 1000) << 16n);
});
