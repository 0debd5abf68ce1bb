// Service actions on real resources: an address in a network namespace, ext4 on a loop
// device, a Docker container and app commands. Order is proven from the kernel's and the
// engine's own event streams and from timestamps the commands write, not from ferry's logs.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { makeFerryRoot, requireRoot, runCli, sh, testImage, uniquePrefix, type FerryRoot } from '../helpers/env.js';
import { makeLoopExt4, makeNetNs, type LoopFs, type NetNs } from '../helpers/host.js';
import { recordEvents } from '../helpers/events.js';

interface World {
  root: FerryRoot;
  ns: NetNs;
  loop: LoopFs;
  svc: string;
  dir: string;
  cli(args: string[], extraEnv?: Record<string, string>): ReturnType<typeof runCli>;
}

async function world(t: { teardown(fn: () => Promise<void> | void): void }): Promise<World> {
  requireRoot();
  const root = makeFerryRoot('node1');
  const ns = await makeNetNs('eth0', '10.213.50.1/24');
  const loop = await makeLoopExt4();
  const svc = `${uniquePrefix('svc')}.test`;
  const w: World = {
    root,
    ns,
    loop,
    svc,
    dir: loop.dir,
    cli: (args, extraEnv = {}) => runCli('svcmgr', args, { ...root.env, ...extraEnv }, { wrap: ns.wrap }),
  };
  t.teardown(async () => {
    await w.cli(['-s', svc, 'stop']).catch(() => undefined);
    const ids = await sh('docker', ['ps', '-aq', '--filter', `name=${svc}`], { reject: false });
    for (const id of ids.stdout.split('\n').filter(Boolean)) await sh('docker', ['rm', '-f', id], { reject: false });
    await loop.remove();
    await ns.remove();
    root.cleanup();
  });
  return w;
}

function writeService(w: World, body: string): void {
  fs.writeFileSync(path.join(w.root.services, `${w.svc}.env`), body);
}

const readNs = (file: string): number => Number(BigInt(fs.readFileSync(file, 'utf8').trim()) / 1_000_000n);

async function addressPresent(w: World, ip: string): Promise<boolean> {
  const r = await sh('ip', ['-n', w.ns.name, '-o', 'addr', 'show', 'dev', 'eth0']);
  return r.stdout.includes(` ${ip}/`);
}

const mounted = (mnt: string): boolean =>
  fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);

