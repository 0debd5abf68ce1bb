// Issue 8: a service file is outside input. Each size limit gives a `file:line: message`
// naming it, and files built to blow up resolution (fan-out, long chains, many duplicates)
// are answered at once. The bounds are on this process's CPU time, not the wall clock, so a
// loaded machine does not fail them; the figures are logged and far lower than the bounds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { parseDocument } from '../../src/config/document.js';
import { ConfigInvalid } from '../../src/config/errors.js';
import { configLimits } from '../../src/config/limits.js';
import { readServiceText } from '../../src/config/load.js';
import { validateText } from '../../src/config/validate.js';
import { opts } from './config-fake-drivers.js';

/** ms of CPU this process has used (the checks are synchronous: nothing else runs meanwhile) */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const check = (text: string, nodename = 'node1') => {
  const r = validateText(text, 'svc.env', opts(nodename));
  return { errors: r.errors.map(String), warnings: r.warnings.map(String) };
};

/** errors of a check, and how long it took */
function timed(text: string): { errors: string[]; ms: number } {
  const started = cpuMs();
  const { errors } = check(text);
  return { errors, ms: cpuMs() - started };
}

/** [env] with k0 = {env.k1}{env.k1}, ... `levels` lines, then the leaf */
function fanOut(levels: number, leaf: string): string {
  const lines = ['[DEFAULT]', 'nodes = node1 node2', '[env]'];
  for (let i = 0; i < levels; i++) lines.push(`k${i} = {env.k${i + 1}}{env.k${i + 1}}`);
  lines.push(`k${levels} = ${leaf}`, '[app#1]', 'start = /bin/echo {env.k0}');
  return lines.join('\n') + '\n';
}

/** [env] with k0 = {env.k1}, k1 = {env.k2}, ... `links` references, then the leaf */
function chain(links: number): string {
  const lines = ['[DEFAULT]', 'nodes = node1 node2', '[env]'];
  for (let i = 0; i < links; i++) lines.push(`k${i} = {env.k${i + 1}}`);
  lines.push(`k${links} = leaf`, '[app#1]', 'start = /bin/echo {env.k0}');
  return lines.join('\n') + '\n';
}

test('the fan-out file of issue 8 (22 levels, doubling) is answered at once, at the line that first expands too much', (t) => {
  const { errors, ms } = timed(fanOut(22, 'x'));
  t.log(`fan-out 22 levels: ${ms.toFixed(0)} ms of CPU`);
  // k5 (line 9) is 2^17 characters: the first over 65536
  t.deepEqual(errors, ['svc.env:9: value expands to more than the limit of 65536 characters']);
  t.true(ms < 5_000, `${ms} ms`);
});

test('a long leaf value gives the size error, never a RangeError', (t) => {
  const { errors, ms } = timed(fanOut(22, 'y'.repeat(60_000)));
  t.log(`fan-out with a 60000-character leaf: ${ms.toFixed(0)} ms of CPU`);
  t.deepEqual(errors, ['svc.env:25: value expands to more than the limit of 65536 characters']);
  t.true(ms < 5_000, `${ms} ms`);
});

test('fan-out within the limits resolves to the full value, each keyword expanded once', (t) => {
  // 15 levels: 32768 characters, 32768 paths through the references but 16 keywords
  const { errors, ms } = timed(fanOut(15, 'x'));
  t.deepEqual(errors, []);
  t.true(ms < 5_000, `${ms} ms`);
  // 40 levels of an empty leaf: 2^40 paths and no size, but deeper than the depth limit
  const deep = timed(fanOut(40, ''));
  t.log(`fan-out 40 levels, empty leaf: ${deep.ms.toFixed(0)} ms of CPU`);
  t.true(deep.errors.length > 0);
  t.true(deep.errors.every((e) => e.endsWith('references nested deeper than the limit of 32 levels')), deep.errors.join('\n'));
  t.true(deep.ms < 5_000, `${deep.ms} ms`);
});

test('reference depth: 32 levels resolve, 33 are an error at the line of each value nesting too deep', (t) => {
  // start = {env.k0} nests one level more than k0
  t.deepEqual(check(chain(31)).errors, []);
  t.deepEqual(check(chain(32)).errors, ['svc.env:38: references nested deeper than the limit of 32 levels']);
  // k0 (line 4) nests 33 deep, and the start line (39) through it; k1 nests 32: fine
  t.deepEqual(check(chain(33)).errors, [
    'svc.env:4: references nested deeper than the limit of 32 levels',
    'svc.env:39: references nested deeper than the limit of 32 levels',
  ]);
});

