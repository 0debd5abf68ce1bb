// LogTail on real files: lines across reads, a file rotated (renamed, recreated) or truncated
// in place, an over-long line cut.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogTail } from '../../src/cli/log-tail.js';
import { MAX_LOG_LINE } from '../../src/cli/log-format.js';

function setup(t: { teardown(f: () => void): void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-logtail-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'svc.log');
  const lines: string[] = [];
  const tail = new LogTail(file, (l) => lines.push(l));
  t.teardown(() => tail.close());
  return { dir, file, lines, tail };
}

test('a missing file is no error; lines appear once complete', (t) => {
  const { file, lines, tail } = setup(t);
  tail.poll();
  fs.writeFileSync(file, 'one\ntw');
  tail.poll();
  t.deepEqual(lines, ['one']);
  fs.appendFileSync(file, 'o\nthré');
  tail.poll();
  t.deepEqual(lines, ['one', 'two']);
  tail.flush();
  t.deepEqual(lines, ['one', 'two', 'thré']);
});

test('rotation: the rest of the old file, then the new one from its start', (t) => {
  const { dir, file, lines, tail } = setup(t);
  fs.writeFileSync(file, 'a\n');
  tail.poll();
  fs.appendFileSync(file, 'b\n');
  fs.renameSync(file, path.join(dir, 'svc.log.1'));
  fs.writeFileSync(file, 'c\n');
  tail.poll();
  t.deepEqual(lines, ['a', 'b', 'c']);
});

test('truncation in place (copytruncate): read again from the start', (t) => {
  const { file, lines, tail } = setup(t);
  fs.writeFileSync(file, 'first line\nsecond line\n');
  tail.poll();
  fs.truncateSync(file, 0);
  fs.appendFileSync(file, 'x\n');
  tail.poll();
  t.deepEqual(lines, ['first line', 'second line', 'x']);
});

test('truncated then rewritten longer than before between two polls: read again from the start', (t) => {
  const { file, lines, tail } = setup(t);
  fs.writeFileSync(file, 'short\n');
  tail.poll();
  fs.truncateSync(file, 0);
  fs.appendFileSync(file, 'a much longer line than before\n');
  tail.poll();
  t.deepEqual(lines, ['short', 'a much longer line than before']);
});

test('a line longer than the bound is cut, the next one is whole', (t) => {
  const { file, lines, tail } = setup(t);
  fs.writeFileSync(file, `${'z'.repeat(MAX_LOG_LINE * 3)}\nnext\n`);
  tail.poll();
  t.is(lines.length, 2);
  t.true(lines[0]!.length < MAX_LOG_LINE + 100);
  t.regex(lines[0]!, /line cut at/);
  t.is(lines[1], 'next');
});
