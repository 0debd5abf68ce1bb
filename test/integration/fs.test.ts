// fs driver on loop devices and image files under /tmp/ferry-*: mount, idempotence, status
// against the kernel's mount table (checked here with findmnt, independently of the driver),
// busy unmounts, nested mounts, fsck refusal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { requireRoot, sh, uniquePrefix } from '../helpers/env.js';
import { makeResource } from '../helpers/driver-ctx.js';
import { createImage, createLoop } from '../helpers/loop-dev.js';
import type { LoopDev } from '../helpers/loop-dev.js';
import { mountDepth } from '../../src/resources/fs.js';
import { pidAlive as alive } from '../../src/util/pid-alive.js';

/** A fresh directory for mount points; teardown unmounts anything left below it, deepest first. */
function mountRoot(t: ExecutionContext, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-${prefix}-mnt-`));
  t.teardown(async () => {
    const left = (await sh('findmnt', ['-rn', '-o', 'TARGET'], { reject: false })).stdout
      .split('\n')
      .filter((m) => m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of left) {
      if ((await sh('umount', [m], { reject: false })).exitCode === 0) continue;
      await sh('fuser', ['-M', '-k', '-KILL', '-m', m], { reject: false });
      await new Promise((res) => setTimeout(res, 300));
      await sh('umount', [m], { reject: false });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function loopWithFs(t: ExecutionContext, prefix: string, mkfs: string[], sizeMiB = 64): Promise<LoopDev> {
  const loop = await createLoop(prefix, sizeMiB);
  t.teardown(() => loop.detach());
  await sh(mkfs[0]!, [...mkfs.slice(1), loop.dev]);
  return loop;
}

async function mountedAt(mnt: string): Promise<string | undefined> {
  const r = await sh('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', mnt], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim().split('\n').pop() : undefined;
}

test('ext4 on a block device: start mounts, twice is a no-op, stop unmounts, status follows', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const loop = await loopWithFs(t, p, ['mkfs.ext4', '-q']);
  const mnt = path.join(mountRoot(t, p), 'data'); // does not exist yet: start creates it
  const r = makeResource('fs', { dev: loop.dev, mnt, mnt_opt: 'rw,noatime' }, { type: 'ext4' });
  const label = `${loop.dev}@${mnt}`;

  t.deepEqual(await r.status(), { status: 'down', label, messages: [] });
  await r.start();
  t.is(await mountedAt(mnt), loop.dev);
  t.regex((await sh('findmnt', ['-n', '-o', 'OPTIONS', mnt])).stdout, /noatime/);
  t.deepEqual(await r.status(), { status: 'up', label, messages: [] });
  await r.start();
  t.is((await sh('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', mnt])).stdout.trim(), loop.dev, 'mounted once, not stacked');
  await r.stop();
  t.is(await mountedAt(mnt), undefined);
  t.deepEqual(await r.status(), { status: 'down', label, messages: [] });
  await r.stop();
});

test('another filesystem at the mount point is warn; start refuses to stack; stop leaves it alone', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const loop = await loopWithFs(t, p, ['mkfs.ext4', '-q']);
  const mnt = path.join(mountRoot(t, p), 'data');
  fs.mkdirSync(mnt);
  await sh('mount', ['-t', 'tmpfs', 'fyforeign', mnt]);
  const r = makeResource('fs', { device: loop.dev, mount_point: mnt }); // aliases; type defaults to ext4
  t.deepEqual(await r.status(), { status: 'warn', label: `${loop.dev}@${mnt}`, messages: [`${mnt} is mounted from fyforeign (tmpfs), not ${loop.dev}`] });
  await t.throwsAsync(() => r.start(), { message: `${mnt} is already mounted from fyforeign (tmpfs): refusing to mount ${loop.dev} over it` });
  await r.stop();
  t.is(await mountedAt(mnt), 'fyforeign');
});

test('stop kills the processes holding the filesystem (SIGTERM, then SIGKILL after stop_timeout) and unmounts', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const loop = await loopWithFs(t, p, ['mkfs.ext4', '-q']);
  const mnt = path.join(mountRoot(t, p), 'data');
  const r = makeResource('fs', { dev: loop.dev, mnt, stop_timeout: '1s' });
  await r.start();
  // one polite holder (cwd inside), one that ignores SIGTERM (open file inside)
  const polite = spawn('sleep', ['600'], { cwd: mnt, stdio: 'ignore', detached: true });
  const stubborn = spawn('sh', ['-c', `trap '' TERM; exec 3>${mnt}/held; while :; do sleep 1; done`], { stdio: 'ignore', detached: true });
  const pids = [polite.pid!, stubborn.pid!];
  t.teardown(async () => {
    // before the mount root's teardown (teardowns run last-in first-out): dead, not dying
    // whole process groups (detached), so the shell's `sleep` children holding fd 3 go too
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((res) => setTimeout(res, 100));
  });
  polite.unref();
  stubborn.unref();
  for (let i = 0; i < 50 && !fs.existsSync(path.join(mnt, 'held')); i++) await new Promise((res) => setTimeout(res, 100));
  t.is((await sh('umount', [mnt], { reject: false })).exitCode, 32, 'really busy');

  const started = Date.now();
  await r.stop();
  const took = Date.now() - started;
  t.is(await mountedAt(mnt), undefined);
  t.true(took >= 900, `waited stop_timeout before SIGKILL (${took} ms)`);
  t.true(took < 9_000, `bounded (${took} ms)`);
  await new Promise((res) => setTimeout(res, 200)); // let node reap the children
  t.false(alive(polite.pid!), 'holder with cwd inside killed');
  t.false(alive(stubborn.pid!), 'SIGTERM-proof holder killed');
  t.deepEqual((await r.status()).status, 'down');
});

test('nested mounts: the inner one must go first; depth orders them', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const outerDev = await loopWithFs(t, `${p}o`, ['mkfs.ext4', '-q']);
  const innerDev = await loopWithFs(t, `${p}i`, ['mkfs.ext4', '-q']);
  const outerMnt = path.join(mountRoot(t, p), 'svc');
  const innerMnt = path.join(outerMnt, 'appdata');
  t.true(mountDepth(innerMnt) === mountDepth(outerMnt) + 1);
  const outer = makeResource('fs', { dev: outerDev.dev, mnt: outerMnt }, { rid: 'fs#1' });
  const inner = makeResource('fs', { dev: innerDev.dev, mnt: innerMnt }, { rid: 'fs#2' });
  await outer.start();
  await inner.start(); // creates appdata inside the outer filesystem
  t.is(await mountedAt(innerMnt), innerDev.dev);
  t.true(fs.existsSync(path.join(outerMnt, 'lost+found')));
  await t.throwsAsync(() => outer.stop(), { message: `umount ${outerMnt}: busy: mounted below it: ${innerMnt}` });
  t.is(await mountedAt(outerMnt), outerDev.dev, 'outer left mounted');
  t.is((await inner.status()).status, 'up');
  await inner.stop();
  await outer.stop();
  t.is(await mountedAt(innerMnt), undefined);
  t.is(await mountedAt(outerMnt), undefined);
});

test('a regular file is loop-mounted, recognised by its backing file (even at a path with a space), and released', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const img = createImage(p, 32);
  t.teardown(() => img.remove());
  await sh('mkfs.ext4', ['-q', '-F', img.file]);
  const mnt = path.join(mountRoot(t, p), 'my data'); // mountinfo escapes the space as \040
  const r = makeResource('fs', { dev: img.file, mnt });
  await r.start();
  t.regex((await mountedAt(mnt)) ?? '', /^\/dev\/loop\d+$/);
  t.deepEqual(await r.status(), { status: 'up', label: `${img.file}@${mnt}`, messages: [] });
  await r.start();
  await r.stop();
  t.is(await mountedAt(mnt), undefined);
  // stop waits for the kernel to free the autoclear loop device; a mount namespace created by a
  // concurrent test while this mount existed (a container, a lab node) can hold a copy of the
  // mount a little longer, so poll, and name the holders if it never goes
  let attached = '';
  for (let i = 0; i < 100; i++) {
    attached = (await sh('losetup', ['-j', img.file])).stdout.trim();
    if (attached === '') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const holders = attached ? (await sh('sh', ['-c', `grep -l -F '${mnt.replace(/ /g, '\\040')}' /proc/[0-9]*/mountinfo 2>/dev/null | head -5 | while read f; do p=\${f#/proc/}; p=\${p%%/*}; echo "$p $(tr '\\0' ' ' < /proc/$p/cmdline | cut -c1-80)"; done`], { reject: false })).stdout : '';
  t.is(attached, '', `loop device released (mount still seen by: ${holders || 'nobody'})`);
});

