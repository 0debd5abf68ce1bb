// The Docker volume plugin ([cluster] volume_plugin) of a real daemon, driven by the REAL
// host docker engine: a volume created with `-o service=<svc>` lives in the service's
// volumes_dir, a container writes into it, `docker volume ls/inspect` agree, bad requests fail
// with our one-line Err, the socket goes away with the daemon. Then podman against the same
// socket (containers.conf [engine.volume_plugins]).
import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { requireRoot, runCli } from '../helpers/env.js';
import { startSingleDaemon } from '../helpers/single-daemon.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const r = await execa(cmd, args, { reject: false, stdin: 'ignore', timeout: 120_000, ...(env ? { env: { ...process.env, ...env } } : {}) });
  return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
}

test('docker volumes of a service: created in its volumes_dir, used by a container, refused with our Err, removed', async (t) => {
  requireRoot();
  const tag = crypto.randomBytes(3).toString('hex');
  const plugin = `ferrytest-vp-${tag}`;
  const svc = `vp${tag}`;
  const down = `vpdown${tag}`;
  const vol = `ferrytest-vol-${tag}`;
  const pvol = `ferrytest-pvol-${tag}`;
  const socket = `/run/docker/plugins/${plugin}.sock`;
  const d = await startSingleDaemon('a', {}, [`volume_plugin = ${plugin}`]);
  const env = d.root.env;
  const conf = path.join(d.root.root, 'containers.conf');
  // CONTAINERS_CONF replaces the host's configuration: keep its drop-ins (ulimits, runtime), add the plugin
  const dropins = fs.existsSync('/etc/containers/containers.conf.d') ? fs.readdirSync('/etc/containers/containers.conf.d').filter((f) => f.endsWith('.conf')).sort() : [];
  const host = dropins.map((f) => fs.readFileSync(path.join('/etc/containers/containers.conf.d', f), 'utf8')).join('\n');
  fs.writeFileSync(conf, `${host}\n[engine.volume_plugins]\n${plugin} = "${socket}"\n`);
  t.teardown(async () => {
    await run('docker', ['volume', 'rm', '-f', vol]);
    for (const v of [pvol, `${pvol}y`]) await run('podman', ['volume', 'rm', '-f', v], { CONTAINERS_CONF: conf });
    await runCli('svcmgr', ['-s', svc, 'stop'], env);
    await d.close();
  });
  const vdir = path.join(d.root.root, 'srv', svc, 'volumes');
  const up = path.join(d.root.root, `${svc}.up`);
  fs.writeFileSync(path.join(d.root.services, `${svc}.env`), `[DEFAULT]\nnodes = a\nvolumes_dir = ${vdir}\n\n[app#1]\nstart = /usr/bin/touch ${up}\nstop = /bin/rm -f ${up}\ncheck = /bin/test -e ${up}\n`);
  fs.writeFileSync(path.join(d.root.services, `${down}.env`), `[DEFAULT]\nnodes = a\nvolumes_dir = ${path.join(d.root.root, 'srv', down)}\n\n[app#1]\nstart = /bin/true\ncheck = /bin/false\n`);
  const st = await runCli('svcmgr', ['-s', svc, 'start'], env);
  t.is(st.exitCode, 0, st.stderr);
  t.true(fs.existsSync(socket), 'the daemon serves the plugin socket');
  t.true(d.logEntries().some((e) => e.event === 'volume-plugin.listening' && e.plugin === plugin));

  // the daemon's view follows the start within a tick or two
  let c = await run('docker', ['volume', 'create', '-d', plugin, '-o', `service=${svc}`, vol]);
  for (const t0 = Date.now(); c.code !== 0 && /does not run on this node/.test(c.err) && Date.now() - t0 < 15_000; ) {
    await sleep(500);
    c = await run('docker', ['volume', 'create', '-d', plugin, '-o', `service=${svc}`, vol]);
  }
  t.is(c.code, 0, c.err);
  const dir = path.join(vdir, vol);
  t.true(fs.statSync(dir).isDirectory(), 'the volume is a directory of the service\'s volumes_dir');
  t.true(fs.existsSync(path.join(dir, '.ferry-volume.json')));

  const r = await run('docker', ['run', '--rm', '-v', `${vol}:/data`, 'ferry/busybox', 'sh', '-c', 'echo x > /data/f']);
  t.is(r.code, 0, r.err);
  t.is(fs.readFileSync(path.join(dir, 'f'), 'utf8'), 'x\n');
  t.true(d.logEntries().some((e) => e.event === 'volume.mounted' && e.volume === vol));
  t.true(d.logEntries().some((e) => e.event === 'volume.unmounted' && e.volume === vol));

  const ls = await run('docker', ['volume', 'ls', '--filter', `driver=${plugin}`, '--format', '{{.Name}}']);
  t.is(ls.code, 0, ls.err);
  t.deepEqual(ls.out.trim().split('\n'), [vol]);
  const ins = await run('docker', ['volume', 'inspect', vol]);
  t.is(ins.code, 0, ins.err);
  const info = (JSON.parse(ins.out) as { Driver: string; Mountpoint: string; Scope: string; Status: { service: string } }[])[0]!;
  t.is(info.Driver, plugin);
  t.is(info.Mountpoint, dir);
  t.is(info.Scope, 'global');
  t.is(info.Status.service, svc);

  // refusals: docker fails with our one-line Err, nothing is created
  const bad = async (args: string[], re: RegExp) => {
    const b = await run('docker', ['volume', 'create', '-d', plugin, ...args]);
    t.not(b.code, 0, args.join(' '));
    t.regex(b.err, re, args.join(' '));
  };
  await bad(['-o', `service=${svc}`, 'a..b'], /bad volume name "a\.\.b": it contains "\.\."/);
  await bad(['-o', 'service=nosuch', `${vol}x`], /unknown service "nosuch"/);
  await bad(['-o', `service=${down}`, `${vol}y`], new RegExp(`service ${down} does not run on this node \\(it runs nowhere\\)`));
  await bad([`${vol}z`], /give its service \(-o service=<svc>\)/);
  await bad(['-o', `service=${svc}`, '-o', 'size=1G', `${vol}w`], /unknown option "size"/);
  t.deepEqual(fs.readdirSync(vdir), [vol]);
  t.false(fs.existsSync(path.join(d.root.root, 'srv', down)));

  // podman against the same socket
  const pc = await run('podman', ['volume', 'create', '--driver', plugin, '-o', `service=${svc}`, pvol], { CONTAINERS_CONF: conf });
  t.is(pc.code, 0, pc.err);
  const pr = await run('podman', ['run', '--rm', '-v', `${pvol}:/data`, 'localhost/ferry/busybox', 'sh', '-c', 'echo p > /data/f'], { CONTAINERS_CONF: conf });
  t.is(pr.code, 0, pr.err);
  t.is(fs.readFileSync(path.join(vdir, pvol, 'f'), 'utf8'), 'p\n');
  const pbad = await run('podman', ['volume', 'create', '--driver', plugin, '-o', `service=${down}`, `${pvol}y`], { CONTAINERS_CONF: conf });
  t.not(pbad.code, 0);
  t.regex(pbad.err, /does not run on this node/);
  const prm = await run('podman', ['volume', 'rm', pvol], { CONTAINERS_CONF: conf });
  t.is(prm.code, 0, prm.err);
  t.false(fs.existsSync(path.join(vdir, pvol)));

  const rm = await run('docker', ['volume', 'rm', vol]);
  t.is(rm.code, 0, rm.err);
  t.false(fs.existsSync(dir), 'docker volume rm removed the directory');
  t.true(d.logEntries().some((e) => e.event === 'volume.removed' && e.volume === vol));

  await runCli('svcmgr', ['-s', svc, 'stop'], env);
  await d.close();
  t.false(fs.existsSync(socket), 'the socket is removed at daemon stop');
});

