// The HTTP client warm-up the daemon runs when it has arbitrators: it ends, and leaves no listener behind.
import test from 'ava';
import { warmHttpClient } from '../../src/util/warm-http-client.js';

test('the warm-up exchange ends and leaves no server open', async (t) => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
  const t0 = Date.now();
  await warmHttpClient();
  t.true(Date.now() - t0 < 2_000);
  t.is(process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length, before);
});
