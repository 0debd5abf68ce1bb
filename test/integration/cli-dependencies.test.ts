// `svcmgr start` of a child by hand, without a daemon: refused (exit 1, one line, nothing
// started) while its parent is down here, whichever side declares the edge; --force starts
// it; once the parent is up the start goes through (docs/dependencies.md).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { makeFerryRoot, requireRoot, runCli, uniquePrefix, type FerryRoot } from '../helpers/env.js';

function app(r: FerryRoot, name: string, defaults: string[] = []): string {
  const m = path.join(r.root, `${name}.up`);
  return ['[DEFAULT]', 'nodes = node1', ...defaults, '', '[app#1]', `start = /bin/touch ${m}`, `stop = /bin/rm -f ${m}`, `check = /bin/test -e ${m}`, ''].join('\n');
}

for (const side of ['parents', 'children'] as const) {
  test(`start by hand waits for the parents (edge declared with ${side})`, async (t) => {
    requireRoot();
    const r = makeFerryRoot('node1');
    t.teardown(() => r.cleanup());
    const p = uniquePrefix('dep');
    const db = `${p}db`;
    const web = `${p}web`;
    fs.writeFileSync(path.join(r.services, `${db}.env`), app(r, db, side === 'children' ? [`children = ${web}`] : []));
    fs.writeFileSync(path.join(r.services, `${web}.env`), app(r, web, side === 'parents' ? [`parents = ${db}`] : []));
    const svcmgr = (args: string[]) => runCli('svcmgr', args, r.env);
    const refused = await svcmgr(['-s', web, 'start']);
    t.is(refused.exitCode, 1, refused.stdout);
    t.is(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    t.regex(refused.stderr, new RegExp(`${web}: not started: waiting for parents: ${db} .*--force`));
    t.false(fs.existsSync(path.join(r.root, `${web}.up`)), 'nothing started');
    // several services: the refusal comes before any start
    const both = await svcmgr(['-s', `${db},${web}`, 'start']);
    t.is(both.exitCode, 1);
    t.regex(both.stderr, /not started: waiting for parents/);
    t.false(fs.existsSync(path.join(r.root, `${db}.up`)), 'nothing started');
    // a parent that does not exist anywhere is named as unknown
    if (side === 'parents') {
      fs.writeFileSync(path.join(r.services, `${p}orphan.env`), app(r, `${p}orphan`, [`parents = ${p}ghost`]));
      const orphan = await svcmgr(['-s', `${p}orphan`, 'start']);
      t.regex(orphan.stderr, new RegExp(`waiting for parents: ${p}ghost \\(unknown service\\)`));
    }
    t.is((await svcmgr(['-s', db, 'start'])).exitCode, 0);
    const ok = await svcmgr(['-s', web, 'start']);
    t.is(ok.exitCode, 0, ok.stderr);
    t.true(fs.existsSync(path.join(r.root, `${web}.up`)));
    t.is((await svcmgr(['-s', `${web},${db}`, 'stop'])).exitCode, 0);
    const forced = await svcmgr(['-s', web, 'start', '--force']);
    t.is(forced.exitCode, 0, forced.stderr);
    t.true(fs.existsSync(path.join(r.root, `${web}.up`)));
  });
}
