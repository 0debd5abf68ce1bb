// svcmgr and svcmon run as bundles (scripts/bundle-cli.mjs, src/cli/run-bundle.ts): the
// commands the tests, the lab and the package run are the bundles, each with the code cache
// of its own build; a cache of another build is never handed to V8 (it checks the length only).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
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
    // <name>.js is a link to the CommonJS command (no ES loader at start)
    t.is(fs.readlinkSync(distCli(name)), `${name}.cjs`);
    const cmd = fs.readFileSync(distCli(name), 'utf8');
    t.regex(cmd, new RegExp(`runBundle\\("${name}", __ferryLauncherUrl\\)`));
    t.notRegex(cmd, /^import /m, 'CommonJS');
    const dir = path.dirname(distCli(name));
    const id = bundleId(fs.readFileSync(path.join(dir, `${name}.bundle.js`), 'utf8'));
    t.truthy(id, 'the bundle starts with its build id');
    t.truthy(cacheFor(id, fs.readFileSync(path.join(dir, `${name}.bundle.cache`))), 'the cache is of this build');
    // a default import of a Node module is not copied per importer (scripts/bundle-cli.mjs, nodeDefaults):
    // esbuild's interop call on it is `<helper>(require("node:fs"),1)`
    t.deepEqual(fs.readFileSync(path.join(dir, `${name}.bundle.js`), 'utf8').match(/\(require\("node:[a-z_/]+"\),1\)/g) ?? [], []);
  });
}

// what `print status` and `svcmon` load without a daemon, for a service of one app: no driver
// it does not use (src/resources/lazy-driver.ts: ip's perf_hooks), nothing that hashes or
// draws (node:crypto: src/util/lazy-crypto.ts) and no fs.promises (its FileHandle machinery)
for (const [name, args] of [['svcmgr', ['-s', 'one', 'print', 'status']], ['svcmon', ['--service', 'one']]] as const) {
  test(`${name}: a read of a service of one app without a daemon loads no other driver, no crypto, no fs.promises`, (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-clilazy-'));
    try {
      fs.mkdirSync(path.join(root, 'etc', 'services'), { recursive: true });
      fs.writeFileSync(path.join(root, 'etc', 'cluster.conf'), '[cluster]\nname = lazy\nnodes = lazy1\n');
      fs.writeFileSync(path.join(root, 'etc', 'services', 'one.env'), '[DEFAULT]\nnodes = lazy1\n\n[app#1]\nstart = /bin/true\nstop = /bin/true\ncheck = /bin/true\n');
      const list = path.join(root, 'modules.json');
      const preload = path.join(root, 'preload.cjs');
      fs.writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)));\n`);
      const out = execFileSync(process.execPath, ['--require', preload, distCli(name), ...args], { env: { ...process.env, FERRY_ROOT: root, FERRY_NODENAME: 'lazy1' }, encoding: 'utf8' });
      t.regex(out, /one/);
      const loaded = new Set(JSON.parse(fs.readFileSync(list, 'utf8')) as string[]);
      t.true(loaded.has('NativeModule child_process'), 'the check ran (the list is of this run)');
      for (const m of ['crypto', 'perf_hooks', 'internal/fs/promises']) t.false(loaded.has(`NativeModule ${m}`), m);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
}
