// Network fs types on this host, without a server: type nfs and nfs4 go through the driver
// up to the real mount (which fails here: no server, and this kernel has no NFS client),
// fail with one line, leave nothing mounted, and report down; the bounded unmount of
// fs-net-ops on a real (tmpfs) mount kept busy by a process and by a loop device on one of
// its files: the process is killed, the mount is detached with umount -f -l.
// GlusterFS for real: cluster-glusterfs.test.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { requireRoot, sh, uniquePrefix } from '../helpers/env.js';
import { makeResource } from '../helpers/driver-ctx.js';
import { netUmount } from '../../src/resources/fs-net-ops.js';
import { readMountinfo } from '../../src/util/mountinfo.js';
import { silentLogger } from '../../src/log.js';

const mountedAt = async (mnt: string): Promise<boolean> => (await readMountinfo()).some((e) => e.mountPoint === mnt);

for (const type of ['nfs', 'nfs4']) {
  test(`type ${type} without a server: start fails in one line, nothing mounted, status down`, async (t) => {
    requireRoot();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-${uniquePrefix('n')}-`));
    t.teardown(async () => {
      if (await mountedAt(`${dir}/data`)) await sh('umount', ['-f', '-l', `${dir}/data`], { reject: false });
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const mnt = `${dir}/data`;
    // retry=0: mount.nfs gives up at once (it retries for 2 minutes by default)
    const r = makeResource('fs', { dev: '127.0.0.1:/ferry-none', mnt, mnt_opt: 'retry=0,soft,timeo=10,retrans=1' }, { type });
    const t0 = Date.now();
    const e = await t.throwsAsync(() => r.start());
    t.log(`${type} start: ${e?.message} (${Date.now() - t0} ms)`);
    t.regex(e?.message ?? '', new RegExp(`^mount -t ${type} 127\\.0\\.0\\.1:/ferry-none ${mnt}: `));
    t.is((e?.message ?? '').split('\n').length, 1);
    t.false(await mountedAt(mnt));
    t.like(await r.status(), { status: 'down', label: `127.0.0.1:/ferry-none@${mnt}` });
    await r.stop(); // not mounted: nothing to do
  });
}

test('bounded unmount: a user is killed, a loop device keeps it busy, umount -f -l detaches it', async (t) => {
  requireRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-${uniquePrefix('n')}-`));
  const mnt = `${dir}/m`;
  fs.mkdirSync(mnt);
  let loop = '';
  t.teardown(async () => {
    if (loop) await sh('losetup', ['-d', loop], { reject: false });
    if (await mountedAt(mnt)) await sh('umount', ['-l', mnt], { reject: false });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await sh('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'ferry-net-test', mnt]);
  await sh('dd', ['if=/dev/zero', `of=${mnt}/img`, 'bs=1M', 'count=2']);
  loop = (await sh('losetup', ['-f', '--show', `${mnt}/img`])).stdout.trim();
  const user = spawn('sleep', ['1000'], { cwd: mnt, stdio: 'ignore' });
  t.teardown(() => void user.kill('SIGKILL'));
  const gone = new Promise((r) => user.on('exit', r));
  const warns: unknown[] = [];
  const log = silentLogger();
  const spy = Object.assign(Object.create(log) as typeof log, { warn: (o: unknown) => void warns.push(o) });
  const t0 = Date.now();
  const how = await netUmount(mnt, { stopTimeoutMs: 2_000, mounted: () => mountedAt(mnt) }, spy);
  t.log(`netUmount: ${how} in ${Date.now() - t0} ms`);
  t.is(how, 'forced');
  t.false(await mountedAt(mnt));
  await gone;
  t.like(warns[0], { event: 'fs_forced_umount', mnt });
});
