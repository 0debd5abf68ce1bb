// vg driver on real LVM metadata over loop devices. LV activation needs device-mapper, which
// the test kernel lacks: ownership (tags) is tested fully, activation where the kernel allows.
import fs from 'node:fs';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { requireRoot, uniquePrefix } from '../helpers/env.js';
import { makeResource } from '../helpers/driver-ctx.js';
import { addLvToMetadata, createLoopVg, lvm, vgTags } from '../helpers/loop-lvm.js';
import type { LoopVg } from '../helpers/loop-lvm.js';

const haveDeviceMapper = fs.existsSync('/dev/mapper/control') && fs.existsSync('/sys/module/dm_mod');

async function loopVg(t: ExecutionContext): Promise<LoopVg> {
  requireRoot();
  const vg = await createLoopVg(uniquePrefix('v'));
  t.teardown(() => vg.cleanup());
  return vg;
}

test.serial('start tags the VG for this node; status up; start again is a no-op; stop untags', async (t) => {
  const vg = await loopVg(t);
  const r = makeResource('vg', { vgname: vg.name }, { nodename: 'deb1.opensvc.com' });
  t.deepEqual(await r.status(), { status: 'down', label: vg.name, messages: [] });
  await r.start();
  t.deepEqual(await vgTags(vg.name), ['deb1.opensvc.com']);
  t.deepEqual(await r.status(), { status: 'up', label: vg.name, messages: [] });
  await r.start();
  t.deepEqual(await vgTags(vg.name), ['deb1.opensvc.com']);
  await r.stop();
  t.deepEqual(await vgTags(vg.name), []);
  t.deepEqual(await r.status(), { status: 'down', label: vg.name, messages: [] });
  await r.stop();
  t.deepEqual(await vgTags(vg.name), []);
});

test.serial('takeover: the previous owner\'s tag is replaced by ours; its status then is down', async (t) => {
  const vg = await loopVg(t);
  await lvm('vgchange', ['--addtag', 'deb2.opensvc.com', vg.name]);
  const here = makeResource('vg', { name: vg.name }, { nodename: 'deb1.opensvc.com' }); // modern alias
  const there = makeResource('vg', { vgname: vg.name }, { nodename: 'deb2.opensvc.com' });
  t.deepEqual(await here.status(), { status: 'down', label: vg.name, messages: [] });
  t.is((await there.status()).status, 'up');
  await here.start();
  t.deepEqual(await vgTags(vg.name), ['deb1.opensvc.com']);
  t.is((await here.status()).status, 'up');
  t.is((await there.status()).status, 'down');
});

test.serial('node names are mapped to valid LVM tags', async (t) => {
  const vg = await loopVg(t);
  const r = makeResource('vg', { vgname: vg.name, scsireserv: 'false' }, { nodename: 'node 1:a/b' });
  await r.start();
  t.deepEqual(await vgTags(vg.name), ['node_1_a_b']);
  t.is((await r.status()).status, 'up');
  await r.stop();
  t.deepEqual(await vgTags(vg.name), []);
});

test.serial('tagged with inactive LVs is warn with a message; activation failure fails start', async (t) => {
  const vg = await loopVg(t);
  await addLvToMetadata(vg.name, 'lvdata');
  const r = makeResource('vg', { vgname: vg.name }, { nodename: 'node1' });
  t.deepEqual(await r.status(), { status: 'down', label: vg.name, messages: [] });
  await lvm('vgchange', ['--addtag', 'node1', vg.name]);
  t.deepEqual(await r.status(), {
    status: 'warn',
    label: vg.name,
    messages: ['tagged for this node but 1 of 1 logical volumes inactive: lvdata'],
  });
  if (haveDeviceMapper) {
    await r.start();
    t.is((await r.status()).status, 'up');
  } else {
    const e = await t.throwsAsync(() => r.start());
    t.regex(e?.message ?? '', new RegExp(`^vgchange -ay -- ${vg.name}: `));
    t.false((e?.message ?? '').includes('\n'), 'one-line reason');
  }
  await r.stop();
  t.deepEqual(await vgTags(vg.name), []);
});

test.serial('a missing VG is down without a message; start fails; stop is a no-op', async (t) => {
  requireRoot();
  const name = `${uniquePrefix('v')}none`;
  const r = makeResource('vg', { vgname: name });
  t.deepEqual(await r.status(), { status: 'down', label: name, messages: [] });
  await t.throwsAsync(() => r.start(), { message: `volume group ${name} not found` });
  await t.notThrowsAsync(() => r.stop());
});
