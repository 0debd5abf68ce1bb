// Nothing imports upward (docs/architecture.md): every relative import of src/**/*.ts is read
// and checked against the rooms' tiers. A room imports its own files and rooms of a lower
// tier; rooms of one tier do not import each other unless listed in SIDEWAYS with a reason.
// On top of the tiers, stated on their own so a failure names the rule: nothing outside cli
// imports cli, config and resources never import each other, the vocab leaf imports nothing.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { repoRoot } from '../helpers/env.js';

/** `src/<dir>/…` is room <dir>; the files directly in src/ (events, log, paths, node) are room `base`. */
const TIER: Record<string, number> = {
  cli: 8,
  daemon: 7,
  lab: 7,
  statechan: 6,
  arbitrator: 6,
  fence: 6,
  cluster: 5,
  heartbeat: 5,
  service: 4,
  resources: 3,
  config: 3,
  util: 2,
  base: 1,
  vocab: 0,
};

/** Imports between rooms of one tier that are allowed, with the reason. */
const SIDEWAYS: readonly { from: string; to: string; why: string }[] = [
  { from: 'heartbeat', to: 'cluster', why: 'the heartbeats are configured by the cluster file ([hb#N]): ClusterConfig, HbConfig of cluster/config.ts' },
];

interface Import {
  /** repo-relative path of the importing file */
  file: string;
  line: number;
  /** the module specifier as written */
  spec: string;
  /** repo-relative path of the imported file, or undefined for a package / node: builtin */
  target: string | undefined;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

export function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? '';
    const line = text.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
    const target = spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : undefined;
    out.push({ file, line, spec, target });
  }
  return out;
}

/** The room of a repo-relative path under src/. */
function roomOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : 'base';
}

/** Every broken rule, as `file:line: message`. */
export function violations(imports: readonly Import[]): string[] {
  const out: string[] = [];
  for (const i of imports) {
    const where = `${i.file}:${i.line}: import '${i.spec}'`;
    const from = roomOf(i.file);
    if (i.target === undefined) {
      continue; // a package or a node: builtin
    }
    if (!i.target.startsWith('src/')) {
      out.push(`${where}: src imports outside src/`);
      continue;
    }
    const to = roomOf(i.target);
    if (from === to) continue;
    const problems: string[] = [];
    if (to === 'cli') problems.push('only cli imports cli');
    if ((from === 'config' && to === 'resources') || (from === 'resources' && to === 'config')) {
      problems.push('config and resources do not import each other (the drivers reach config through its callers; the shared schema is in vocab/)');
    }
    if (from === 'vocab') problems.push('vocab is a leaf: it imports nothing from other rooms');
    const tf = TIER[from];
    const tt = TIER[to];
    if (tf === undefined || tt === undefined) {
      problems.push(`room ${tf === undefined ? from : to} has no tier: add it to TIER here and to docs/architecture.md`);
    } else if (tt > tf) {
      problems.push(`${from} (tier ${tf}) imports upward into ${to} (tier ${tt})`);
    } else if (tt === tf && !SIDEWAYS.some((s) => s.from === from && s.to === to)) {
      problems.push(`${from} and ${to} are on one tier: not allowed unless listed in SIDEWAYS with a reason`);
    }
    for (const p of problems) out.push(`${where}: ${p}`);
  }
  return out;
}

function srcImports(): Import[] {
  return sources(path.join(repoRoot, 'src')).flatMap((abs) => {
    const file = path.relative(repoRoot, abs).split(path.sep).join('/');
    return importsOf(file, fs.readFileSync(abs, 'utf8'));
  });
}

test('no module of src/ imports upward (docs/architecture.md)', (t) => {
  const imports = srcImports();
  t.true(imports.length > 500, `only ${imports.length} imports read: is the import pattern broken?`);
  t.deepEqual(violations(imports), []);
});

test('the import reader sees every form: import, import type, export from, dynamic import, multi-line', (t) => {
  const text = [
    "import fs from 'node:fs';",
    "import { a, b } from '../config/load.js';",
    "import type { C } from '../cli/errors.js';",
    "export { d } from './d.js';",
    "export type { E } from '../vocab/keywords.js';",
    'import {',
    '  f,',
    "} from '../resources/registry.js';",
    "const m = await import('../daemon/daemon.js');",
    "import '../util/side-effect.js';",
  ].join('\n');
  const got = importsOf('src/service/x.ts', text).map((i) => `${i.line} ${i.target ?? i.spec}`);
  t.deepEqual(got, [
    '1 node:fs',
    '2 src/config/load.js',
    '3 src/cli/errors.js',
    '4 src/service/d.js',
    '5 src/vocab/keywords.js',
    '6 src/resources/registry.js',
    '9 src/daemon/daemon.js',
    '10 src/util/side-effect.js',
  ]);
});

test('each rule fails on a bad import', (t) => {
  const bad = (file: string, spec: string): string[] => violations(importsOf(file, `import { x } from '${spec}';\n`));
  t.deepEqual(bad('src/service/a.ts', '../cli/errors.js').length, 2); // cli from outside, and upward
  t.regex(bad('src/service/a.ts', '../cli/errors.js')[0]!, /^src\/service\/a\.ts:1: import '\.\.\/cli\/errors\.js': only cli imports cli$/);
  t.regex(bad('src/config/a.ts', '../resources/registry.js').join('\n'), /config and resources do not import each other/);
  t.regex(bad('src/resources/a.ts', '../config/keywords.js').join('\n'), /config and resources do not import each other/);
  t.regex(bad('src/vocab/a.ts', '../util/shlex.js').join('\n'), /vocab is a leaf/);
  t.regex(bad('src/vocab/a.ts', '../log.js').join('\n'), /vocab is a leaf/);
  t.regex(bad('src/service/a.ts', '../daemon/daemon.js').join('\n'), /service \(tier 4\) imports upward into daemon \(tier 7\)/);
  t.regex(bad('src/cluster/a.ts', '../heartbeat/index.js').join('\n'), /one tier: not allowed unless listed in SIDEWAYS/);
  t.regex(bad('src/newroom/a.ts', '../vocab/errors.js').join('\n'), /room newroom has no tier/);
  t.regex(bad('src/util/a.ts', '../../test/helpers/env.js').join('\n'), /src imports outside src\//);
  // and what is allowed stays allowed
  t.deepEqual(bad('src/cli/a.ts', '../daemon/daemon.js'), []);
  t.deepEqual(bad('src/heartbeat/a.ts', '../cluster/config.js'), []);
  t.deepEqual(bad('src/service/a.ts', '../vocab/errors.js'), []);
  t.deepEqual(bad('src/cli/commands/a.ts', '../errors.js'), []);
});
