// Machine output everywhere (issue 12): every command of svcmgr, svcmon and nodemgr that
// prints takes `--format text|json` (its own, or svcmgr's global one) and has a JSON Schema in
// docs/schemas/ that a test validates real output against. The command trees are walked from
// the real commander programs, so a new command fails here until it is classified below.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Ajv } from 'ajv';
import { buildProgram as buildSvcmgr } from '../../src/cli/svcmgr.js';
import { buildProgram as buildSvcmon } from '../../src/cli/svcmon.js';
import { buildProgram as buildNodemgr } from '../../src/cli/nodemgr.js';
import { FORMATS } from '../../src/cli/format.js';
import type { CliContext } from '../../src/cli/main.js';
import { ferryPaths } from '../../src/paths.js';
import { repoRoot } from '../helpers/env.js';
import { schemaDir } from '../helpers/schemas.js';

type Output = { schema: string } | { none: string };

/**
 * Every leaf command, by its words. `schema`: prints, with --format json documented by
 * docs/schemas/<schema>.schema.json. `none`: the allow-list, why the command has no JSON form.
 */
const OUTPUTS: Record<string, Output> = {
  svcmon: { schema: 'svcmon' },

  'svcmgr start': { schema: 'svcmgr-action' },
  'svcmgr stop': { schema: 'svcmgr-action' },
  'svcmgr restart': { schema: 'svcmgr-action' },
  'svcmgr boot': { schema: 'svcmgr-action' },
  'svcmgr shutdown': { schema: 'svcmgr-action' },
  'svcmgr print status': { schema: 'svcmgr-print-status' },
  'svcmgr print config': { schema: 'svcmgr-print-config' },
  'svcmgr print devs': { schema: 'svcmgr-print-devs' },
  'svcmgr validate': { schema: 'svcmgr-validate-config' },
  'svcmgr get': { schema: 'svcmgr-get' },
  'svcmgr relocate': { schema: 'svcmgr-relocate' },
  'svcmgr switch': { schema: 'svcmgr-relocate' },
  'svcmgr takeover': { schema: 'svcmgr-relocate' },
  'svcmgr giveback': { schema: 'svcmgr-relocate' },
  'svcmgr clear': { schema: 'svcmgr-clear' },
  'svcmgr enable': { schema: 'svcmgr-enable' },
  'svcmgr disable': { schema: 'svcmgr-enable' },
  'svcmgr prstatus': { schema: 'svcmgr-prstatus' },
  // --follow too: the same records, one JSON object per line
  'svcmgr logs': { schema: 'svcmgr-logs' },
  'svcmgr freeze': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'svcmgr thaw': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'svcmgr set': { none: 'prints nothing: success is exit 0, a refused edit one line on stderr' },
  'svcmgr unset': { none: 'prints nothing: success is exit 0, a refused edit one line on stderr' },
  'svcmgr create': { none: 'prints nothing: success is exit 0, a refused file file:line lines on stderr' },
  'svcmgr delete': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'svcmgr edit config': { none: 'interactive: runs $EDITOR on the terminal (stdio inherited), so its stdout is the editor\'s' },
  'svcmgr docker': { none: 'runs the docker CLI: its output and exit code are passed through (docker\'s own --format applies)' },
  'svcmgr podman': { none: 'runs the podman CLI: its output and exit code are passed through (podman\'s own --format applies)' },

  'nodemgr nodename': { schema: 'nodemgr-nodename' },
  'nodemgr validate': { schema: 'nodemgr-validate' },
  'nodemgr daemon start': { schema: 'nodemgr-daemon-start' },
  'nodemgr daemon stop': { schema: 'nodemgr-daemon-stop' },
  'nodemgr daemon status': { schema: 'nodemgr-daemon-status' },
  'nodemgr events': { schema: 'nodemgr-events' },
  'nodemgr stonith': { schema: 'nodemgr-stonith' },
  'nodemgr daemon run': { none: 'the daemon in the foreground: under systemd (or --log-stdout) its stdout is the JSON log lines, else one line saying it runs' },
  'nodemgr arbitrator': { none: 'a server in the foreground: under systemd its stdout is the JSON log lines, else one line saying where it listens' },
  'nodemgr freeze': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'nodemgr thaw': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
};

// building the programs reads nothing: the paths are only used when a command runs
const ctx: CliContext = { paths: ferryPaths(), nodename: 'n1' };

function leaves(cmd: Command, words: string[] = [cmd.name()]): { words: string[]; cmd: Command }[] {
  if (cmd.commands.length === 0) return [{ words, cmd }];
  return cmd.commands.flatMap((c) => leaves(c, [...words, c.name()]));
}

/** The --format option a command reads: its own, else an ancestor's (svcmgr's is global). */
function formatOf(cmd: Command): string[] | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === '--format');
    if (o) return o.argChoices ? [...o.argChoices] : [];
  }
  return undefined;
}

const programs = (): Command[] => [buildSvcmon(), buildSvcmgr(ctx).program, buildNodemgr(ctx).program];
const all = () => programs().flatMap((p) => leaves(p));

test('every leaf command of svcmgr, svcmon and nodemgr is classified (json schema or a justified none)', (t) => {
  const found = all().map((l) => l.words.join(' '));
  t.deepEqual(found.filter((w) => !(w in OUTPUTS)), [], 'new commands: give them --format json and a schema, or say here why not');
  t.deepEqual(Object.keys(OUTPUTS).filter((w) => !found.includes(w)), [], 'classified commands that no longer exist');
  for (const [w, o] of Object.entries(OUTPUTS)) if ('none' in o) t.true(o.none.length > 20, `${w}: the reason it has no JSON form`);
});

test('every printing command takes --format text|json, and nothing else', (t) => {
  for (const { words, cmd } of all()) {
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
    if (!e.name.endsWith('.test.ts') || e.name === 'machine-output.test.ts') return [];
    const text = fs.readFileSync(p, 'utf8');
    return /import \{[^}]*\bschemaErrors\b[^}]*\} from '[./]*helpers\/schemas\.js'/.test(text) ? [text] : [];
  });
}

test('every schema is checked against real output by some test', (t) => {
  const texts = validatingTests(path.join(repoRoot, 'test'));
  const named = new Set(Object.values(OUTPUTS).flatMap((o) => ('schema' in o ? [o.schema] : [])));
  t.deepEqual([...named].filter((name) => !texts.some((s) => s.includes(`'${name}'`))), [], 'schemas no test validates output against');
});