test('declared volumes: a container resource mounting one gets it created through the plugin at start, on the service\'s volumes_dir, across restarts', async (t) => {
  requireRoot();
  const tag = crypto.randomBytes(3).toString('hex');
  const plugin = `ferrytest-vd-${tag}`;
  const svc = `vd${tag}`;
  const vol = `ferrytest-dvol-${tag}`;
  const d = await startSingleDaemon('a', {}, [`volume_plugin = ${plugin}`]);
  const env = d.root.env;
  t.teardown(async () => {
    await runCli('svcmgr', ['-s', svc, 'stop'], env);
    await run('docker', ['volume', 'rm', '-f', vol]);
    await d.close();
  });
  const vdir = path.join(d.root.root, 'srv', svc, 'volumes');
  fs.writeFileSync(
    path.join(d.root.services, `${svc}.env`),
    [
      '[DEFAULT]', 'nodes = a', `volumes_dir = ${vdir}`, `volumes = ${vol}`, '',
      '[container#1]', 'type = docker', 'run_image = ferry/busybox', 'run_args = --network none', `name = ${svc}-c1`,
      `volume_mounts = ${vol}:/data`,
      `run_command = /bin/sh -c "echo run >> /data/runs; trap 'exit 0' TERM; sleep 100000 & wait"`,
      'stop_timeout = 2s', '',
    ].join('\n'),
  );
  await waitSocket(`/run/docker/plugins/${plugin}.sock`);
  const st = await runCli('svcmgr', ['-s', svc, 'start'], env);
  t.is(st.exitCode, 0, st.stderr);
  const dir = path.join(vdir, vol);
  t.true(fs.existsSync(path.join(dir, '.ferry-volume.json')), 'created through the plugin, in the volumes_dir');
  t.is(fs.readFileSync(path.join(dir, 'runs'), 'utf8'), 'run\n');
  // the plugin lists a service's volumes where the daemon sees it run: its view catches up with
  // a start by hand at its next read (docs/volume-plugin.md)
  let ins = await run('docker', ['volume', 'inspect', '--format', '{{.Driver}} {{.Mountpoint}}', vol]);
  for (const until = Date.now() + 15_000; ins.code !== 0 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 250));
    ins = await run('docker', ['volume', 'inspect', '--format', '{{.Driver}} {{.Mountpoint}}', vol]);
  }
  t.is(ins.out.trim(), `${plugin} ${dir}`, ins.err);
  t.true(d.logEntries().some((e) => e.event === 'volume.created' && e.volume === vol && e.svc === svc));
  t.is((await runCli('svcmgr', ['-s', svc, 'stop'], env)).exitCode, 0);
  // second start: the engine has the volume, the data is kept
  const st2 = await runCli('svcmgr', ['-s', svc, 'start'], env);
  t.is(st2.exitCode, 0, st2.stderr);
  t.is(fs.readFileSync(path.join(dir, 'runs'), 'utf8'), 'run\nrun\n');
  t.is((await runCli('svcmgr', ['-s', svc, 'stop'], env)).exitCode, 0);

  // a volume of the same name in the engine with another driver is refused, never replaced
  await run('docker', ['volume', 'rm', vol]);
  t.is((await run('docker', ['volume', 'create', vol])).code, 0);
  const st3 = await runCli('svcmgr', ['-s', svc, 'start'], env);
  t.not(st3.exitCode, 0);
  t.regex(st3.stderr + st3.stdout, new RegExp(`volume ${vol}: the docker engine has it with driver "local", not the volume plugin "${plugin}"`));
});

async function waitSocket(p: string): Promise<void> {
  for (const t0 = Date.now(); !fs.existsSync(p); ) {
    if (Date.now() - t0 > 30_000) throw new Error(`${p} did not appear`);
    await sleep(200);
  }
}