test('xfs: checked with xfs_repair -n, mounted, unmounted', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const loop = await loopWithFs(t, p, ['mkfs.xfs', '-q', '-f'], 320); // xfsprogs 6 minimum is 300 MiB
  const mnt = path.join(mountRoot(t, p), 'data');
  const r = makeResource('fs', { dev: loop.dev, mnt }, { type: 'xfs' });
  await r.start();
  t.is((await sh('findmnt', ['-n', '-o', 'FSTYPE', mnt])).stdout.trim(), 'xfs');
  t.is((await r.status()).status, 'up');
  await r.stop();
  t.is(await mountedAt(mnt), undefined);
});

test('a filesystem e2fsck cannot repair is not mounted; fsck = false skips the check', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const loop = await loopWithFs(t, p, ['mkfs.ext4', '-q']);
  // wipe the primary superblock: e2fsck -p gives up (exit 8) and so does mount
  await sh('dd', ['if=/dev/zero', `of=${loop.dev}`, 'bs=1024', 'seek=1', 'count=1', 'conv=notrunc,fsync']);
  const mnt = path.join(mountRoot(t, p), 'data');
  const r = makeResource('fs', { dev: loop.dev, mnt });
  const e = await t.throwsAsync(() => r.start());
  t.regex(e?.message ?? '', new RegExp(`^e2fsck -p ${loop.dev} failed \\(exit 8\\)`));
  t.false((e?.message ?? '').includes('\n'));
  t.is(await mountedAt(mnt), undefined);
  const unchecked = makeResource('fs', { dev: loop.dev, mnt, fsck: 'false' });
  const e2 = await t.throwsAsync(() => unchecked.start());
  t.regex(e2?.message ?? '', /^mount /, 'fails in mount, not in fsck');
});

