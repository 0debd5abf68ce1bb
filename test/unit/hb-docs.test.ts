// docs/heartbeats.md carries the cluster keyword reference generated from the tables.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { clusterKeywordsDoc } from '../../src/cluster/keywords-doc.js';
import { repoRoot } from '../helpers/env.js';

test('docs/heartbeats.md holds the current cluster keyword reference', (t) => {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'heartbeats.md'), 'utf8');
  t.true(doc.includes(clusterKeywordsDoc()), 'stale: paste the output of clusterKeywordsDoc() (src/cluster/keywords-doc.ts) into docs/heartbeats.md');
});
