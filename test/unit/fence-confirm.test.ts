// The off's confirmation: an agent that says `Success: Powered OFF` (fence-agents print it only
// after their own status polling saw the node off) is not asked `status` again; one that does
// not say so is, and a node still on after the off is no fence.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { silentLogger } from '../../src/log.js';
import { offConfirmedBy } from '../../src/fence/agent.js';
import { fenceNode } from '../../src/fence/fencer.js';

/** a shell agent: `off` prints offLine, `status` exits statusCode, metadata lists off and status */
function agent(t: { teardown: (f: () => void) => void }, offLine: string, statusCode: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fence-confirm-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'fence_test');
  fs.writeFileSync(
    file,
    `#!/bin/sh
action=$(sed -n 's/^action=//p')
case "$action" in
  metadata) echo '<resource-agent><actions><action name="off"/><action name="status"/><action name="metadata"/></actions></resource-agent>' ;;
  off) echo '${offLine}' ;;
  status) exit ${statusCode} ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  return file;
}

const cluster = (file: string) => ({ file: 'cluster.conf', stonith: [{ node: 'n2', agent: file, params: {}, timeout: 10_000 }] });

test('the agent\'s own "Success: Powered OFF" confirms: no status run', async (t) => {
  const out = await fenceNode(cluster(agent(t, 'Success: Powered OFF', 0)), 'n2', silentLogger());
  t.true(out.ok, out.message);
  t.true(out.confirmed);
  t.deepEqual(out.steps.map((s) => s.action), ['off']);
});

test('an off without that line is confirmed by status, and a node still on is no fence', async (t) => {
  const off = await fenceNode(cluster(agent(t, 'done', 2)), 'n2', silentLogger());
  t.true(off.ok, off.message);
  t.deepEqual(off.steps.map((s) => `${s.action}:${s.exitCode}`), ['off:0', 'status:2']);
  const still = await fenceNode(cluster(agent(t, 'done', 0)), 'n2', silentLogger(), { confirmTries: 1 });
  t.false(still.ok);
  t.false(still.confirmed);
});

test('offConfirmedBy reads only the library\'s success lines', (t) => {
  t.true(offConfirmedBy('Success: Powered OFF\n'));
  t.true(offConfirmedBy('WARNING: x\nSuccess: Already OFF'));
  t.false(offConfirmedBy('Success: Powered ON\n'));
  t.false(offConfirmedBy('Failed: Timed out waiting to power OFF\n'));
  t.false(offConfirmedBy(''));
});