/** Mount dev in a new private mount namespace held by one sleeping process (the lab's dying node, a container). */
async function holdInOtherNamespace(t: ExecutionContext, dev: string, dir: string): Promise<{ pid: number }> {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -- "$0" "$1" && echo held && exec sleep 60`, dev, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return { pid: child.pid! };
}

test('a device still held by a mount of this host (a dying namespace) is waited for, then checked and mounted; held for good: refused', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const loop = await loopWithFs(t, p, ['mkfs.ext4', '-q']);
  const root = mountRoot(t, p);
  const mnt = path.join(root, 'data');
  const { exclusivelyFree, RELEASE_WAIT_MS } = await import('../../src/resources/device-release.js');
  t.true(exclusivelyFree(loop.dev));
  const holder = await holdInOtherNamespace(t, loop.dev, path.join(root, 'other'));
  t.false(exclusivelyFree(loop.dev), 'a mount in another namespace holds it');
  // the holder dies 300 ms into the start: its namespace's mount goes with it, asynchronously
  setTimeout(() => process.kill(holder.pid, 'SIGKILL'), 300);
  const r = makeResource('fs', { dev: loop.dev, mnt });
  const t0 = Date.now();
  await r.start();
  t.true(Date.now() - t0 >= 250, 'it waited for the release');
  t.is(await mountedAt(mnt), loop.dev);
  await r.stop();

  const again = await holdInOtherNamespace(t, loop.dev, path.join(root, 'other2'));
  const t1 = Date.now();
  const e = await t.throwsAsync(() => r.start());
  t.true(Date.now() - t1 >= RELEASE_WAIT_MS);
  t.is(e?.message, `${loop.dev} is in use on this host (a mount or an exclusive opener holds it) after waiting ${RELEASE_WAIT_MS} ms: refusing to check and mount it`);
  t.is(await mountedAt(mnt), undefined, 'nothing mounted');
  process.kill(again.pid, 'SIGKILL');
});

test('a missing device is down without a message (passive node); start fails', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const mnt = path.join(mountRoot(t, p), 'opt');
  const dev = `/dev/mapper/${p}-lvnone`;
  const r = makeResource('fs', { dev, mnt });
  t.deepEqual(await r.status(), { status: 'down', label: `${dev}@${mnt}`, messages: [] });
  await t.throwsAsync(() => r.start(), { message: `device ${dev} does not exist` });
  t.false(fs.existsSync(mnt), 'nothing created');
  await r.stop();
});

test('tmpfs: the source name identifies the mount', async (t) => {
  requireRoot();
  const p = uniquePrefix('f');
  const mnt = path.join(mountRoot(t, p), 'scratch');
  const r = makeResource('fs', { dev: `${p}tmp`, mnt, mnt_opt: 'size=8m' }, { type: 'tmpfs' });
  await r.start();
  t.is(await mountedAt(mnt), `${p}tmp`);
  t.is((await r.status()).status, 'up');
  const other = makeResource('fs', { dev: `${p}other`, mnt }, { type: 'tmpfs' });
  t.is((await other.status()).status, 'warn');
  await r.stop();
  t.is(await mountedAt(mnt), undefined);
});
