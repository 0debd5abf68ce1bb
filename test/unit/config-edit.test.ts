// set/unset rewrite only what they must; atomic writes leave nothing behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { EditError, setKeywords, unsetKeywords } from '../../src/config/edit.js';
import { parseDocument } from '../../src/config/document.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

// ip aliases as the drivers declare them
const canon = (_section: string, key: string): string => ({ name: 'ipname', dev: 'ipdev' })[key] ?? key;

const original = [
  '# service web',
  '[DEFAULT]',
  'nodes = n1 n2   ; two nodes',
  'orchestrate    =   start',
  '',
  '; the address',
  '[ip#1]',
  'name = 10.0.0.1',
  'dev@n1 = eth0',
  'dev = eth1',
  '[app#1]',
  'start = /bin/sh -c "a; b"',
  '  --more',
  '# kept comment',
  '  --still',
  'stop = /bin/true',
  '',
].join('\n');

test('replacing keeps spacing, alias spelling, scope and every other byte', (t) => {
  const out = setKeywords(original, [
    { section: 'DEFAULT', key: 'orchestrate', value: 'ha' },
    { section: 'ip#1', key: 'ipname', value: '10.0.0.2' },
    { section: 'ip#1', key: 'ipdev', scope: 'n1', value: 'eth9' },
  ], canon);
  t.is(out, original
    .replace('orchestrate    =   start', 'orchestrate    =   ha')
    .replace('name = 10.0.0.1', 'name = 10.0.0.2')
    .replace('dev@n1 = eth0', 'dev@n1 = eth9'));
});

test('replacing a multi-line value drops its continuation lines but keeps comments among them', (t) => {
  const out = setKeywords(original, [{ section: 'app#1', key: 'start', value: '/bin/x' }]);
  t.is(out, original.replace('start = /bin/sh -c "a; b"\n  --more\n# kept comment\n  --still\n', 'start = /bin/x\n# kept comment\n'));
  const multi = setKeywords(original, [{ section: 'app#1', key: 'stop', value: 'a\nb' }]);
  t.is(parseDocument(multi, 'f').doc.sections[2]!.entries[1]!.value, 'a\nb');
});

test('appending after the last entry of the section, and creating a section at the end', (t) => {
  const out = setKeywords(original, [
    { section: 'ip#1', key: 'netmask', value: '24' },
    { section: 'app#2', key: 'start', value: '/bin/sh -c "x; y" ' },
  ]);
  t.is(out, original.replace('dev = eth1\n', 'dev = eth1\nnetmask = 24\n') + '\n[app#2]\nstart = /bin/sh -c "x; y" \n');
  const e = parseDocument(out, 'f').doc.sections.at(-1)!.entries[0]!;
  t.is(e.value, '/bin/sh -c "x; y" ');
});

test('CRLF and a missing final end-of-line are kept', (t) => {
  const crlf = '[DEFAULT]\r\norchestrate = no\r\n[env]\r\na = 1';
  t.is(setKeywords(crlf, [{ section: 'DEFAULT', key: 'orchestrate', value: 'ha' }]), '[DEFAULT]\r\norchestrate = ha\r\n[env]\r\na = 1');
  t.is(setKeywords(crlf, [{ section: 'env', key: 'b', value: '2' }]), crlf + '\r\nb = 2');
  t.is(setKeywords(crlf, [{ section: 'DEFAULT', key: 'app', value: 'X' }]), '[DEFAULT]\r\norchestrate = no\r\napp = X\r\n[env]\r\na = 1');
  t.is(unsetKeywords(crlf, [{ section: 'env', key: 'a' }]), '[DEFAULT]\r\norchestrate = no\r\n[env]');
  t.is(setKeywords('', [{ section: 'DEFAULT', key: 'nodes', value: 'n1' }]), '[DEFAULT]\nnodes = n1\n');
});

test('unset removes the line and its continuation lines, only for that scope', (t) => {
  t.is(unsetKeywords(original, [{ section: 'ip#1', key: 'ipdev' }], canon), original.replace('dev = eth1\n', ''));
  t.is(unsetKeywords(original, [{ section: 'ip#1', key: 'dev', scope: 'n1' }], canon), original.replace('dev@n1 = eth0\n', ''));
  t.is(unsetKeywords(original, [{ section: 'app#1', key: 'start' }]), original.replace('start = /bin/sh -c "a; b"\n  --more\n# kept comment\n  --still\n', '# kept comment\n'));
  t.is(unsetKeywords(original, [{ section: 'app#1', key: 'nothere' }]), original);
});

test('set then unset of a new keyword is a byte-exact round trip', (t) => {
  const set = setKeywords(original, [{ section: 'DEFAULT', key: 'app', value: 'APP' }]);
  t.not(set, original);
  t.is(unsetKeywords(set, [{ section: 'DEFAULT', key: 'app' }]), original);
});

test('values the format cannot hold are refused', (t) => {
  for (const value of ['  lead', 'a\n\nb', 'a\n  b', 'a\n# b', 'a\r\nb']) {
    t.throws(() => setKeywords(original, [{ section: 'env', key: 'x', value }]), { instanceOf: EditError }, JSON.stringify(value));
  }
});

test('writeFileAtomic replaces content, keeps the mode, leaves no temp file', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-atomic-'));
  const file = path.join(dir, 'svc.env');
  fs.writeFileSync(file, 'old');
  fs.chmodSync(file, 0o600);
  writeFileAtomic(file, 'new\r\n');
  t.is(fs.readFileSync(file, 'utf8'), 'new\r\n');
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  writeFileAtomic(path.join(dir, 'fresh.env'), 'x');
  t.is(fs.statSync(path.join(dir, 'fresh.env')).mode & 0o777, 0o644);
  t.deepEqual(fs.readdirSync(dir).sort(), ['fresh.env', 'svc.env']);
  t.throws(() => writeFileAtomic(path.join(dir, 'nodir', 'x.env'), 'x'));
  t.deepEqual(fs.readdirSync(dir).sort(), ['fresh.env', 'svc.env']);
  fs.rmSync(dir, { recursive: true });
});
