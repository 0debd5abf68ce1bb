// The bounded wait of a start for a block device this host still holds (src/resources/device-release.ts),
// over a scripted "is it free" answer; the real EBUSY is tested on a loop device in test/integration/fs.test.ts.
import test from 'ava';
import { waitDeviceReleased } from '../../src/resources/device-release.js';
import { EVENT } from '../../src/events.js';
import { pino } from 'pino';

function memoryLogger() {
  const events: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void events.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines: () => events };
}

test('free at once: no wait, no event', async (t) => {
  const { log, lines } = memoryLogger();
  t.is(await waitDeviceReleased('/dev/x', log, 1000, () => true), 0);
  t.deepEqual(lines(), []);
});

test('released after a few polls: waits, then says how long', async (t) => {
  const { log, lines } = memoryLogger();
  let asked = 0;
  const waited = await waitDeviceReleased('/dev/x', log, 1000, () => ++asked > 3);
  t.true(waited > 0 && waited < 1000);
  t.deepEqual(lines().map((l) => [l.event, l.dev]), [[EVENT.fsDeviceReleased, '/dev/x']]);
});

test('still held past the bound: the start fails with one line', async (t) => {
  const { log } = memoryLogger();
  const t0 = Date.now();
  const e = await t.throwsAsync(() => waitDeviceReleased('/dev/x', log, 60, () => false));
  t.true(Date.now() - t0 >= 60);
  t.is(e?.message, '/dev/x is in use on this host (a mount or an exclusive opener holds it) after waiting 60 ms: refusing to check and mount it');
});
