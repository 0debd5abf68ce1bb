// svcmgr and svcmon run as bundles (scripts/bundle-cli.mjs, src/cli/run-bundle.ts): the
// commands the tests, the lab and the package run are the bundles, each with the code cache
// of its own build; a cache of another build is never handed to V8 (it checks the length only).
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { bundleId, cacheFor } from '../../src/cli/run-bundle.js';
import { distCli } from '../helpers/env.js';

test('a cache is used only for the build whose id it starts with', (t) => {
  const id = 'ab'.repeat(12);
  t.is(bundleId(`// ferry-bundle ${id}\n"use strict";`), id);
  t.is(bundleId(`"use strict";\n// ferry-bundle ${id}\n`), undefined);
  t.is(bundleId('// ferry-bundle xyz\n'), undefined);
  const data = Buffer.from([1, 2, 3]);
  t.deepEqual(cacheFor(id, Buffer.concat([Buffer.from(`${id}\n`), data])), data);
  t.is(cacheFor('cd'.repeat(12), Buffer.concat([Buffer.from(`${id}\n`), data])), undefined, 'another build');
  t.is(cacheFor(id, Buffer.from(`${id}\n`)), undefined, 'no data');
  t.is(cacheFor(undefined, Buffer.concat([Buffer.from(`${id}\n`), data])), undefined, 'a bundle without an id');
  t.is(cacheFor(id, undefined), undefined, 'no cache file');
});

for (const name of ['svcmgr', 'svcmon']) {
  test(`${name}: the command runs its bundle, which has the code cache of its build`, (t) => {
    const cmd = fs.readFileSync(distCli(name), 'utf8');
    t.regex(cmd, new RegExp(`runBundle\\('${name}', import\\.meta\\.url\\)`));
    const dir = path.dirname(distCli(name));
    const id = bundleId(fs.readFileSync(path.join(dir, `${name}.bundle.js`), 'utf8'));
    t.truthy(id, 'the bundle starts with its build id');
    t.truthy(cacheFor(id, fs.readFileSync(path.join(dir, `${name}.bundle.cache`))), 'the cache is of this build');
  });
}
