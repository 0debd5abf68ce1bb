// The daily svcmgr commands and the machine output, on real resources: app commands, ext4 on a
// loop device, a Docker container, the real resolver, a real daemon. Every JSON output is
// checked against its schema in docs/schemas/, every exit code against docs/exit-codes.md.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { distCli, makeFerryRoot, requireRoot, runCli, sh, testImage, uniquePrefix, type FerryRoot } from '../helpers/env.js';
import { makeLoopExt4 } from '../helpers/host.js';
import { schemaErrors } from '../helpers/schemas.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function root(t: { teardown(f: () => void): void }): FerryRoot {
  requireRoot();
  const r = makeFerryRoot('node1');
  t.teardown(() => r.cleanup());
  return r;
}

const svcmgr = (r: FerryRoot, args: string[]) => runCli('svcmgr', args, r.env);

function json(t: { is(a: unknown, b: unknown, m?: string): void }, schema: string, stdout: string): unknown {
  const v = JSON.parse(stdout) as unknown;
  t.is(schemaErrors(schema, v), '', `${schema}: ${stdout.slice(0, 2000)}`);
  return v;
}

/** app#N resources with marker files under the root */
function apps(r: FerryRoot, n: number, extra: (i: number) => string = () => ''): string {
  let s = '[DEFAULT]\nnodes = node1\n';
  for (let i = 1; i <= n; i++) {
    const m = path.join(r.root, `app${i}.up`);
    s += `\n[app#${i}]\nstart = /bin/touch ${m}\nstop = /bin/rm -f ${m}\ncheck = /bin/test -e ${m}\n${extra(i)}`;
  }
  return s;
}

