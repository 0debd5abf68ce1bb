// Network filesystems of the fs driver: dev = host:/path validated at its line (one error,
// file:line), the kernel types a mount of each shows, and which mount table entry is ours.
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import { drivers } from '../../src/resources/registry.js';
import { kernelTypes, netEntryMatches, parseNetDev } from '../../src/resources/fs-net.js';
import type { MountEntry } from '../../src/util/mountinfo.js';

const head = '[DEFAULT]\nnodes = node1 node2\n';
const errors = (text: string) => validateText(text, 'svc.env', { svcname: 'svc1', nodename: 'node1', drivers }).errors.map(String);
const fs1 = (...lines: string[]) => head + ['[fs#1]', ...lines, 'mnt = /srv/data'].join('\n') + '\n';

test('good network devs pass', (t) => {
  t.deepEqual(errors(fs1('type = glusterfs', 'dev = 10.0.0.1:/gv0')), []);
  t.deepEqual(errors(fs1('type = glusterfs', 'dev = gl1.example.com:/gv0/sub', 'mnt_opt = backup-volfile-servers=gl2:gl3')), []);
  t.deepEqual(errors(fs1('type = nfs', 'dev = nas:/export/data', 'mnt_opt = vers=4.2,soft')), []);
  t.deepEqual(errors(fs1('type = nfs4', 'dev = [fd00::1]:/')), []);
  t.deepEqual(errors(fs1('type = nfs4', 'dev = nas:/export/', 'fsck = true')), []);
});

test('a bad dev is one error at its line, naming the type and the expected form', (t) => {
  t.deepEqual(errors(fs1('type = glusterfs', 'dev = /dev/sdb1')), ['svc.env:5: [fs#1] bad dev "/dev/sdb1" for type glusterfs: expected host:/volume: no "host:" part']);
  t.deepEqual(errors(fs1('type = nfs', 'dev = nas:export')), ['svc.env:5: [fs#1] bad dev "nas:export" for type nfs: expected host:/export/path: the path after "nas:" must start with /']);
  t.deepEqual(errors(fs1('dev = bad_host!:/x', 'type = nfs4')), ['svc.env:4: [fs#1] bad dev "bad_host!:/x" for type nfs4: expected host:/export/path: "bad_host!" is not a host name or address']);
  t.deepEqual(errors(fs1('type = nfs', 'dev = nas:/a/../b')), ['svc.env:5: [fs#1] bad dev "nas:/a/../b" for type nfs: expected host:/export/path: "/a/../b" is not a clean absolute path']);
  t.deepEqual(errors(fs1('type = glusterfs', 'dev = h:/')), ['svc.env:5: [fs#1] bad dev "h:/" for type glusterfs: expected host:/volume: "/" does not start with a volume name']);
  // a local type is untouched by these rules
  t.deepEqual(errors(fs1('type = ext4', 'dev = /dev/sdb1')), []);
});

test('parseNetDev', (t) => {
  t.deepEqual(parseNetDev('10.1.2.3:/gv0', 'glusterfs'), { host: '10.1.2.3', path: '/gv0' });
  t.deepEqual(parseNetDev('[fd00::1]:/x', 'nfs'), { host: '[fd00::1]', path: '/x' });
  t.is(typeof parseNetDev('', 'nfs'), 'string');
  t.is(typeof parseNetDev('a b:/x', 'nfs'), 'string');
  t.is(typeof parseNetDev(':/x', 'nfs'), 'string');
  t.is(typeof parseNetDev('[fd00::1:/x', 'nfs'), 'string');
  t.is(typeof parseNetDev('-o:/x', 'nfs'), 'string', 'a host that reads as an option');
  t.is(typeof parseNetDev('h://x', 'nfs'), 'string');
});

const entry = (source: string, fsType: string): MountEntry => ({ id: 1, parent: 0, majorMinor: '0:50', root: '/', mountPoint: '/srv/data', options: 'rw', fsType, source });

test('our mount: source and kernel type', (t) => {
  t.deepEqual(kernelTypes('glusterfs'), ['fuse.glusterfs']);
  t.true(netEntryMatches(entry('10.0.0.1:/gv0', 'fuse.glusterfs'), '10.0.0.1:/gv0', 'glusterfs'));
  t.false(netEntryMatches(entry('10.0.0.2:/gv0', 'fuse.glusterfs'), '10.0.0.1:/gv0', 'glusterfs'));
  t.false(netEntryMatches(entry('10.0.0.1:/gv0', 'nfs'), '10.0.0.1:/gv0', 'glusterfs'));
  // mount -t nfs against a v4 server is an nfs4 mount; nfs4 asked for is nfs4 only
  t.true(netEntryMatches(entry('nas:/export', 'nfs4'), 'nas:/export', 'nfs'));
  t.true(netEntryMatches(entry('nas:/export', 'nfs'), 'nas:/export/', 'nfs'));
  t.false(netEntryMatches(entry('nas:/export', 'nfs'), 'nas:/export', 'nfs4'));
  t.true(netEntryMatches(entry('nas:/', 'nfs4'), 'nas:/', 'nfs4'));
});
