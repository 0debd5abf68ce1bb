// Configuration values passed to commands are operands, never options (issue 8 item 6): each
// command runs for real with a hostile value ("-a", "--all", "-V") and must treat it as a
// name. Mount/umount run only inside a throw-away private mount namespace (`umount -a` would
// otherwise unmount everything); LVM runs under a private LVM_SYSTEM_DIR that sees no disk.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { repoRoot, requireRoot, uniquePrefix } from '../helpers/env.js';
import { makeResource } from '../helpers/driver-ctx.js';
import { silentLogger } from '../../src/log.js';
import { fsck, fuserOperand, mountArgv, umountArgv } from '../../src/resources/fs-ops.js';
import { interfaceNameProblem } from '../../src/resources/ip-tools.js';
import { readVg, vgchange, vgchangeArgv, vgDisks } from '../../src/resources/lvm.js';
import { readKeys } from '../../src/resources/scsi-pr.js';
import { resolveUser } from '../../src/resources/app-env.js';

const log = silentLogger();
const dist = (p: string): string => JSON.stringify(path.join(repoRoot, 'dist', 'src', p));

/** Run an ESM snippet in a new private mount namespace; resolves with its last stdout line as JSON. */
function inMountNamespace(script: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch {
        reject(new Error(`namespace script gave no JSON (exit ${code}): ${err.trim() || out.trim()}`));
      }
    });
  });
}

test('argv builders put -- before every configured value', (t) => {
  t.deepEqual(mountArgv('ext4', '-a', '--all', ['rw']), ['-t', 'ext4', '-o', 'rw', '--', '-a', '--all']);
  t.deepEqual(mountArgv('tmpfs', 'x', '/m', []), ['-t', 'tmpfs', '--', 'x', '/m']);
  t.deepEqual(umountArgv('-a'), ['--', '-a']);
  t.deepEqual(vgchangeArgv(['-an'], '--all'), ['-an', '--', '--all']);
  t.deepEqual(vgchangeArgv(['--deltag', 'a', '--deltag', 'b'], 'vg1'), ['--deltag', 'a', '--deltag', 'b', '--', 'vg1']);
  // fuser has no `--`: only absolute paths get to it
  t.is(fuserOperand('/srv/x'), '/srv/x');
  t.throws(() => fuserOperand('-k'), { message: 'fuser: "-k" is not an absolute path' });
});

test.serial('umount "-a" and mount of a "-a" source are names, not options (private mount namespace)', async (t) => {
  requireRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${uniquePrefix('mnt')}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tag = uniquePrefix('tmp');
  const script = `
    import fs from 'node:fs';
    import { execFileSync } from 'node:child_process';
    const ops = await import(${dist('resources/fs-ops.js')});
    const { silentLogger } = await import(${dist('log.js')});
    const log = silentLogger();
    const mounts = () => fs.readFileSync('/proc/self/mounts', 'utf8').trim().split('\\n');
    execFileSync('mount', ['-t', 'tmpfs', ${JSON.stringify(tag)}, ${JSON.stringify(dir)}]);
    const before = mounts().length;
    let umountError = null;
    try { await ops.umount('-a', { stopTimeoutMs: 100, submounts: async () => [] }, log); } catch (e) { umountError = e.message; }
    const afterUmount = mounts();
    execFileSync('umount', [${JSON.stringify(dir)}]);
    let mountError = null;
    try { await ops.mount('tmpfs', '-a', ${JSON.stringify(dir)}, [], log); } catch (e) { mountError = e.message; }
    const mounted = mounts().find((l) => l.split(' ')[1] === ${JSON.stringify(dir)}) ?? null;
    console.log(JSON.stringify({ before, after: afterUmount.length, ours: afterUmount.some((l) => l.startsWith(${JSON.stringify(tag)} + ' ')), umountError, mountError, mounted }));
  `;
  const r = await inMountNamespace(script);
  t.is(r.after, r.before, 'umount -- -a unmounted nothing');
  t.true(r.ours, 'our tmpfs is still mounted');
  // umount's own answer about a path called "-a", not a usage error and not `umount -a`
  t.regex(String(r.umountError), /^umount -a: umount: -a: (not mounted|no mount point specified)/);
  t.is(r.mountError, null);
  t.regex(String(r.mounted), new RegExp(`^-a ${dir.replace(/[.]/g, '\\.')} tmpfs `), 'a tmpfs whose source is named "-a"');
});

