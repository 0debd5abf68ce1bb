// The btrfs subvolume check on a real btrfs filesystem (a loop device): a subvolume passes; a
// plain directory on btrfs, a directory on another filesystem, a file, a missing path are
// each one reason; a service file with such a src is one file:line error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { requireRoot, sh } from '../helpers/env.js';
import { createLoop } from '../helpers/loop-dev.js';
import { notSubvolume } from '../../src/resources/sync-btrfs.js';
import { loadServiceConfig } from '../../src/config/load.js';
import { drivers } from '../../src/resources/registry.js';

test.serial('src must be the root of a btrfs subvolume', async (t) => {
  requireRoot();
  const loop = await createLoop('btrfs-check', 128);
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-btrfs-check-mnt-'));
  t.teardown(async () => {
    await sh('umount', ['-l', mnt], { reject: false });
    await loop.detach();
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  await sh('mkfs.btrfs', ['-q', '-f', loop.dev]);
  await sh('mount', [loop.dev, mnt]);
  await sh('btrfs', ['subvolume', 'create', `${mnt}/vol`]);
  fs.mkdirSync(`${mnt}/plain`);
  fs.writeFileSync(`${mnt}/file`, 'x');

  t.is(notSubvolume(`${mnt}/vol`), undefined);
  t.regex(notSubvolume(`${mnt}/plain`)!, /^a plain directory, not a subvolume \(inode \d+/);
  t.is(notSubvolume(`${mnt}/file`), 'not a directory');
  t.is(notSubvolume(`${mnt}/missing`), 'does not exist');
  t.regex(notSubvolume(os.tmpdir())!, /^not on a btrfs filesystem \(type 0x[0-9a-f]+\)$/);

  const file = path.join(mnt, 'svc.env');
  const load = (src: string): string => {
    fs.writeFileSync(file, `[DEFAULT]\nnodes = ${os.hostname()}\n\n[sync#1]\ntype = btrfs\nsrc = ${src}\n`);
    try {
      loadServiceConfig(file, 'svc', os.hostname(), drivers);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  t.is(load(`${mnt}/vol`), '');
  t.is(load(`${mnt}/missing`), '', 'absent on a node that never received a copy');
  t.regex(load(`${mnt}/plain`), /svc\.env:6: \[sync#1\] src \S+\/plain is not a btrfs subvolume: a plain directory/);
  t.regex(load(os.tmpdir()), /svc\.env:6: \[sync#1\] src \S+ is not a btrfs subvolume: not on a btrfs filesystem/);
});
