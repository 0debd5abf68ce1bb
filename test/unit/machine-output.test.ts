// Machine output everywhere (issue 12): every command of svcmgr, svcmon and nodemgr that
// prints takes `--format text|json` (its own, or svcmgr's global one) and has a JSON Schema in
// docs/schemas/ that a test validates real output against. The command trees are walked from
// the real commander programs, so a new command fails here until it is classified in
// test/helpers/command-outputs.ts.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { FORMATS } from '../../src/cli/format.js';
import { allLeaves, formatOf, OUTPUTS } from '../helpers/command-outputs.js';
import { repoRoot } from '../helpers/env.js';
import { schemaDir } from '../helpers/schemas.js';

test('every leaf command of svcmgr, svcmon and nodemgr is classified (json schema or a justified none)', (t) => {
  const found = allLeaves().map((l) => l.words.join(' '));
  t.deepEqual(found.filter((w) => !(w in OUTPUTS)), [], 'new commands: give them --format json and a schema, or say here why not');
  t.deepEqual(Object.keys(OUTPUTS).filter((w) => !found.includes(w)), [], 'classified commands that no longer exist');
  for (const [w, o] of Object.entries(OUTPUTS)) if ('none' in o) t.true(o.none.length > 20, `${w}: the reason it has no JSON form`);
});

test('every printing command takes --format text|json, and nothing else', (t) => {
  for (const { words, cmd } of allLeaves()) {
    const o = OUTPUTS[words.join(' ')];
    if (!o || !('schema' in o)) continue;
    t.deepEqual(formatOf(cmd), [...FORMATS], `${words.join(' ')}: --format ${FORMATS.join('|')}`);
  }
});

test('every schema named exists and compiles (ajv strict); every schema file is named by a command', (t) => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const named = new Set(Object.values(OUTPUTS).flatMap((o) => ('schema' in o ? [o.schema] : [])));
  for (const name of named) {
    const file = path.join(schemaDir, `${name}.schema.json`);
    t.true(fs.existsSync(file), file);
    const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { $id: string; title: string };
    t.is(schema.$id, `https://ferry.invalid/schemas/${name}.schema.json`);
    t.notThrows(() => ajv.compile(schema), name);
  }
  const files = fs.readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json')).map((f) => f.replace(/\.schema\.json$/, ''));
  t.deepEqual(files.filter((f) => !named.has(f)), [], 'schemas no command prints');
});

/** test sources (not dist): the files that validate output with test/helpers/schemas.ts */
function validatingTests(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return validatingTests(p);
    if (!e.name.endsWith('.test.ts')) return [];
    const text = fs.readFileSync(p, 'utf8');
    return /import \{[^}]*\bschemaErrors\b[^}]*\} from '[./]*helpers\/schemas\.js'/.test(text) ? [text] : [];
  });
}

test('every schema is checked against real output by some test', (t) => {
  const texts = validatingTests(path.join(repoRoot, 'test'));
  const named = new Set(Object.values(OUTPUTS).flatMap((o) => ('schema' in o ? [o.schema] : [])));
  t.deepEqual([...named].filter((name) => !texts.some((s) => s.includes(`'${name}'`))), [], 'schemas no test validates output against');
});
