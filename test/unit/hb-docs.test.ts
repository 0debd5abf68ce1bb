// docs/heartbeats.md carries the cluster keyword reference generated from the tables.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { generateSecret, parseClusterConfig } from '../../src/cluster/config.js';
import { clusterKeywordsDoc } from '../../src/cluster/keywords-doc.js';
import { repoRoot } from '../helpers/env.js';

test('docs/heartbeats.md holds the current cluster keyword reference', (t) => {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'heartbeats.md'), 'utf8');
  t.true(doc.includes(clusterKeywordsDoc()), 'stale: paste the output of clusterKeywordsDoc() (src/cluster/keywords-doc.ts) into docs/heartbeats.md');
});

test('the example cluster file in docs/heartbeats.md is valid', (t) => {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'heartbeats.md'), 'utf8');
  const ini = /```ini\n([\s\S]*?)```/.exec(doc)?.[1];
  t.truthy(ini);
  const etc = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-hbdoc-'));
  t.teardown(() => fs.rmSync(etc, { recursive: true, force: true }));
  fs.writeFileSync(path.join(etc, 'cluster.secret'), generateSecret(), { mode: 0o600 });
  for (const n of ['n1', 'n2', 'n3']) {
    const r = parseClusterConfig(ini!, 'heartbeats.md', n, etc);
    t.deepEqual(r.errors.map(String), [], n);
    t.is(r.config?.heartbeats.length, 3);
  }
});