test.serial('LVM gets "-a" / "--all" as a VG name and refuses it', async (t) => {
  requireRoot();
  // an LVM that sees no disk at all: even a VG-less `vgs`/`vgchange` would touch nothing
  const sysdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-lvm-'));
  fs.writeFileSync(path.join(sysdir, 'lvm.conf'), 'devices {\n  global_filter = [ "r|.*|" ]\n  use_devicesfile = 0\n}\n');
  const saved = process.env.LVM_SYSTEM_DIR;
  process.env.LVM_SYSTEM_DIR = sysdir;
  t.teardown(() => {
    if (saved === undefined) delete process.env.LVM_SYSTEM_DIR;
    else process.env.LVM_SYSTEM_DIR = saved;
    fs.rmSync(sysdir, { recursive: true, force: true });
  });
  await t.throwsAsync(readVg('--all', log), { message: /^vgs --all: .*(invalid characters|Cannot process volume group --all)/ });
  await t.throwsAsync(vgDisks('-a', log), { message: /^vgs -o pv_name -a: .*(invalid characters|Cannot process volume group -a)/ });
  await t.throwsAsync(vgchange(['-an'], '--all', log), { message: /^vgchange -an -- --all: .*invalid characters/ });
});

test.serial('e2fsck, xfs_repair, sg_persist and getent get "-V" / "--help" as a name', async (t) => {
  requireRoot();
  // without `--` each of these prints its version or help and exits 0
  await t.throwsAsync(fsck('ext4', '-V', log), { message: /^e2fsck -p -V failed \(exit 8\)/ });
  await t.throwsAsync(fsck('xfs', '-V', log), { message: /^xfs_repair -n -V found problems \(exit 1\)/ });
  await t.throwsAsync(readKeys('-V', log), { message: /error opening file -V/ });
  await t.throwsAsync(resolveUser('--help'), { message: 'unknown user --help' });
});

test('interfaceNameProblem: the kernel rule plus no leading "-"', (t) => {
  for (const ok of ['eth0', 'lo', 'br-lan', 'veth_a.10', 'x'.repeat(15), 'enp0s31f6']) t.is(interfaceNameProblem(ok), undefined, ok);
  for (const bad of ['-a', '--all', '', '.', '..', 'x'.repeat(16), 'eth0:1', 'a/b', 'a b', 'a\tb']) t.not(interfaceNameProblem(bad), undefined, bad);
});

test.serial('an ipdev starting with "-" is refused with one line and no command runs', async (t) => {
  // a PATH whose ip, arping and ping only record that they were called
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fakebin-'));
  const calls = path.join(bin, 'calls');
  for (const tool of ['ip', 'arping', 'ping']) {
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho ${tool} "$@" >> ${calls}\nexit 1\n`, { mode: 0o755 });
  }
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved ?? ''}`;
  t.teardown(() => {
    process.env.PATH = saved;
    fs.rmSync(bin, { recursive: true, force: true });
  });
  for (const ipdev of ['-a', '--all', 'eth0 x']) {
    const ip = makeResource('ip', { ipname: '10.213.9.9', ipdev, netmask: '24' });
    const why = interfaceNameProblem(ipdev)!;
    const message = `ipdev ${JSON.stringify(ipdev)} is not a valid network interface name: ${why}`;
    await t.throwsAsync(ip.start(), { message });
    await t.throwsAsync(ip.stop(), { message });
    t.deepEqual(await ip.status(), { status: 'undef', label: `10.213.9.9@${ipdev}`, messages: [message] });
    t.false(message.includes('\n'));
  }
  t.false(fs.existsSync(calls), `commands ran: ${fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : ''}`);
});