test('a 2000-link chain is answered at once', (t) => {
  const { errors, ms } = timed(chain(2000));
  t.log(`chain of 2000: ${ms.toFixed(0)} ms, ${errors.length} errors`);
  t.is(errors[0], 'svc.env:4: references nested deeper than the limit of 32 levels');
  t.true(errors.every((e) => e.endsWith('references nested deeper than the limit of 32 levels')));
  t.true(ms < 5_000, `${ms} ms`);
});

test('duplicate keys are checked in linear time (20,000 and 45,000 of them)', (t) => {
  for (const count of [20_000, 45_000]) {
    const lines = ['[DEFAULT]', 'nodes = node1 node2', '[env]'];
    for (let i = 0; i < count; i++) lines.push(`k = v${i}`);
    lines.push('[app#1]', 'start = /bin/echo {env.k}');
    const started = cpuMs();
    const r = check(lines.join('\n'));
    const ms = cpuMs() - started;
    t.log(`${count} duplicates: ${ms.toFixed(0)} ms of CPU`);
    t.deepEqual(r.errors, []);
    t.is(r.warnings.length, count - 1);
    // quadratic, 45,000 took over 6 s
    t.true(ms < 5_000, `${ms} ms`);
  }
});

test('file size: over 1 MiB is one error at line 1, and nothing else is read', (t) => {
  const line = `x = ${'a'.repeat(1000)}\n`;
  const text = '[env]\n' + line.repeat(Math.ceil(configLimits.fileBytes / line.length));
  const r = parseDocument(text, 'svc.env');
  t.true(r.truncated);
  t.deepEqual(r.errors.map(String), [`svc.env:1: file larger than the limit of 1 MiB (${Buffer.byteLength(text)} bytes)`]);
  t.deepEqual(check(text).errors, [`svc.env:1: file larger than the limit of 1 MiB (${Buffer.byteLength(text)} bytes)`]);
  // multi-byte characters count as bytes
  const wide = '[env]\nx = ' + 'é'.repeat(configLimits.fileBytes / 2) + '\n';
  t.true(parseDocument(wide, 'svc.env').truncated);
});

test('the service file is never read past the limit', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cfglimit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const big = path.join(dir, 'big.env');
  fs.writeFileSync(big, Buffer.alloc(configLimits.fileBytes + 1, 0x61));
  const e = t.throws(() => readServiceText(big, 'big'), { instanceOf: ConfigInvalid });
  t.is(e?.message, `${big}:1: file larger than the limit of 1 MiB (${configLimits.fileBytes + 1} bytes)`);
  fs.mkdirSync(path.join(dir, 'dir.env'));
  const d = t.throws(() => readServiceText(path.join(dir, 'dir.env'), 'dir'), { instanceOf: ConfigInvalid });
  t.is(d?.message, `${path.join(dir, 'dir.env')}:1: not a regular file`);
  const ok = path.join(dir, 'ok.env');
  fs.writeFileSync(ok, Buffer.alloc(configLimits.fileBytes, 0x61));
  t.is(readServiceText(ok, 'ok').length, configLimits.fileBytes);
});

test('line length: a line over 65536 characters is an error at its line; the rest is read', (t) => {
  const text = ['[env]', `a = ${'x'.repeat(configLimits.lineChars)}`, 'b = 1', '[app#1]', 'start = {env.b}'].join('\n');
  const r = parseDocument(text, 'svc.env');
  t.false(r.truncated);
  t.deepEqual(r.errors.map(String), [`svc.env:2: line longer than the limit of 65536 characters (${configLimits.lineChars + 4})`]);
  t.is(r.doc.sections[0]?.entries.map((e) => e.key).join(), 'b');
  t.deepEqual(parseDocument(['[env]', `a = ${'x'.repeat(configLimits.lineChars - 4)}`].join('\n'), 'svc.env').errors, []);
});

