// sync#i0 against the peers' sums the daemon wrote (src/resources/config-sync-status.ts):
// up when every live peer holds the local bytes, warn naming the others; a file left by a
// daemon that is gone is not current (local check only).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { CONFIG_PEERS_FILE, configSyncStatus } from '../../src/resources/config-sync-status.js';
import { ferryPaths, serviceVarDir } from '../../src/paths.js';
import { makeFerryRoot } from '../helpers/env.js';

test('up when the live peers hold the same sum, warn naming the nodes that differ, local only without a daemon', async (t) => {
  const r = makeFerryRoot();
  t.teardown(() => r.cleanup());
  const paths = ferryPaths({ FERRY_ROOT: r.root });
  const src = path.join(paths.services, 'web.env');
  fs.writeFileSync(src, '[DEFAULT]\nnodes = n1 n2 n3\n');
  const sum = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex');
  const write = (pid: number, peers: Record<string, string | null>) => {
    fs.mkdirSync(serviceVarDir(paths, 'web'), { recursive: true });
    fs.writeFileSync(path.join(serviceVarDir(paths, 'web'), CONFIG_PEERS_FILE), JSON.stringify({ pid, node: 'n1', peers }));
  };
  t.is((await configSyncStatus(paths, 'web', src, 'l')).status, 'up', 'no daemon file: the local file is readable');
  write(process.pid, { n2: sum, n3: sum });
  t.is((await configSyncStatus(paths, 'web', src, 'l')).status, 'up');
  write(process.pid, { n2: sum, n3: 'b'.repeat(64) });
  const w = await configSyncStatus(paths, 'web', src, 'l');
  t.is(w.status, 'warn');
  t.regex(w.messages[0]!, /^config differs on n3 \(bbbbbbbbbbbb\); here /);
  write(process.pid, { n2: null, n3: sum });
  t.regex((await configSyncStatus(paths, 'web', src, 'l')).messages[0]!, /^config differs on n2 \(none\)/);
  // a daemon that is gone: its file is not current
  write(2 ** 22 + 12345, { n3: 'b'.repeat(64) });
  t.is((await configSyncStatus(paths, 'web', src, 'l')).status, 'up');
  fs.rmSync(src);
  t.is((await configSyncStatus(paths, 'web', src, 'l')).status, 'down');
});
