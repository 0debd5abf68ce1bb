// Man pages and bash completion generated from the commander definitions (src/cli/gen-man.ts):
// `man -l` renders each page without a groff warning and shows every command; each completion
// file sources in bash, is bound to its command, and completes subcommands and option values.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { allCommands, commandTree } from '../../src/cli/command-tree.js';
import { generateManAndCompletion } from '../../src/cli/gen-man.js';
import { buildProgram as buildSvcmgr } from '../../src/cli/svcmgr-program.js';
import { buildProgram as buildNodemgr } from '../../src/cli/nodemgr.js';
import { ferryPaths } from '../../src/paths.js';

const have = (tool: string): boolean => fs.existsSync(`/usr/bin/${tool}`);

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pkgdocs-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** man-db drops groff's stderr unless MAN_KEEP_STDERR is set; --warnings=w is groff's every warning (its "all" leaves out undefined macros) */
async function renderMan(page: string) {
  return execa('man', ['--warnings=w', '-l', page], { env: { MAN_KEEP_STDERR: '1', MANWIDTH: '80', LC_ALL: 'C.UTF-8' }, reject: false, stdin: 'ignore' });
}

test('man -l renders each page without a warning; every command of the program is in it', async (t) => {
  if (!have('man') || !have('groff')) throw new Error('man or groff missing: install man-db and groff-base (scripts/setup.sh)');
  const out = tmpdir(t);
  const r = generateManAndCompletion(out);
  t.deepEqual(r.man.map((f) => path.basename(f)).sort(), ['nodemgr.8', 'svcmgr.8', 'svcmon.8']);
  const ctx = { paths: ferryPaths({ FERRY_ROOT: out }), nodename: 'n' };
  const trees = { svcmgr: commandTree(buildSvcmgr(ctx).program), nodemgr: commandTree(buildNodemgr(ctx).program) } as const;
  for (const page of r.man) {
    const m = await renderMan(page);
    t.is(m.exitCode, 0, `${page}: ${m.stderr}`);
    t.is(m.stderr, '', `${page} has groff warnings`);
    const text = String(m.stdout);
    const name = path.basename(page, '.8');
    t.regex(text, new RegExp(`^NAME\\n\\s+${name}\\s+-\\s`, 'm'));
    const tree = trees[name as keyof typeof trees];
    for (const c of tree ? allCommands(tree).slice(1) : []) t.true(text.includes(`${name} ${c.path.join(' ')}`), `${name}: ${c.path.join(' ')} missing`);
  }
});

test('the man check sees a groff warning (a page with an undefined macro)', async (t) => {
  const page = path.join(tmpdir(t), 'bad.8');
  fs.writeFileSync(page, '.TH BAD 8\n.SH NAME\nbad \\- bad\n.NOSUCHMACRO\n');
  const m = await renderMan(page);
  t.regex(String(m.stderr), /warning/);
});

async function complete(file: string, fn: string, words: string[], env: Record<string, string> = {}): Promise<string[]> {
  // COMP_CWORD is the last word: the one being completed
  const script = `source "$1"; shift; complete -p ${path.basename(file)} >/dev/null || exit 7; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); ${fn}; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await execa('bash', ['--norc', '-c', script, 'bash', file, ...words], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`completion ${file} ${words.join(' ')}: exit ${r.exitCode}: ${String(r.stderr)}`);
  return String(r.stdout).split('\n').filter((l) => l.length > 0).sort();
}

test('the bash completions complete subcommands, options, choices and service names', async (t) => {
  const out = tmpdir(t);
  const { completion } = generateManAndCompletion(out);
  const file = (n: string) => completion.find((f) => path.basename(f) === n)!;
  for (const f of completion) t.is((await execa('bash', ['-n', f], { reject: false })).exitCode, 0, f);
  t.deepEqual(await complete(file('svcmgr'), '_ferry_svcmgr', ['svcmgr', 'pri']), ['print']);
  t.deepEqual(await complete(file('svcmgr'), '_ferry_svcmgr', ['svcmgr', '-s', 'x', 'print', '']), ['config', 'devs', 'schedule', 'status']);
  t.deepEqual(await complete(file('svcmgr'), '_ferry_svcmgr', ['svcmgr', 'print', 'status', '--format', '']), ['json', 'text']);
  t.deepEqual(await complete(file('nodemgr'), '_ferry_nodemgr', ['nodemgr', 'daemon', '']), ['run', 'start', 'status', 'stop']);
  t.deepEqual(await complete(file('nodemgr'), '_ferry_nodemgr', ['nodemgr', 'daemon', 'run', '--log']), ['--log-stdout']);
  t.deepEqual(await complete(file('svcmon'), '_ferry_svcmon', ['svcmon', '--f']), ['--format']);
  // service names from the services directory, for -s and as the v1 first word
  const root = path.join(out, 'root');
  fs.mkdirSync(path.join(root, 'etc', 'services'), { recursive: true });
  for (const s of ['web.demo', 'db.demo']) fs.writeFileSync(path.join(root, 'etc', 'services', `${s}.env`), '[DEFAULT]\n');
  t.deepEqual(await complete(file('svcmgr'), '_ferry_svcmgr', ['svcmgr', '-s', ''], { FERRY_ROOT: root }), ['db.demo', 'web.demo']);
  t.deepEqual(await complete(file('svcmgr'), '_ferry_svcmgr', ['svcmgr', 'web'], { FERRY_ROOT: root }), ['web.demo']);
  t.deepEqual(await complete(file('svcmon'), '_ferry_svcmon', ['svcmon', '--service', 'd'], { FERRY_ROOT: root }), ['db.demo']);
});
