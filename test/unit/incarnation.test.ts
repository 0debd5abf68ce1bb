// The heartbeat incarnation grows across daemon starts even if the clock went back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { nextIncarnation } from '../../src/daemon/incarnation.js';
import { ferryPaths } from '../../src/paths.js';

test('each start gets a larger incarnation, kept in <var>/hb.incarnation', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-inc-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const paths = ferryPaths({ FERRY_ROOT: root });
  const a = nextIncarnation(paths);
  const file = path.join(paths.var, 'hb.incarnation');
  t.is(fs.readFileSync(file, 'utf8'), `${a}\n`);
  // a floor far in the future (as after the clock was stepped back): the next one is above it
  const future = (BigInt(Date.now() + 86_400_000) << 16n) + 5n;
  fs.writeFileSync(file, `${future}\n`);
  const b = nextIncarnation(paths);
  t.true(b > future, `${b} > ${future}`);
  t.true(nextIncarnation(paths) > b);
});