test('disable --rid: start skips it, print status flags it D (text and json); enable brings it back', async (t) => {
  const r = root(t);
  fs.writeFileSync(path.join(r.services, 'en.env'), apps(r, 2));
  const dis = await svcmgr(r, ['-s', 'en', 'disable', '--rid', 'app#2', '--format', 'json']);
  t.is(dis.exitCode, 0, dis.stderr);
  t.deepEqual(json(t, 'svcmgr-enable', dis.stdout), { svcname: 'en', action: 'disable', rids: ['app#2'] });
  t.regex(fs.readFileSync(path.join(r.services, 'en.env'), 'utf8'), /\[app#2\][^[]*disable = true/);
  t.is((await svcmgr(r, ['-s', 'en', 'start'])).exitCode, 0);
  t.true(fs.existsSync(path.join(r.root, 'app1.up')));
  t.false(fs.existsSync(path.join(r.root, 'app2.up')), 'the disabled resource was not started');
  const text = await svcmgr(r, ['-s', 'en', 'print', 'status']);
  t.regex(text.stdout, /app#2\s+\.D\.\. n\/a/);
  const st = json(t, 'svcmgr-print-status', (await svcmgr(r, ['-s', 'en', 'print', 'status', '--format', 'json'])).stdout) as { resources: { rid: string; flags: string }[] };
  t.is(st.resources.find((x) => x.rid === 'app#2')?.flags, '.D..');
  const bad = await svcmgr(r, ['-s', 'en', 'disable', '--rid', 'app#9']);
  t.is(bad.exitCode, 64);
  t.is(bad.stderr.trim(), 'svcmgr: service en: no resource app#9');
  t.is((await svcmgr(r, ['-s', 'en', 'enable'])).exitCode, 0);
  t.notRegex(fs.readFileSync(path.join(r.services, 'en.env'), 'utf8'), /disable/);
  t.is((await svcmgr(r, ['-s', 'en', 'start'])).exitCode, 0);
  t.true(fs.existsSync(path.join(r.root, 'app2.up')));
  await svcmgr(r, ['-s', 'en', 'stop']);
});

test('stop of resources already down says so; a failed ip start is no "still up"', async (t) => {
  const r = root(t);
  fs.writeFileSync(path.join(r.services, 'st.env'), apps(r, 1));
  await svcmgr(r, ['-s', 'st', 'start']);
  const first = await svcmgr(r, ['-s', 'st', 'stop']);
  t.regex(first.stdout, /^st app#1 stopped \(\d+ ms\)$/m);
  const again = await svcmgr(r, ['-s', 'st', 'stop', '--format', 'json']);
  t.is(again.exitCode, 0);
  const rep = json(t, 'svcmgr-action', again.stdout) as { reports: { outcomes: { rid: string; changed: boolean }[] }[] };
  t.deepEqual(rep.reports[0]!.outcomes.map((o) => [o.rid, o.changed]), [['app#1', false]]);
  t.regex((await svcmgr(r, ['-s', 'st', 'stop'])).stdout, /^st app#1 already down$/m);

  // an address whose name the resolver does not know: its start fails, nothing came up
  fs.writeFileSync(path.join(r.services, 'ipf.env'), `[DEFAULT]\nnodes = node1\n\n[ip#1]\nipname = ${uniquePrefix('n')}.invalid\nipdev = lo\n`);
  const failed = await svcmgr(r, ['-s', 'ipf', 'start', '--format', 'json']);
  t.is(failed.exitCode, 1);
  const fr = json(t, 'svcmgr-action', failed.stdout) as { reports: { failed?: { rid: string }; rollbackFailures: unknown[]; rolledBack: string[] }[] };
  t.is(fr.reports[0]!.failed?.rid, 'ip#1');
  t.deepEqual(fr.reports[0]!.rollbackFailures, []);
  t.deepEqual(fr.reports[0]!.rolledBack, []);
  t.notRegex(failed.stderr, /still up|rollback failed/);
});

test('exit codes: status by severity over several services, usage, no such service, configuration error, daemon unreachable', async (t) => {
  const r = root(t);
  const up = path.join(r.root, 'up');
  fs.writeFileSync(up, '');
  fs.writeFileSync(path.join(r.services, 'sup.env'), `[DEFAULT]\nnodes = node1\n\n[app#1]\ncheck = /bin/test -e ${up}\n`);
  fs.writeFileSync(path.join(r.services, 'sdown.env'), `[DEFAULT]\nnodes = node1\n\n[app#1]\ncheck = /bin/false\n`);
  fs.writeFileSync(path.join(r.services, 'swarn.env'), `[DEFAULT]\nnodes = node1\n\n[app#1]\ncheck = /bin/true\n\n[app#2]\ncheck = /bin/false\n`);
  fs.writeFileSync(path.join(r.services, 'sna.env'), `[DEFAULT]\nnodes = node1\n`);
  fs.writeFileSync(path.join(r.services, 'sbad.env'), `[DEFAULT]\nnodes = node1\n\n[app#1]\nstrat = /bin/true\n`);
  const code = async (args: string[]) => (await svcmgr(r, args)).exitCode;
  t.is(await code(['-s', 'sup', 'print', 'status']), 0);
  t.is(await code(['-s', 'sdown', 'print', 'status']), 1);
  t.is(await code(['-s', 'swarn', 'print', 'status']), 2);
  t.is(await code(['-s', 'sna', 'print', 'status']), 3);
  t.is(await code(['-s', 'sna,sdown', 'print', 'status']), 1, 'down is not hidden behind n/a');
  t.is(await code(['-s', 'sup,sna', 'print', 'status']), 0);
  t.is(await code(['-s', 'sup,swarn,sdown', 'print', 'status']), 1);
  const many = await svcmgr(r, ['-s', 'sup,sdown', 'print', 'status', '--format', 'json']);
  t.is((json(t, 'svcmgr-print-status', many.stdout) as unknown[]).length, 2);
  for (const args of [['-s', 'sup', 'print', 'status', '--format', 'yaml'], ['-s', 'sup', 'frobnicate'], ['-s', 'sup', 'start', '--rid', 'app#7'], ['print', 'status'], ['-s', 'sup', 'print', 'status', '--bogus']]) {
    const res = await svcmgr(r, args);
    t.is(res.exitCode, 64, `${args.join(' ')}: ${res.stderr}`);
    t.is(res.stdout, '', `${args.join(' ')}: nothing printed`);
    t.is(res.stderr.trim().split('\n').length, 1, res.stderr);
  }
  t.is((await runCli('svcmon', ['--format', 'yaml'], r.env)).exitCode, 64);
  t.is((await runCli('nodemgr', ['daemon', 'status', '--format', 'yaml'], r.env)).exitCode, 64);
  t.is(await code(['-s', 'nosuch', 'print', 'status']), 66);
  t.is((await runCli('svcmon', ['--service', 'nosuch'], r.env)).exitCode, 66);
  const bad = await svcmgr(r, ['-s', 'sbad', 'start']);
  t.is(bad.exitCode, 78);
  t.regex(bad.stderr, /sbad\.env:5: unknown keyword "strat"/);
  t.is((await runCli('nodemgr', ['freeze'], r.env)).exitCode, 69, 'no daemon to ask');
  const ds = await runCli('nodemgr', ['daemon', 'status', '--format', 'json'], r.env);
  t.is(ds.exitCode, 1);
  t.false((json(t, 'nodemgr-daemon-status', ds.stdout) as { running: boolean }).running);
  const mon = await runCli('svcmon', ['--format', 'json'], r.env);
  json(t, 'svcmon', mon.stdout);
});

test('validate config: one ok line, json; print config json of several services is one array', async (t) => {
  const r = root(t);
  fs.writeFileSync(path.join(r.services, 'va.env'), apps(r, 1));
  fs.writeFileSync(path.join(r.services, 'vb.env'), `[DEFAULT]\nnodes = node1\n\n[app#1]\nstrat = x\n`);
  const ok = await svcmgr(r, ['-s', 'va', 'validate', 'config']);
  t.is(ok.exitCode, 0);
  t.is(ok.stdout.trim(), `${path.join(r.services, 'va.env')}: ok`);
  const both = await svcmgr(r, ['-s', 'va,vb', 'validate', 'config', '--format', 'json']);
  t.is(both.exitCode, 1);
  const v = json(t, 'svcmgr-validate-config', both.stdout) as { ok: boolean; problems: { line: number }[] }[];
  t.deepEqual(v.map((x) => x.ok), [true, false]);
  t.is(v[1]!.problems[0]!.line, 5);
  const pc = await svcmgr(r, ['-s', 'va,va', 'print', 'config', '--format', 'json']);
  t.is((json(t, 'svcmgr-print-config', pc.stdout) as unknown[]).length, 2);
  json(t, 'svcmgr-print-config', (await svcmgr(r, ['-s', 'va', 'print', 'config', '--eval', '--format', 'json'])).stdout);
  fs.writeFileSync(path.join(r.root, 'etc', 'cluster.conf'), ['[cluster]', 'name = c', 'nodes = node1', `secret = ${'ab'.repeat(32)}`, ''].join('\n'));
  const nv = await runCli('nodemgr', ['validate', '--format', 'json'], r.env);
  t.is(nv.exitCode, 0, nv.stdout + nv.stderr);
  json(t, 'nodemgr-validate', nv.stdout);
});

test('logs: human lines and json records; --follow survives a rotation and a truncation', async (t) => {
  const r = root(t);
  fs.writeFileSync(path.join(r.services, 'lg.env'), apps(r, 1));
  await svcmgr(r, ['-s', 'lg', 'start']);
  const text = await svcmgr(r, ['-s', 'lg', 'logs']);
  t.is(text.exitCode, 0);
  t.regex(text.stdout, /^\S+Z INFO  node1 app#1 resource started/m);
  const lines = (await svcmgr(r, ['-s', 'lg', 'logs', '--format', 'json'])).stdout.trim().split('\n');
  t.true(lines.length >= 3);
  for (const l of lines) t.is(schemaErrors('svcmgr-logs', JSON.parse(l)), '', l);

  const logFile = path.join(r.root, 'log', 'lg.log');
  const child = execa(process.execPath, [distCli('svcmgr'), '-s', 'lg', 'logs', '--follow', '--format', 'json'], { env: r.env, reject: false, stdin: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async (event: string) => {
    for (let i = 0; i < 300 && !out.includes(`"event":"${event}"`); i++) await sleep(100);
    t.true(out.includes(`"event":"${event}"`), `${event} followed: ${out.slice(-500)}`);
  };
  const rec = (event: string) => `${JSON.stringify({ level: 30, time: Date.now(), svc: 'lg', node: 'node1', event, msg: event })}\n`;
  fs.appendFileSync(logFile, rec('probe_one'));
  await waitFor('probe_one');
  fs.renameSync(logFile, `${logFile}.1`);
  fs.writeFileSync(logFile, rec('probe_rotated'));
  await waitFor('probe_rotated');
  fs.truncateSync(logFile, 0);
  fs.appendFileSync(logFile, rec('probe_truncated'));
  await waitFor('probe_truncated');
  child.kill('SIGTERM');
  const res = await child;
  t.is(res.exitCode, 0);
  await svcmgr(r, ['-s', 'lg', 'stop']);
});

test('print devs and prstatus on a loop device', async (t) => {
  const r = root(t);
  const loop = await makeLoopExt4(16);
  t.teardown(() => loop.remove());
  fs.writeFileSync(path.join(r.services, 'dv.env'), `[DEFAULT]\nnodes = node1\n\n[fs#1]\ndev = ${loop.dev}\nmnt = ${loop.dir}/m\ntype = ext4\n`);
  const devs = await svcmgr(r, ['-s', 'dv', 'print', 'devs', '--format', 'json']);
  t.is(devs.exitCode, 0, devs.stderr);
  const d = json(t, 'svcmgr-print-devs', devs.stdout) as { resources: { rid: string; sub: string[] }[] };
  t.deepEqual(d.resources.map((x) => [x.rid, x.sub]), [['fs#1', [loop.dev]]]);
  t.regex((await svcmgr(r, ['-s', 'dv', 'print', 'devs'])).stdout, new RegExp(`fs#1\\n\\s+sub\\s+${loop.dev}`));
  const none = await svcmgr(r, ['-s', 'dv', 'prstatus']);
  t.is(none.exitCode, 0);
  t.regex(none.stdout, /^dv: no disk with a SCSI persistent reservation/);
  t.deepEqual((json(t, 'svcmgr-prstatus', (await svcmgr(r, ['-s', 'dv', 'prstatus', '--format', 'json'])).stdout) as { disks: unknown[] }).disks, []);
  // a loop device is no SCSI disk: the reservation cannot be read, and prstatus says so
  fs.appendFileSync(path.join(r.services, 'dv.env'), `\n[disk#1]\ndisks = ${loop.dev}\nscsireserv = true\n`);
  const pr = await svcmgr(r, ['-s', 'dv', 'prstatus', '--format', 'json']);
  t.is(pr.exitCode, 1);
  const p = json(t, 'svcmgr-prstatus', pr.stdout) as { disks: { disk: string; error?: string }[] };
  t.is(p.disks[0]?.disk, loop.dev);
  t.truthy(p.disks[0]?.error);
});

test('shutdown stops everything past a failure and keeps it down; boot takes that back', async (t) => {
  const r = root(t);
  fs.writeFileSync(path.join(r.services, 'sh.env'), apps(r, 2, (i) => (i === 2 ? 'monitor = true\n' : '')) + `\n[app#3]\nstart = /bin/true\nstop = /bin/false\ncheck = /bin/true\n`);
  await svcmgr(r, ['-s', 'sh', 'start']);
  const down = await svcmgr(r, ['-s', 'sh', 'shutdown', '--format', 'json']);
  t.is(down.exitCode, 1, 'app#3 cannot stop');
  const rep = json(t, 'svcmgr-action', down.stdout) as { reports: { failed?: { rid: string }; outcomes: { rid: string; ok: boolean }[] }[] };
  t.is(rep.reports[0]!.failed?.rid, 'app#3');
  t.deepEqual(rep.reports[0]!.outcomes.map((o) => [o.rid, o.ok]), [['app#3', false], ['app#2', true], ['app#1', true]], 'went on past the failure');
  t.false(fs.existsSync(path.join(r.root, 'app1.up')));
  const varDir = path.join(r.root, 'var', 'services', 'sh');
  t.is((JSON.parse(fs.readFileSync(path.join(varDir, 'expect.json'), 'utf8')) as { state: string }).state, 'down');
  const boot = await svcmgr(r, ['-s', 'sh', 'boot']);
  t.is(boot.exitCode, 1, 'app#3 still cannot stop');
  t.false(fs.existsSync(path.join(varDir, 'expect.json')), 'the stop shutdown recorded is taken back');
  t.false(fs.existsSync(path.join(varDir, 'shutdown.json')));
  const entries = fs.readFileSync(path.join(r.root, 'log', 'sh.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event?: string; tookBackShutdown?: boolean });
  t.true(entries.some((e) => e.event === 'shutdown'));
  t.true(entries.some((e) => e.event === 'boot' && e.tookBackShutdown === true));
});

test('docker ps lists only the service\'s containers; a container rid resolves to its name', async (t) => {
  const r = root(t);
  const svc = `${uniquePrefix('dk')}`;
  const other = `${uniquePrefix('dko')}`;
  fs.writeFileSync(path.join(r.services, `${svc}.env`), `[DEFAULT]\nnodes = node1\n\n[container#1]\ntype = docker\nrun_image = ${testImage}\nrun_command = /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait"\n`);
  t.teardown(async () => {
    await svcmgr(r, ['-s', svc, 'stop']).catch(() => undefined);
    await sh('docker', ['rm', '-f', other, `${svc}.container.1`], { reject: false });
  });
  await sh('docker', ['run', '-d', '--name', other, testImage, 'sleep', '1000']);
  t.is((await svcmgr(r, ['-s', svc, 'start'])).exitCode, 0);
  const ps = await svcmgr(r, ['-s', svc, 'docker', 'ps', '-a', '--format', '{{.Names}}']);
  t.is(ps.exitCode, 0, ps.stderr);
  t.deepEqual(ps.stdout.trim().split('\n'), [`${svc}.container.1`]);
  const insp = await svcmgr(r, [svc, 'docker', 'inspect', '-f', '{{.State.Running}}', 'container#1']);
  t.is(insp.stdout.trim(), 'true', insp.stderr);
  t.is((await svcmgr(r, ['-s', svc, 'docker', 'inspect', `${uniquePrefix('none')}`])).exitCode, 1, "the engine's exit code");
  t.is((await svcmgr(r, ['-s', svc, 'podman', 'ps'])).exitCode, 64, 'no podman container in this service');
});
