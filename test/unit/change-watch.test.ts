import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChangeWatch } from '../../src/daemon/change-watch.js';

// Real directories and real inotify: a change must make mustStat() true, no change must not.

function setup(t: { teardown: (f: () => void) => void }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-test-chwatch-'));
  const services = path.join(root, 'services');
  const vars = path.join(root, 'var');
  fs.mkdirSync(services);
  fs.mkdirSync(path.join(vars, 'a'), { recursive: true });
  fs.mkdirSync(path.join(vars, 'b'), { recursive: true });
  fs.writeFileSync(path.join(services, 'a.env'), '[DEFAULT]\n');
  fs.writeFileSync(path.join(services, 'b.env'), '[DEFAULT]\n');
  const varOf = (n: string) => path.join(vars, n);
  const w = new ChangeWatch(services, varOf, 60_000);
  t.teardown(() => {
    w.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const ino = (n: string) => fs.statSync(varOf(n)).ino;
  /** what the daemon does at a tick: ask, and stat (here: tell the var dir's inode) when told to */
  const tick = (n: string, now: number): boolean => {
    const must = w.mustStat(n, now);
    if (must) w.varDirStat(n, fs.existsSync(varOf(n)) ? ino(n) : undefined);
    return must;
  };
  return { services, varOf, w, tick };
}

/** inotify's events reach the loop asynchronously: wait until mustStat says true, or give up */
async function eventually(f: () => boolean, ms = 3_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (f()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

const settle = () => new Promise((r) => setTimeout(r, 100));

test('no change: no stat after the first ones; an edit of the file: a stat of that service only', async (t) => {
  const { services, tick } = setup(t);
  let now = 1_000;
  t.true(tick('a', now), 'never stat-ed');
  t.true(tick('b', now));
  await settle();
  // the watch was set after the first stat: one more look, then nothing
  tick('a', ++now);
  tick('b', now);
  await settle();
  t.false(tick('a', ++now));
  t.false(tick('b', now));
  fs.appendFileSync(path.join(services, 'a.env'), 'nodes = n1\n');
  t.true(await eventually(() => tick('a', ++now)));
  t.false(tick('b', now), 'another service is not stat-ed');
  t.false(tick('a', ++now), 'once stat-ed, quiet again');
});

test('a file replaced by rename (an atomic write) and a change in the var dir are both seen', async (t) => {
  const { services, varOf, tick } = setup(t);
  let now = 1_000;
  tick('a', now);
  await settle();
  tick('a', ++now);
  await settle();
  t.false(tick('a', ++now));
  fs.writeFileSync(path.join(services, '.a.env.tmp'), '[DEFAULT]\nnodes = n2\n');
  fs.renameSync(path.join(services, '.a.env.tmp'), path.join(services, 'a.env'));
  t.true(await eventually(() => tick('a', ++now)));
  t.false(tick('a', ++now));
  fs.writeFileSync(path.join(varOf('a'), 'frozen'), '');
  t.true(await eventually(() => tick('a', ++now)));
});

test('a var dir that does not exist, or was made anew, is stat-ed at every tick until watched again', async (t) => {
  const { varOf, tick } = setup(t);
  let now = 1_000;
  fs.rmSync(varOf('a'), { recursive: true });
  t.true(tick('a', now));
  t.true(tick('a', ++now), 'not watched: stat-ed at every tick');
  fs.mkdirSync(varOf('a'));
  t.true(tick('a', ++now), 'made: watched from this stat on, looked at once more');
  await settle();
  tick('a', ++now);
  await settle();
  t.false(tick('a', ++now));
  // removed and made again: the old watch is on a gone inode
  fs.rmSync(varOf('a'), { recursive: true });
  fs.mkdirSync(varOf('a'));
  t.true(await eventually(() => tick('a', ++now)));
  await settle();
  tick('a', ++now);
  await settle();
  t.false(tick('a', ++now));
  fs.writeFileSync(path.join(varOf('a'), 'x'), '');
  t.true(await eventually(() => tick('a', ++now)), 'the new var dir is the one watched');
});

test('every service is stat-ed again after restatMs even without an event (inotify can drop them)', async (t) => {
  const { tick } = setup(t);
  tick('a', 1_000);
  await settle();
  tick('a', 1_001);
  await settle();
  t.false(tick('a', 1_002));
  t.false(tick('a', 1_001 + 59_999));
  t.true(tick('a', 1_001 + 60_000));
});

test('a services directory made after the start is watched once it exists', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-test-chwatch-'));
  const services = path.join(root, 'services');
  const varDir = path.join(root, 'var', 'a');
  fs.mkdirSync(varDir, { recursive: true });
  const w = new ChangeWatch(services, () => varDir, 5_000);
  t.teardown(() => {
    w.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const ino = fs.statSync(varDir).ino;
  t.true(w.mustStat('a', 1_000));
  w.varDirStat('a', ino);
  t.true(w.mustStat('a', 1_001), 'services dir not watched: every tick');
  fs.mkdirSync(services);
  t.true(w.mustStat('a', 2_000), 'retry only after restatMs');
  t.true(w.mustStat('a', 6_001), 'the retry watches it; what changed before is looked at');
  await settle();
  t.false(w.mustStat('a', 6_002));
  fs.writeFileSync(path.join(services, 'a.env'), '[DEFAULT]\n');
  t.true(await eventually(() => w.mustStat('a', 6_003)));
});
