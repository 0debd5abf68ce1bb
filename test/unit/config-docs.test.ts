// docs/keywords.md is generated from the keyword tables: fail when it is stale.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { generateKeywordsDoc } from '../../src/cli/gen-docs.js';
import { repoRoot } from '../helpers/env.js';
import { fakeDrivers } from './config-fake-drivers.js';

test('docs/keywords.md is up to date (run `npm run build && npm run docs` after changing a keyword table)', (t) => {
  const committed = fs.readFileSync(path.join(repoRoot, 'docs', 'keywords.md'), 'utf8');
  t.is(committed, generateKeywordsDoc());
});

test('the generator is deterministic and documents every driver keyword', (t) => {
  const a = generateKeywordsDoc(fakeDrivers);
  t.is(a, generateKeywordsDoc(fakeDrivers));
  t.true(a.includes('## [container#\\<index\\>]'));
  t.true(a.includes('| `run_image` | `image` | string |  | yes | yes |  |  | image |'));
  t.true(a.includes('| `fsck` |  | boolean |  |  |  |  | `ext4` | fsck first |'));
  t.true(a.includes('Types: `ext4`, `xfs` (default `ext4`).'));
});