test('value size: continuation lines joined over 65536 characters are an error at the entry', (t) => {
  const piece = ` ${'x'.repeat(1000)}`;
  const text = ['[app#1]', 'start = /bin/sh -c', ...Array.from({ length: 70 }, () => piece), 'stop = /bin/true'].join('\n');
  const r = parseDocument(text, 'svc.env');
  t.deepEqual(r.errors.map(String), ['svc.env:2: value of "start" longer than the limit of 65536 characters (continued up to line 68)']);
  t.is(r.doc.sections[0]?.entries[1]?.key, 'stop');
});

test('number of sections: past 1024 is an error at the header, and the file is not read further', (t) => {
  const lines: string[] = [];
  for (let i = 0; i < configLimits.sections + 5; i++) lines.push(`[app#${i}]`, 'start = /bin/true');
  const r = parseDocument(lines.join('\n'), 'svc.env');
  t.true(r.truncated);
  t.deepEqual(r.errors.map(String), [`svc.env:${2 * configLimits.sections + 1}: more sections than the limit of 1024: the file is not read further`]);
  // validation reports only that (a cut file would add noise)
  t.deepEqual(check(lines.join('\n')).errors, r.errors.map(String));
});

test('number of keywords: past 50000 is an error at that line, and the file is not read further', (t) => {
  const lines = ['[env]'];
  for (let i = 0; i < configLimits.entries + 3; i++) lines.push(`k${i} = v`);
  const r = parseDocument(lines.join('\n'), 'svc.env');
  t.true(r.truncated);
  t.deepEqual(r.errors.map(String), [`svc.env:${configLimits.entries + 2}: more keywords than the limit of 50000: the file is not read further`]);
});

test('nodes: more than 64 names is an error at the nodes line', (t) => {
  const names = Array.from({ length: 65 }, (_, i) => `n${i}`);
  t.deepEqual(check(`[DEFAULT]\nnodes = ${names.join(' ')}\n`).errors, ['svc.env:2: nodes lists 65 nodes, more than the limit of 64']);
  t.deepEqual(check(`[DEFAULT]\nnodes = node1\ndrpnodes = ${names.join(',')}\n`).errors, ['svc.env:3: drpnodes lists 65 nodes, more than the limit of 64']);
  t.deepEqual(check(`[DEFAULT]\nnodes = ${names.slice(1).join(' ')}\n`, 'n1').errors, []);
});

test('total expansion: values expanding past 16 Mi characters together stop the check with one error', (t) => {
  // 300 values of 60000 characters each, on two nodes: 36 M characters of expansion
  const lines = ['[DEFAULT]', 'nodes = node1 node2', '[env]', `big = ${'b'.repeat(60_000)}`, 'big@node2 = c'];
  for (let i = 0; i < 300; i++) lines.push(`v${i} = {env.big}`);
  const started = cpuMs();
  const { errors } = check(lines.join('\n'));
  const ms = cpuMs() - started;
  t.log(`total expansion: ${ms.toFixed(0)} ms of CPU`);
  t.is(errors.length, 1, errors.join('\n'));
  t.regex(errors[0] ?? '', /^svc\.env:\d+: references of the file expand to more than the limit of 16777216 characters in total: values are not checked further$/);
  t.true(ms < 5_000, `${ms} ms`);
  // the same on one node of a small file is fine
  t.deepEqual(check(lines.slice(0, 30).join('\n')).errors, []);
});

test('resolutions: node-dependent references times many nodes stop the check with one error', (t) => {
  // 2000 values holding {nodename}, checked on 65 nodes: 130,000 resolutions
  const nodes = Array.from({ length: 64 }, (_, i) => `n${i}`).join(' ');
  const lines = ['[DEFAULT]', `nodes = ${nodes}`, '[env]'];
  for (let i = 0; i < 2000; i++) lines.push(`k${i} = /srv/{nodename}/${i}`);
  const started = cpuMs();
  const { errors } = check(lines.join('\n'));
  const ms = cpuMs() - started;
  t.log(`2000 node-dependent references on 65 nodes: ${ms.toFixed(0)} ms of CPU`);
  t.is(errors.length, 1, errors.join('\n'));
  t.regex(errors[0] ?? '', /^svc\.env:\d+: references of the file need more than the limit of 100000 resolutions in total: values are not checked further$/);
  t.true(ms < 5_000, `${ms} ms`);
  // on 3 nodes the same file is fine
  t.deepEqual(check(['[DEFAULT]', 'nodes = node1 n1 n2', ...lines.slice(2)].join('\n')).errors, []);
});
