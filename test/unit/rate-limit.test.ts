import { Readable } from 'node:stream';
import test from 'ava';
import { delayFor, rateLimit } from '../../src/util/rate-limit.js';

test('delayFor: the time the bytes so far take at the rate, less what elapsed', (t) => {
  t.is(delayFor(1_000_000, 1_000_000, 0), 1000);
  t.is(delayFor(1_000_000, 1_000_000, 400), 600);
  t.is(delayFor(1_000_000, 1_000_000, 1500), 0);
  t.is(delayFor(5_000_000, 0, 0), 0, 'no limit');
});

test('rateLimit: 2 MB at 8 MB/s takes about 0.25 s, every byte through, in order', async (t) => {
  const chunks = Array.from({ length: 32 }, (_, i) => Buffer.alloc(65536, i));
  const t0 = Date.now();
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(rateLimit(8_000_000))) out.push(c as Buffer);
  const ms = Date.now() - t0;
  t.true(Buffer.concat(out).equals(Buffer.concat(chunks)));
  // the last chunk waits for the 31 before it: 31 * 65536 / 8e6 s = 254 ms
  t.true(ms >= 240, `${ms} ms`);
  t.true(ms < 5000, `${ms} ms`);
});
