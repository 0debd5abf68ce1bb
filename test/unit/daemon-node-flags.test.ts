// The daemon's V8 flags are the same wherever it is launched: the nodemgr shebang
// (/usr/bin/nodemgr, the systemd unit) carries DAEMON_NODE_FLAGS, as `daemon start` and the lab do.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../src/util/daemon-node-flags.js';
import { defaultAgentCommand } from '../../src/lab/lab.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the nodemgr shebang runs node with DAEMON_NODE_FLAGS', (t) => {
  const first = fs.readFileSync(path.join(repo, 'dist', 'src', 'cli', 'nodemgr.js'), 'utf8').split('\n')[0];
  t.is(first, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
});

test('the lab agent command passes DAEMON_NODE_FLAGS before the script', (t) => {
  const cmd = defaultAgentCommand();
  t.deepEqual(cmd.slice(1, 1 + DAEMON_NODE_FLAGS.length), [...DAEMON_NODE_FLAGS]);
  t.true(DAEMON_NODE_FLAGS.length > 0);
});
