// `nodemgr arbitrator` as a real process: it listens, holds its vote right after start,
// grants through the real client, refuses a second partition, stops cleanly on SIGTERM, and
// rejects a bad secret file in one line.
// Needs registerArbitratorCommand wired into src/cli/nodemgr.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { askVote } from '../../src/arbitrator/client.js';
import { distCli, runCli } from '../helpers/env.js';

const SECRET = 'ab'.repeat(32);

function scratch(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-arb-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('nodemgr arbitrator: listens, holds after start, grants one partition, refuses the other, stops on SIGTERM', async (t) => {
  const dir = scratch(t);
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const env = { ...process.env, FERRY_ROOT: dir, FERRY_NODENAME: 'arb' };
  const child = spawn(process.execPath, [distCli('nodemgr'), 'arbitrator', '--listen', '127.0.0.1:0', '--cluster', 'prod', '--secret-file', secretFile, '--restart-hold', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => void (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));

  let port = 0;
  for (let i = 0; i < 100 && port === 0; i++) {
    const m = /listening on 127\.0\.0\.1:(\d+)\/vote/.exec(stdout);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null) break;
    else await new Promise((r) => setTimeout(r, 100));
  }
  t.true(port > 0, `no "listening" line; stdout: ${stdout} stderr: ${stderr} (is the arbitrator command wired into nodemgr.ts?)`);
  if (port === 0) return;

  const arb = { id: 'arbitrator#1', addr: '127.0.0.1', port, timeout: 3000 };
  const cluster = { name: 'prod', secret: SECRET };
  // the restart hold (1 s here, 10 s by default): no vote right after start
  t.regex((await askVote(arb, cluster, 'n3', ['n3'], 5000)).error ?? '', /refused \(HTTP 503\): just started/);
  await new Promise((r) => setTimeout(r, 1100));
  t.deepEqual(await askVote(arb, cluster, 'n1', ['n1', 'n2'], 5000), { granted: true, holder: ['n1', 'n2'] });
  t.deepEqual(await askVote(arb, cluster, 'n3', ['n3'], 5000), { granted: false, holder: ['n1', 'n2'] });
  t.regex((await askVote(arb, { name: 'prod', secret: 'cd'.repeat(32) }, 'n3', ['n3'], 5000)).error ?? '', /HTTP 403/);

  child.kill('SIGTERM');
  t.is(await exited, 0, stderr);
  t.regex(stdout, /arbitrator stopped/);
  const logText = fs.readFileSync(path.join(dir, 'log', 'arbitrator.log'), 'utf8');
  t.regex(logText, /"event":"arbitrator.granted"/);
  t.regex(logText, /"event":"arbitrator.drop","reason":"bad_mac"/);
  t.false(logText.includes(SECRET), 'the secret never reaches the log');
  t.regex((await askVote(arb, cluster, 'n1', ['n1', 'n2'], 5000)).error ?? '', /cannot reach/);
});

test('nodemgr arbitrator: a bad secret file is one line and exit 1', async (t) => {
  const dir = scratch(t);
  const env = { FERRY_ROOT: dir, FERRY_NODENAME: 'arb', PATH: process.env.PATH ?? '' };
  const short = path.join(dir, 'short');
  fs.writeFileSync(short, 'abcd\n', { mode: 0o600 });
  const r1 = await runCli('nodemgr', ['arbitrator', '--listen', '127.0.0.1:0', '--cluster', 'prod', '--secret-file', short], env, 20_000);
  t.is(r1.exitCode, 1);
  t.is(r1.stderr, `nodemgr: bad secret in ${short}: 2 bytes, at least 32 required`);
  const r2 = await runCli('nodemgr', ['arbitrator', '--listen', '127.0.0.1:0', '--cluster', 'prod', '--secret-file', path.join(dir, 'missing')], env, 20_000);
  t.is(r2.exitCode, 1);
  t.regex(r2.stderr, /^nodemgr: cannot read secret file .*missing: ENOENT/);
  const r3 = await runCli('nodemgr', ['arbitrator', '--listen', 'nowhere', '--cluster', 'prod', '--secret-file', short], env, 20_000);
  t.is(r3.exitCode, 1);
  t.regex(r3.stderr, /bad --listen "nowhere"/);
});
