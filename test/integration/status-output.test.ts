// The look of `print status` and `svcmon` (seed 003), the v1 calling forms, freeze/thaw.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { distCli, makeFerryRoot, repoRoot, requireRoot, runCli, sh } from '../helpers/env.js';
import { makeNetNs } from '../helpers/host.js';

const seedTree = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'seed-003-deb2-busybox-status.txt'), 'utf8');

test.serial("busybox.opensvc.com on a node where nothing runs prints the seed's deb2 tree", async (t) => {
  requireRoot();
  const root = makeFerryRoot('deb2.opensvc.com');
  const ns = await makeNetNs('eth0');
  t.teardown(async () => {
    await ns.remove();
    root.cleanup();
  });
  fs.copyFileSync(path.join(repoRoot, 'services', 'busybox.opensvc.com.env'), path.join(root.services, 'busybox.opensvc.com.env'));
  // no Docker engine at this address: the seed's "docker daemon is not running"
  const env = { ...root.env, DOCKER_HOST: `unix://${root.root}/no-docker.sock` };
  const r = await runCli('svcmgr', ['-s', 'busybox.opensvc.com', 'print', 'status'], env, { wrap: ns.wrap });
  t.is(`${r.stdout}\n`, seedTree, r.stderr); // execa strips the final newline
  t.is(r.exitCode, 1, 'down exits 1');

  const json = await runCli('svcmgr', ['-s', 'busybox.opensvc.com', 'print', 'status', '--format', 'json'], env, { wrap: ns.wrap });
  const parsed = JSON.parse(json.stdout) as { overall: string; avail: string; resources: { rid: string; status: string }[] };
  t.is(parsed.overall, 'down');
  t.is(parsed.resources.length, 12);
});

test.serial('v1 calling forms: `svcmgr <svc> print status` and `<svc> print status` through a symlink', async (t) => {
  requireRoot();
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  fs.writeFileSync(path.join(root.services, 'demo.env'), `[DEFAULT]\nnodes = node1\n\n[app#1]\ncheck = /bin/true\n`);
  const byName = await runCli('svcmgr', ['demo', 'print', 'status'], root.env);
  t.is(byName.exitCode, 0, byName.stderr);
  t.regex(byName.stdout, /^demo\noverall\s+up/);
  const link = path.join(root.root, 'demo');
  fs.symlinkSync(distCli('svcmgr'), link);
  const viaLink = await sh('env', [`FERRY_ROOT=${root.root}`, 'FERRY_NODENAME=node1', process.execPath, link, 'print', 'status'], { reject: false });
  t.is(viaLink.exitCode, 0, viaLink.stderr);
  t.is(viaLink.stdout, byName.stdout);
});

test.serial('svcmon shows the seed columns; freeze and thaw persist', async (t) => {
  requireRoot();
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  for (const name of ['alpha', 'beta']) {
    fs.writeFileSync(path.join(root.services, `${name}.env`), `[DEFAULT]\nnodes = node1\nservice_type = DEV\n\n[app#1]\ncheck = /bin/${name === 'alpha' ? 'true' : 'false'}\n`);
  }
  t.is((await runCli('svcmgr', ['-s', 'beta', 'freeze'], root.env)).exitCode, 0);
  const mon = await runCli('svcmon', [], root.env);
  t.is(mon.exitCode, 0, mon.stderr);
  const lines = mon.stdout.trimEnd().split('\n');
  t.regex(lines[0]!, /^service\s+service\s+container\s+container\s+ip\s+disk\s+fs\s+share\s+app\s+hb\s+sync\s+avail\s+overall$/);
  t.regex(lines[1]!, /^name\s+type\s+type\s+status\s+status\s+status\s+status\s+status\s+status\s+status\s+status\s+status\s+status\s+frozen$/);
  t.regex(lines[2]!, /^-+(\s+-+){13}$/);
  t.regex(lines[3]!, /^alpha\s+DEV\s+hosted\s+n\/a\s+n\/a\s+n\/a\s+n\/a\s+n\/a\s+up\s+n\/a\s+up\s+up\s+up\s+False$/);
  t.regex(lines[4]!, /^beta\s+DEV\s+hosted\s+n\/a\s+n\/a\s+n\/a\s+n\/a\s+n\/a\s+down\s+n\/a\s+up\s+down\s+down\s+True$/);
  t.is((await runCli('svcmgr', ['-s', 'beta', 'thaw'], root.env)).exitCode, 0);
  const only = await runCli('svcmon', ['--service=beta', '--format', 'json'], root.env);
  // no daemon: the same shape as with one (src/daemon/svcmon-model.ts), this node's instances only
  const parsed = JSON.parse(only.stdout) as { daemon: { running: boolean }; services: Record<string, { instances: Record<string, { frozen: boolean; stale: boolean; avail: string }> }> };
  t.false(parsed.daemon.running);
  t.deepEqual(Object.entries(parsed.services).map(([n, s]) => [n, s.instances.node1?.frozen, s.instances.node1?.stale, s.instances.node1?.avail]), [['beta', false, false, 'down']]);
  const missing = await runCli('svcmon', ['--service=nosuch'], root.env);
  t.is(missing.exitCode, 66, 'no such service (docs/exit-codes.md)');
  t.is(missing.stderr.trim(), 'svcmon: service nosuch does not exist');
});

test.serial('a bad service or argument exits non-zero with one line and changes nothing', async (t) => {
  requireRoot();
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const r1 = await runCli('svcmgr', ['-s', 'nosuch', 'start'], root.env);
  t.is(r1.exitCode, 66, 'no such service');
  t.is(r1.stderr.trim(), `svcmgr: service nosuch does not exist (no ${root.services}/nosuch.env)`);
  fs.writeFileSync(path.join(root.services, 'demo.env'), `[DEFAULT]\nnodes = node1\n\n[app#1]\nstart = /bin/touch ${root.root}/started\n`);
  const r2 = await runCli('svcmgr', ['-s', 'demo', 'start', '--rid', 'app#9'], root.env);
  t.is(r2.exitCode, 64, 'usage error');
  t.is(r2.stderr.trim(), 'svcmgr: service demo: no resource app#9');
  const r3 = await runCli('svcmgr', ['-s', 'demo', 'frobnicate'], root.env);
  t.not(r3.exitCode, 0);
  t.is(r3.stderr.trim().split('\n').length, 1, r3.stderr);
  t.false(fs.existsSync(path.join(root.root, 'started')));
});
