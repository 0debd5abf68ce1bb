// The control socket's line framer (bounded, linear) and drop counters.
import test from 'ava';
import { LineFramer } from '../../src/daemon/control-framer.js';
import { ControlCounters } from '../../src/daemon/control-counters.js';

test('the first line is cut at its newline across chunks; later bytes are dropped', (t) => {
  const f = new LineFramer(100);
  t.deepEqual(f.push(Buffer.from('{"op"')), { kind: 'more' });
  t.is(f.pending, 5);
  t.deepEqual(f.push(Buffer.from(':"ping"}')), { kind: 'more' });
  const r = f.push(Buffer.from('\n{"op":"view"}\n'));
  t.is(r.kind, 'line');
  if (r.kind === 'line') t.is(r.line.toString(), '{"op":"ping"}');
  t.deepEqual(f.push(Buffer.from('more\n')), { kind: 'more' });
  t.is(f.pending, 0);
});

test('a line of exactly the limit passes; one byte more is too long, with or without its newline', (t) => {
  const ok = new LineFramer(10);
  t.deepEqual(ok.push(Buffer.from('x'.repeat(10))), { kind: 'more' });
  const r = ok.push(Buffer.from('\n'));
  t.is(r.kind, 'line');
  if (r.kind === 'line') t.is(r.line.length, 10);
  t.deepEqual(new LineFramer(10).push(Buffer.from('x'.repeat(11) + '\n')), { kind: 'too-long' });
  const slow = new LineFramer(10);
  for (let i = 0; i < 10; i++) t.deepEqual(slow.push(Buffer.from('x')), { kind: 'more' });
  t.deepEqual(slow.push(Buffer.from('x')), { kind: 'too-long' });
  t.is(slow.pending, 0, 'nothing held after the refusal');
});

test('linear: 64 MiB in 64 KiB chunks without a newline is framed fast and held bounded', (t) => {
  const f = new LineFramer(1024 * 1024);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const t0 = process.hrtime.bigint();
  let refusedAt = -1;
  for (let i = 0; i < 1024; i++) {
    if (f.push(chunk).kind === 'too-long' && refusedAt < 0) refusedAt = i;
    t.true(f.pending <= 1024 * 1024);
  }
  t.is(refusedAt, 16, 'refused at the chunk that crosses 1 MiB');
  // a rescan of the held buffer per chunk would be quadratic; this is a few ms (generous bound)
  t.true(Number(process.hrtime.bigint() - t0) / 1e6 < 2_000);
});

test('drop counters: counted by reason; logged first, then once per interval', (t) => {
  const c = new ControlCounters(10_000);
  t.true(c.drop('not-json', 1_000));
  t.false(c.drop('not-json', 2_000));
  t.true(c.drop('timeout', 2_000), 'another reason has its own interval');
  t.false(c.drop('not-json', 10_999));
  t.true(c.drop('not-json', 11_000));
  t.is(c.count('not-json'), 4);
  t.deepEqual(c.snapshot(), { connections: 0, answered: 0, drops: { 'not-json': 4, timeout: 1 } });
});
