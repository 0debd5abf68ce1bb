// Fencing against real agents: Debian's fence_dummy (state in a file it owns), executables
// written by the test that hang or fail, nodemgr stonith through the CLI, and the lab agent
// really powering a lab node off.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { StonithConfig } from '../../src/cluster/config.js';
import { runFenceAgent } from '../../src/fence/agent.js';
import { fenceNode } from '../../src/fence/fencer.js';
import { Lab } from '../../src/lab/lab.js';
import { netnsExists } from '../../src/lab/namespaces.js';
import { isAlive, nodePids } from '../../src/lab/procfs.js';
import { silentLogger } from '../../src/log.js';
import { run } from '../../src/util/exec.js';
import { makeFerryRoot, repoRoot, requireRoot, runCli } from '../helpers/env.js';
import { schemaErrors } from '../helpers/schemas.js';

const log = silentLogger();
const labAgent = path.join(repoRoot, 'scripts', 'fence_ferry_lab');

function tmpDir(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fence-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An executable agent fixture: a real program on disk, run through the real protocol. */
function script(dir: string, name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

const dummy = (dir: string, extra: Record<string, string> = {}): StonithConfig => ({
  node: 'n2',
  agent: 'fence_dummy',
  params: { type: 'file', status_file: path.join(dir, 'n2.power'), ...extra },
  timeout: 20_000,
});

test.before(() => requireRoot());

test('fence_dummy: on, status, fenceNode off confirmed by the agent itself (no status run), state really changes', async (t) => {
  const dir = tmpDir(t);
  const cfg = dummy(dir);
  const on = await runFenceAgent(cfg, 'on', log);
  t.true(on.ok, on.message);
  t.is(fs.readFileSync(cfg.params.status_file!, 'utf8'), 'on');
  const st = await runFenceAgent(cfg, 'status', log);
  t.like(st, { ok: true, power: 'on', exitCode: 0 });

  const out = await fenceNode({ file: 'cluster.conf', stonith: [cfg] }, 'n2', log);
  t.true(out.ok, out.message);
  t.true(out.confirmed);
  // fence-agents print "Success: Powered OFF" only after their own status polling saw it off
  t.deepEqual(out.steps.map((s) => `${s.action}:${s.exitCode}`), ['off:0']);
  t.true(out.steps[0]?.offConfirmed);
  t.is(fs.readFileSync(cfg.params.status_file!, 'utf8'), 'off');
  t.like(await runFenceAgent(cfg, 'status', log), { ok: true, power: 'off', exitCode: 2 });
  t.like(await runFenceAgent(cfg, 'monitor', log), { ok: true, exitCode: 0 });
});

test('fence_dummy failing: off fails, the fence is not ok, its error is the message', async (t) => {
  const dir = tmpDir(t);
  // type=fail: a device whose outlet never switches; power_timeout bounds its own wait
  const out = await fenceNode({ file: 'cluster.conf', stonith: [dummy(dir, { type: 'fail', power_timeout: '1' })] }, 'n2', log);
  t.false(out.ok);
  t.false(out.confirmed);
  t.is(out.steps[0]?.exitCode, 1);
  t.regex(out.message, /^fence_dummy off: exit 1: .*Timed out waiting to power OFF$/);
});

test('an agent that hangs is killed at the timeout: a failed fence', async (t) => {
  const dir = tmpDir(t);
  const agent = script(dir, 'fence_slow', 'cat >/dev/null\nexec sleep 30');
  const t0 = Date.now();
  const r = await runFenceAgent({ node: 'n2', agent, params: {}, timeout: 500 }, 'off', log);
  t.like(r, { ok: false, timedOut: true, exitCode: undefined });
  t.regex(r.message, /timed out after 500 ms/);
  t.true(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
});

test('protocol: stdin lines as sent, exit 1 with the agent message, secrets masked, missing agent', async (t) => {
  const dir = tmpDir(t);
  const seen = path.join(dir, 'stdin');
  const agent = script(dir, 'fence_bad', `cat > ${seen}\necho "login refused for admin/hunter2" >&2\nexit 1`);
  const r = await runFenceAgent({ node: 'n2', agent, params: { ip: '10.0.0.9', login: 'admin', password: 'hunter2' }, timeout: 5_000 }, 'off', log);
  t.like(r, { ok: false, exitCode: 1, timedOut: false });
  t.is(r.message, `${agent} off: exit 1: login refused for admin/****`);
  t.is(fs.readFileSync(seen, 'utf8'), 'action=off\nnodename=n2\nplug=n2\nip=10.0.0.9\nlogin=admin\npassword=hunter2\n');

  const missing = await runFenceAgent({ node: 'n2', agent: 'fence_nonexistent_ferry', params: {}, timeout: 5_000 }, 'off', log);
  t.false(missing.ok);
  t.regex(missing.message, /not found in \/usr\/sbin/);
});

test('nodemgr stonith --node: status, off, errors, end to end', async (t) => {
  const root = makeFerryRoot('n1');
  t.teardown(() => root.cleanup());
  const power = path.join(root.root, 'n2.power');
  const bad = script(root.root, 'fence_bad', 'echo "Failed: BMC unreachable" >&2\nexit 1');
  fs.writeFileSync(
    path.join(root.root, 'etc', 'cluster.conf'),
    [
      '[cluster]', 'name = fencetest', 'nodes = n1 n2 n3', `secret = ${'cd'.repeat(32)}`,
      '[hb#1]', 'type = unicast', 'addr@n1 = 127.0.0.1', 'addr@n2 = 127.0.0.2', 'addr@n3 = 127.0.0.3',
      '[stonith#n2]', 'agent = fence_dummy', `params = type=file status_file=${power}`, 'timeout = 20s',
      '[stonith#n3]', `agent = ${bad}`, 'timeout = 5s',
    ].join('\n'),
  );
  fs.writeFileSync(power, 'on');
  const status = await runCli('nodemgr', ['stonith', '--node', 'n2', '--action', 'status'], root.env);
  t.is(status.exitCode, 0, status.stderr);
  t.regex(status.stdout, /^n2: power on \(fence_dummy/);

  const statusJson = await runCli('nodemgr', ['stonith', '--node', 'n2', '--action', 'status', '--format', 'json'], root.env);
  t.is(statusJson.exitCode, 0, statusJson.stderr);
  const sj = JSON.parse(statusJson.stdout) as unknown;
  t.is(schemaErrors('nodemgr-stonith', sj), '', statusJson.stdout);
  t.like(sj, { node: 'n2', action: 'status', agent: 'fence_dummy', power: 'on' });

  const off = await runCli('nodemgr', ['stonith', '--node', 'n2'], root.env);
  t.is(off.exitCode, 0, off.stderr);
  t.regex(off.stdout, /^n2 fenced \(off by fence_dummy, confirmed off\) in [\d.]+s$/);
  t.is(fs.readFileSync(power, 'utf8'), 'off');
  fs.writeFileSync(power, 'on');
  const offJson = await runCli('nodemgr', ['stonith', '--node', 'n2', '--format', 'json'], root.env);
  t.is(offJson.exitCode, 0, offJson.stderr);
  const oj = JSON.parse(offJson.stdout) as unknown;
  t.is(schemaErrors('nodemgr-stonith', oj), '', offJson.stdout);
  t.like(oj, { node: 'n2', action: 'off', power: 'off', confirmed: true });
  t.is(fs.readFileSync(power, 'utf8'), 'off');
  const badAction = await runCli('nodemgr', ['stonith', '--node', 'n2', '--action', 'explode'], root.env);
  t.is(badAction.exitCode, 64, 'a bad --action is a usage error');
  t.is(badAction.stderr, 'nodemgr: bad --action "explode": expected off, reboot, status');

  const failed = await runCli('nodemgr', ['stonith', '--node', 'n3'], root.env);
  t.is(failed.exitCode, 1);
  t.is(failed.stderr, `nodemgr: fencing n3 failed: ${bad} off: exit 1: Failed: BMC unreachable`);

  const none = await runCli('nodemgr', ['stonith', '--node', 'n1', '--force'], root.env);
  t.is(none.exitCode, 1);
  t.is(none.stderr, `nodemgr: no stonith configured for n1: add a [stonith#n1] section to ${path.join(root.root, 'etc', 'cluster.conf')}`);
  t.true(fs.existsSync(path.join(root.root, 'log', 'fence.log')));
});

test('lab agent: off from n1 really powers n2 off, status answers, on boots it', async (t) => {
  const lab = await Lab.create({ nodes: 2, links: 1, disks: { heartbeat: 0, data: 0 } });
  t.teardown(async () => {
    const problems = await Lab.attach(lab.id).destroy().catch((e: unknown) => [String(e)]);
    if (problems.length) console.error(`lab ${lab.id} teardown: ${problems.join('; ')}`);
  });
  const victim = lab.record.nodes.find((n) => n.name === 'n2')!;
  const child = lab.spawn('n2', 'sleep', ['1000']);
  t.true(isAlive(child.pid, child.start));

  // the way a daemon on n1 runs it: inside n1, lab id from FERRY_LAB, the stdin protocol
  const off = await lab.exec('n1', labAgent, [], { input: 'action=off\nplug=n2\nnodename=n2\n' });
  t.is(off.exitCode, 0, off.stderr);
  t.is(off.stdout.trim(), 'Success: Powered OFF');
  t.false(isAlive(victim.initPid, victim.initStart), 'n2 init gone');
  t.false(isAlive(child.pid, child.start), 'n2 process gone');
  t.deepEqual(nodePids({ envMark: `FERRY_LAB_NODE=${lab.id}:n2` }), []);
  t.false(await netnsExists(victim.netns), 'n2 network namespace (and its addresses) gone');
  t.true(Lab.attach(lab.id).isUp('n1'), 'n1 untouched');

  const input = (action: string): string => `action=${action}\nplug=n2\nlab=${lab.id}\n`;
  t.is((await run(labAgent, [], { input: input('status') })).exitCode, 2);
  // the script answers status (and an off of a node already off) in the shell: it must say what the Node agent says
  const nodeAgent = path.join(repoRoot, 'dist', 'src', 'lab', 'fence-agent.js');
  const agree = async (args: string[], stdin?: string): Promise<void> => {
    const fast = await run(labAgent, args, { ...(stdin !== undefined ? { input: stdin } : {}) });
    const slow = await run('node', [nodeAgent, ...args], { ...(stdin !== undefined ? { input: stdin } : {}) });
    t.deepEqual([fast.exitCode, fast.stdout], [slow.exitCode, slow.stdout], `${args.join(' ')} ${stdin ?? ''}`);
  };
  await agree([], input('status'));
  await agree([], input('off'));
  await agree(['-o', 'status', '-n', 'n2', `--lab=${lab.id}`]);
  await agree(['--action=status', '--plug=n1', `--lab=${lab.id}`]);
  await agree(['-o', 'status', '-n', 'n9', `--lab=${lab.id}`]);
  await agree([], `action=status\nplug=n2\nlab=nosuchlab\n`);
  const again = await lab.exec('n1', labAgent, [], { input: 'action=off\nplug=n2\n' });
  t.is(again.exitCode, 0);
  t.is(again.stdout.trim(), 'Success: Already OFF');
  const inside = await lab.exec('n1', labAgent, [], { input: 'action=on\nplug=n2\n' });
  t.is(inside.exitCode, 1);
  t.regex(inside.stderr, /must run outside the lab nodes/);
  t.is((await run(labAgent, [], { input: input('bogus') })).exitCode, 1);
  t.regex((await run(labAgent, [], { input: input('metadata') })).stdout, /<action name="off"\/>/);

  const on = await run(labAgent, [], { input: input('on') });
  t.is(on.exitCode, 0, on.stderr);
  t.true(Lab.attach(lab.id).isUp('n2'));
  t.is((await run(labAgent, [], { input: input('status') })).exitCode, 0);
  await agree([], input('status'));
});
