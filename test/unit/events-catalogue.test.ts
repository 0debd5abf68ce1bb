// The event names are a stable interface: every `event` the code writes is in src/events.ts,
// and docs/events.md is generated from that table.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { generateEventsDoc } from '../../src/cli/events-doc.js';
import { EVENT, EVENT_DOCS, EVENT_NAMES } from '../../src/events.js';
import { repoRoot } from '../helpers/env.js';

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('docs/events.md is up to date (run `npm run build && npm run docs` after changing src/events.ts)', (t) => {
  t.is(fs.readFileSync(path.join(repoRoot, 'docs', 'events.md'), 'utf8'), generateEventsDoc());
});

test('every event name written in src/ is in the table, and the table has no duplicate', (t) => {
  const known = new Set<string>(EVENT_NAMES);
  t.is(known.size, EVENT_NAMES.length, 'two constants share a name');
  t.deepEqual(Object.keys(EVENT_DOCS).sort(), [...known].sort());
  const found: string[] = [];
  for (const file of sources(path.join(repoRoot, 'src'))) {
    if (file.endsWith(path.join('src', 'events.ts'))) continue;
    const text = fs.readFileSync(file, 'utf8');
    // `event: 'x'` in a log record, and the state channel's log('level', 'x', ...)
    for (const m of text.matchAll(/\bevent: '([^']+)'/g)) found.push(`${path.relative(repoRoot, file)}: ${m[1]}`);
    for (const m of text.matchAll(/\blog\('(?:debug|info|warn|error)', '([a-z_.-]+)'/g)) found.push(`${path.relative(repoRoot, file)}: ${m[1]}`);
    for (const m of text.matchAll(/EVENT\.(\w+)/g)) t.true(m[1]! in EVENT, `${file}: EVENT.${m[1]} is not a constant`);
  }
  t.true(found.length > 20, `found only ${found.length} event literals: the scan is broken`);
  t.deepEqual(found.filter((f) => !known.has(f.split(': ')[1]!)), []);
});
