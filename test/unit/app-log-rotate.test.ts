// App output files in log mode keep one previous generation once they pass the limit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { rotateIfLarge } from '../../src/resources/app-command.js';

test('rotateIfLarge moves a file past the limit to .1, replacing the older one; smaller or absent files stay', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rot-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'app#1.out');
  t.false(rotateIfLarge(f, 10), 'absent');
  fs.writeFileSync(f, 'x'.repeat(10));
  t.false(rotateIfLarge(f, 10), 'at the limit');
  t.is(fs.readFileSync(f, 'utf8').length, 10);
  fs.writeFileSync(`${f}.1`, 'old generation');
  fs.appendFileSync(f, 'y');
  t.true(rotateIfLarge(f, 10));
  t.false(fs.existsSync(f));
  t.is(fs.readFileSync(`${f}.1`, 'utf8'), `${'x'.repeat(10)}y`);
});
