// Malformed service files: the real `svcmgr start` refuses each one before touching
// anything, and its first stderr line is the problem as `file:line: message`.
// Each fixture has one problem and an [app#1] whose start would create a marker file; the
// marker path is substituted for @MARKER@ (same line count) when the fixture is installed.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { makeFerryRoot, repoRoot, runCli } from '../helpers/env.js';
import { drivers, findDriver } from '../../src/resources/registry.js';

const known = drivers.map((d) => d.section).sort().join(', ');
const appTypes = findDriver('app')?.types.join(', ') ?? '';
const forms = 'expected [DEFAULT], [env], [<group>#<index>] or [subset#<group>[.<type>]:<name>]';

// fixture -> [line, message]
const expected: Record<string, [number, string]> = {
  '01_missing_bracket': [11, "malformed section header [app#2: missing ']'"],
  '02_text_after_header': [11, "malformed section header [app#2] start: text after ']'"],
  '03_empty_section_name': [11, 'empty section name []'],
  '04_no_equals': [10, 'expected "keyword = value", "[section]" or a comment, got: stop /bin/true'],
  '05_keyword_outside_section': [2, 'keyword "orchestrate" outside of any section'],
  '06_blank_in_keyword': [10, 'malformed keyword "stop cmd": blanks inside a keyword'],
  '07_unknown_group': [11, `unknown section [foo#1]: no resource group "foo" (known: ${known})`],
  '08_unknown_section': [11, `unknown section [general]: ${forms}`],
  '09_bad_index': [11, `unknown section [app#1.5]: bad index "1.5" (letters, digits, '_' and '-' only)`],
  '10_unknown_keyword': [10, 'unknown keyword "strat" in [app#1]'],
  '11_keyword_not_for_type': [10, 'keyword "agent" is not valid for type "forking" of [app#1] (only for type ocf)'],
  '12_bad_candidate': [4, 'bad value "maybe" for orchestrate: expected one of no, start, ha'],
  '13_bad_boolean': [10, 'bad value "perhaps" for optional: expected true or false'],
  '14_bad_integer': [10, 'bad value "many" for restart: expected an integer'],
  '15_bad_duration': [10, 'bad value "soon" for timeout: expected a duration like 500ms, 10s, 2m, 1h'],
  '16_bad_type': [10, `bad type "systemd" for [app#1]: expected one of ${appTypes}`],
  '17_missing_required': [11, 'missing required keyword "agent" in [app#2]'],
  '18_duplicate_section': [11, 'duplicate section [app#1] (first defined at line 8)'],
  '19_unknown_env_reference': [10, 'unknown reference {env.nomarker}: env.nomarker is not set'],
  '20_reference_cycle': [7, 'reference cycle: {env.a} -> {env.b} -> {env.a}'],
  '21_not_scopable': [4, 'keyword "nodes" is not scopable: "nodes@node1" in [DEFAULT]'],
  '22_unknown_scope': [10, 'unknown scope "@no*de" in "optional@no*de": expected @nodes, @drpnodes or @<nodename>'],
  '23_unterminated_quote': [10, 'bad value for stop: unterminated double quote'],
  '24_unknown_subset_group': [11, `unknown section [subset#nosuch:x]: no resource group "nosuch" (known: ${known})`],
  '25_unknown_section_reference': [10, 'unknown reference {ip#1.ipname}: no section [ip#1]'],
  '26_reference_fanout': [12, 'value expands to more than the limit of 65536 characters'],
  '27_reference_chain': [7, 'references nested deeper than the limit of 32 levels'],
  '28_unknown_plain_reference': [10, 'unknown reference {nodenam}: not one of {nodename}, {short_nodename}, {svcname}, {name}, {rid}'],
  '29_bad_ipdev': [7, 'bad value "--all" for ipdev: not a valid network interface name: it starts with \'-\''],
};

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'malformed');

test('every fixture has an expectation and the other way round', (t) => {
  const files = fs.readdirSync(fixtures).filter((f) => f.endsWith('.env')).map((f) => f.replace(/\.env$/, ''));
  t.deepEqual(files.sort(), Object.keys(expected).sort());
  t.true(files.length >= 15);
});

for (const [name, [line, message]] of Object.entries(expected)) {
  test(`svcmgr start refuses ${name}`, async (t) => {
    const root = makeFerryRoot('node1');
    try {
      const svc = `bad${name.slice(0, 2)}`;
      const file = path.join(root.services, `${svc}.env`);
      const marker = path.join(root.root, 'marker');
      const text = fs.readFileSync(path.join(fixtures, `${name}.env`), 'utf8');
      t.true(text.includes('@MARKER@'), 'the fixture references the marker');
      fs.writeFileSync(file, text.replace('@MARKER@', marker));
      const r = await runCli('svcmgr', ['-s', svc, 'start'], root.env);
      t.not(r.exitCode, 0);
      t.is(r.stderr.split('\n')[0], `${file}:${line}: ${message}`, r.stderr);
      t.false(fs.existsSync(marker), 'nothing was started');
    } finally {
      root.cleanup();
    }
  });
}