test.serial('start runs ip and fs side by side, then container, then app; stop in exact reverse', async (t) => {
  const w = await world(t);
  const mnt = path.join(w.dir, 'mnt');
  writeService(
    w,
    `[DEFAULT]
nodes = node1

[app#1]
start = /bin/sh -c "date +%s%N > ${w.dir}/app.start; touch ${w.dir}/app.up"
stop = /bin/sh -c "date +%s%N > ${w.dir}/app.stop; rm -f ${w.dir}/app.up"
check = /bin/sh -c "test -e ${w.dir}/app.up"

[container#1]
type = docker
run_image = ${testImage}
run_command = /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait"

[fs#1]
dev = ${w.loop.dev}
mnt = ${mnt}
type = ext4

[ip#1]
ipname = 10.213.50.10
ipdev = eth0
netmask = 24
`,
  );
  const rec = await recordEvents({ netns: w.ns.name, mounts: true, containerPrefix: w.svc });
  try {
    const started = await w.cli(['-s', w.svc, 'start']);
    t.is(started.exitCode, 0, started.stderr);
    t.true(await addressPresent(w, '10.213.50.10'));
    t.true(mounted(mnt));
    await new Promise((r) => setTimeout(r, 300));
    const ipUp = rec.first('ip', /^(?!Deleted).*10\.213\.50\.10\//);
    const fsUp = rec.first('mount', new RegExp(`^mount\\s+${mnt}$`));
    const ctUp = rec.first('docker', new RegExp(` start ${w.svc.replace(/\./g, '\\.')}\\.container\\.1$`));
    t.truthy(ipUp, 'address event seen');
    t.truthy(fsUp, 'mount event seen');
    t.truthy(ctUp, 'container start event seen');
    const appUp = readNs(path.join(w.dir, 'app.start'));
    // the address and the storage start side by side (docs/architecture.md, ordering.ts); the
    // container waits for both
    t.true(ipUp!.at <= ctUp!.at, `ip (${ipUp!.at}) before container (${ctUp!.at})`);
    t.true(fsUp!.at <= ctUp!.at, `fs (${fsUp!.at}) before container (${ctUp!.at})`);
    t.true(ctUp!.at <= appUp, `container (${ctUp!.at}) before app (${appUp})`);

    const status = await w.cli(['-s', w.svc, 'print', 'status']);
    t.is(status.exitCode, 0, status.stdout);
    t.regex(status.stdout, /^overall\s+up$/m);

    const stopped = await w.cli(['-s', w.svc, 'stop']);
    t.is(stopped.exitCode, 0, stopped.stderr);
    await new Promise((r) => setTimeout(r, 300));
    const appDown = readNs(path.join(w.dir, 'app.stop'));
    const ctDown = rec.first('docker', new RegExp(` die ${w.svc.replace(/\./g, '\\.')}\\.container\\.1$`));
    const fsDown = rec.first('mount', new RegExp(`^umount\\s+${mnt}$`));
    const ipDown = rec.first('ip', /^Deleted.*10\.213\.50\.10\//);
    t.truthy(ctDown && fsDown && ipDown, JSON.stringify(rec.events));
    t.true(appDown <= ctDown!.at, 'app stopped before container');
    t.true(ctDown!.at <= fsDown!.at, 'container stopped before umount');
    t.true(fsDown!.at <= ipDown!.at, 'umount before address removal');
    t.false(await addressPresent(w, '10.213.50.10'));
    t.false(mounted(mnt));
    const after = await w.cli(['-s', w.svc, 'print', 'status']);
    t.is(after.exitCode, 1);
    t.regex(after.stdout, /^overall\s+down$/m);
  } finally {
    await rec.stop();
  }
});

test.serial('a parallel subset overlaps, a serial one does not, subsets run in name order', async (t) => {
  const w = await world(t);
  const app = (i: number, subset: string) => `
[app#${i}]
subset = ${subset}
start = /bin/sh -c "date +%s%N > ${w.dir}/s${i}; sleep 0.5; date +%s%N > ${w.dir}/e${i}"
`;
  writeService(
    w,
    `[DEFAULT]
nodes = node1
${app(1, '02par')}${app(2, '02par')}${app(3, '02par')}${app(4, '02par')}
[subset#app:02par]
parallel = true
${app(5, '01ser')}${app(6, '01ser')}
[subset#app:01ser]
parallel = false
`,
  );
  const r = await w.cli(['-s', w.svc, 'start']);
  t.is(r.exitCode, 0, r.stderr);
  const s = (i: number) => readNs(path.join(w.dir, `s${i}`));
  const e = (i: number) => readNs(path.join(w.dir, `e${i}`));
  const par = [1, 2, 3, 4];
  t.true(Math.max(...par.map(s)) < Math.min(...par.map(e)), 'all parallel members ran at the same time');
  t.true(e(5) <= s(6), 'serial members one after the other');
  t.true(e(6) <= Math.min(...par.map(s)), 'subset 01ser before 02par');
});

test.serial('a failing resource rolls the start back and leaves nothing running', async (t) => {
  const w = await world(t);
  const mnt = path.join(w.dir, 'mnt');
  writeService(
    w,
    `[DEFAULT]
nodes = node1

[ip#1]
ipname = 10.213.50.11
ipdev = eth0
netmask = 24

[fs#1]
dev = ${w.loop.dev}
mnt = ${mnt}
type = ext4

[container#1]
type = docker
run_image = ${testImage}
run_command = /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait"

[app#1]
start = /bin/touch ${w.dir}/app1.up
stop = /bin/rm -f ${w.dir}/app1.up
check = /bin/test -e ${w.dir}/app1.up

[app#2]
start = /bin/sh -c "echo cannot start >&2; exit 3"
`,
  );
  const r = await w.cli(['-s', w.svc, 'start']);
  t.is(r.exitCode, 1);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  t.regex(last, /start failed at app#2: .*exit 3/);
  t.regex(last, /rolled back/);
  t.false(await addressPresent(w, '10.213.50.11'), 'address removed');
  t.false(mounted(mnt), 'fs unmounted');
  t.false(fs.existsSync(path.join(w.dir, 'app1.up')), 'app#1 stopped');
  const ps = await sh('docker', ['ps', '-q', '--filter', `name=${w.svc}`]);
  t.is(ps.stdout.trim(), '', 'no container left running');
  const st = await w.cli(['-s', w.svc, 'print', 'status']);
  t.regex(st.stdout, /^\|- avail\s+down$/m);
});

test.serial('a killed container shows down', async (t) => {
  const w = await world(t);
  writeService(
    w,
    `[DEFAULT]
nodes = node1

[container#1]
type = docker
run_image = ${testImage}
run_command = /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait"
`,
  );
  t.is((await w.cli(['-s', w.svc, 'start'])).exitCode, 0);
  const up = await w.cli(['-s', w.svc, 'print', 'status']);
  t.regex(up.stdout, /container#1\s+\.\.\.\. up\s+[0-9a-f]{12}@/);
  await sh('docker', ['kill', `${w.svc}.container.1`]);
  const down = await w.cli(['-s', w.svc, 'print', 'status']);
  t.regex(down.stdout, /container#1\s+\.\.\.\. down\s+/);
  t.is(down.exitCode, 1);
});

test.serial('one action at a time: a second action fails clearly when it cannot wait', async (t) => {
  const w = await world(t);
  writeService(
    w,
    `[DEFAULT]
nodes = node1

[app#1]
start = /bin/sleep 2
`,
  );
  const first = w.cli(['-s', w.svc, 'start']);
  await new Promise((r) => setTimeout(r, 800));
  const second = await w.cli(['-s', w.svc, 'stop', '--waitlock', '0']);
  t.is(second.exitCode, 1);
  t.regex(second.stderr.trim(), /^svcmgr: service \S+: another action is running \(start, pid \d+/);
  t.is((await first).exitCode, 0);
  // and once free, an action that may wait gets through
  t.is((await w.cli(['-s', w.svc, 'stop', '--waitlock', '5'])).exitCode, 0);
});