// Issue 8: files whose references fan out or chain used to take seconds to minutes (and a
// RangeError); the limits answer at once. 5 s is the bound for a loaded machine, < 1 s the goal.
for (const [name, line, message] of [
  ['26_reference_fanout', 12, 'value expands to more than the limit of 65536 characters'],
  ['27_reference_chain', 7, 'references nested deeper than the limit of 32 levels'],
] as const) {
  // serial: run before the concurrent CLI tests of this file, so the time measured is ours
  test.serial(`svcmgr validate config answers ${name} at once with file:line naming the limit`, async (t) => {
    const root = makeFerryRoot('node1');
    t.teardown(() => root.cleanup());
    const file = path.join(root.services, 'refs.env');
    fs.writeFileSync(file, fs.readFileSync(path.join(fixtures, `${name}.env`), 'utf8').replace('@MARKER@', path.join(root.root, 'marker')));
    const started = performance.now();
    const r = await runCli('svcmgr', ['-s', 'refs', 'validate', 'config'], root.env, 30_000);
    const elapsed = performance.now() - started;
    t.log(`${name}: validate config answered in ${elapsed.toFixed(0)} ms`);
    t.is(r.exitCode, 1, r.stderr);
    t.is(r.stdout.split('\n')[0], `${file}:${line}: ${message}`, r.stdout + r.stderr);
    t.notRegex(r.stdout + r.stderr, /Invalid string length|RangeError/);
    t.true(elapsed < 5_000, `took ${elapsed.toFixed(0)} ms`);
  });
}

test('svcmgr validate config lists every ipdev that is no interface name, each on its line', async (t) => {
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const file = path.join(root.services, 'devs.env');
  const devs = ['-a', 'eth0/1', 'eth0 x', 'x'.repeat(16), 'eth0'];
  fs.writeFileSync(file, ['[DEFAULT]', 'nodes = node1', ...devs.flatMap((d, i) => [`[ip#${i}]`, 'ipname = 10.213.9.9', `ipdev = ${d}`])].join('\n') + '\n');
  const r = await runCli('svcmgr', ['-s', 'devs', 'validate', 'config'], root.env);
  t.is(r.exitCode, 1, r.stderr);
  const why = (n: number, v: string, w: string) => `${file}:${n}: bad value "${v}" for ipdev: not a valid network interface name: ${w}`;
  t.deepEqual(r.stdout.trim().split('\n'), [
    why(5, '-a', "it starts with '-'"),
    why(8, 'eth0/1', "it contains '/', ':' or a blank"),
    why(11, 'eth0 x', "it contains '/', ':' or a blank"),
    why(14, 'x'.repeat(16), 'it is longer than 15 bytes'),
  ], r.stdout + r.stderr);
});

test('svcmgr validate config: every problem is one line, lone CR and control characters escaped', async (t) => {
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const file = path.join(root.services, 'ctl.env');
  const lines = ['[DEFAULT]', 'nodes = node1', 'orchestrate = h\ra', '[app#1]', 'restart = 1', '  2', 'optional = \u001b[2Jyes', 'st\u0001art = x', '[ip#1]', 'ipname = 10.0.0.1', 'ipdev = eth0\r\r'];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const r = await runCli('svcmgr', ['-s', 'ctl', 'validate', 'config'], root.env);
  t.is(r.exitCode, 1, r.stderr);
  const out = r.stdout.split('\n');
  t.deepEqual(out, [
    `${file}:3: bad value "h\\ra" for orchestrate: expected one of no, start, ha`,
    `${file}:3: warning: control character "\\r" in the value of "orchestrate" is kept (values are used byte for byte)`,
    `${file}:5: bad value "1\\n2" for restart: expected an integer`,
    `${file}:7: bad value "\\u001b[2Jyes" for optional: expected true or false`,
    `${file}:7: warning: control character "\\u001b" in the value of "optional" is kept (values are used byte for byte)`,
    `${file}:8: unknown keyword "st\\u0001art" in [app#1]`,
    `${file}:11: bad value "eth0\\r" for ipdev: not a valid network interface name: it contains '/', ':' or a blank`,
    `${file}:11: warning: control character "\\r" in the value of "ipdev" is kept (values are used byte for byte)`,
  ].sort((a, b) => Number(a.split(':')[1]) - Number(b.split(':')[1])), r.stdout);
  t.false(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(r.stdout + r.stderr), JSON.stringify(r.stdout + r.stderr));
  // a bad command word is one line too
  const bad = await runCli('svcmgr', ['-s', 'ctl', 'validate', 'con\nfig\r'], root.env);
  t.not(bad.exitCode, 0);
  t.is(bad.stderr, 'svcmgr: validate con\\nfig\\r: only "validate config" exists');
});

test('the same file without its problem does start (the marker mechanism works)', async (t) => {
  const root = makeFerryRoot('node1');
  try {
    const file = path.join(root.services, 'good.env');
    const marker = path.join(root.root, 'marker');
    const text = fs.readFileSync(path.join(fixtures, '10_unknown_keyword.env'), 'utf8').replace('strat = /bin/true\n', '');
    fs.writeFileSync(file, text.replace('@MARKER@', marker));
    const r = await runCli('svcmgr', ['-s', 'good', 'start'], root.env);
    t.is(r.exitCode, 0, r.stderr);
    t.true(fs.existsSync(marker));
    await runCli('svcmgr', ['-s', 'good', 'stop'], root.env);
  } finally {
    root.cleanup();
  }
});
