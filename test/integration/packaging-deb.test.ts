// The Debian package (scripts/build-deb.sh): built from this checkout's build, installed with
// dpkg into a clean root (its own dpkg database; maintainer scripts run chrootless with
// DPKG_ROOT), then run from there with this machine's node: the commands on its /usr/bin, its
// man pages through man -l, its units through systemd-analyze verify, its completion in bash.
// Removal keeps the conffiles, purge removes them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { repoRoot } from '../helpers/env.js';

const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  execa(cmd, args, { reject: false, stdin: 'ignore', cwd: '/', env, timeout: 600_000 });

test('build-deb.sh: the package installs into a clean root and its commands, pages, units and completion work', async (t) => {
  for (const tool of ['/usr/bin/dpkg-deb', '/usr/bin/dpkg', '/usr/bin/man', '/usr/bin/systemd-analyze']) {
    if (!fs.existsSync(tool)) throw new Error(`${tool} missing (scripts/setup.sh installs dpkg, man-db, systemd)`);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-deb-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const b = await run(path.join(repoRoot, 'scripts', 'build-deb.sh'), ['--no-build', '--out', path.join(work, 'out')]);
  t.is(b.exitCode, 0, `${String(b.stdout)}\n${String(b.stderr)}`);
  const deb = String(b.stdout).trim().split('\n').pop()!;
  t.true(deb.endsWith('_all.deb') && fs.existsSync(deb), deb);

  const field = async (f: string) => String((await run('dpkg-deb', ['-f', deb, f])).stdout).trim();
  t.is(await field('Package'), 'ferry');
  t.is(await field('Architecture'), 'all');
  t.is(await field('Depends'), 'nodejs (>= 20.19)');
  // this machine's nodejs package satisfies it (NodeSource's here; Debian 12's own is 18)
  const nodeVersion = String((await run('dpkg-query', ['-W', '-f=${Version}', 'nodejs'])).stdout);
  t.is((await run('dpkg', ['--compare-versions', nodeVersion, 'ge', '20.19'])).exitCode, 0, nodeVersion);

  // a clean root with an empty dpkg database
  const root = path.join(work, 'root');
  for (const d of ['info', 'updates', 'triggers']) fs.mkdirSync(path.join(root, 'var', 'lib', 'dpkg', d), { recursive: true });
  for (const f of ['status', 'available']) fs.writeFileSync(path.join(root, 'var', 'lib', 'dpkg', f), '');
  const dpkg = (args: string[]) => run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args]);
  const inst = await dpkg(['-i', deb]);
  t.is(inst.exitCode, 0, String(inst.stderr));
  t.regex(String((await run('dpkg', [`--root=${root}`, '-s', 'ferry'])).stdout), /^Status: install ok installed$/m);
  const conffiles = fs.readFileSync(path.join(root, 'var', 'lib', 'dpkg', 'info', 'ferry.conffiles'), 'utf8').split('\n').filter(Boolean).sort();
  t.deepEqual(conffiles, ['/etc/ferry/agent.env', '/etc/ferry/arbitrator.env', '/etc/logrotate.d/ferry']);
  for (const d of ['etc/ferry/services', 'var/lib/ferry', 'var/log/ferry']) t.true(fs.statSync(path.join(root, d)).isDirectory(), d);
  // production dependencies only
  const nm = path.join(root, 'usr', 'lib', 'ferry', 'node_modules');
  t.true(fs.existsSync(path.join(nm, 'commander', 'package.json')));
  t.false(fs.existsSync(path.join(nm, 'ava')));
  t.false(fs.existsSync(path.join(nm, 'typescript')));
  // what runs only (package.json "files"): no tests, benches, lab, source maps
  const lib = path.join(root, 'usr', 'lib', 'ferry');
  for (const p of ['dist/test', 'dist/bench', 'dist/src/lab', 'dist/src/cli/ferry-lab.js', 'src', 'test']) t.false(fs.existsSync(path.join(lib, p)), p);
  // no source maps, declarations or sources among the command modules (folders of modules are
  // fine); the code caches of the svcmgr and svcmon bundles are (scripts/bundle-cli.mjs)
  const cliFiles = fs.readdirSync(path.join(lib, 'dist', 'src', 'cli'), { recursive: true, encoding: 'utf8' });
  t.deepEqual(cliFiles.filter((f) => !f.endsWith('.js') && !f.endsWith('.bundle.cache') && !f.endsWith('.cjs') && !fs.statSync(path.join(lib, 'dist', 'src', 'cli', f)).isDirectory()), []);
  for (const c of ['svcmgr', 'svcmon']) for (const f of [`${c}.cjs`, `${c}.bundle.js`, `${c}.bundle.cache`]) t.true(cliFiles.includes(f), f);
  // the CommonJS launchers (scripts/bundle-cli.mjs), and <c>.js made again as a link to them (npm pack drops links)
  for (const c of ['svcmgr', 'svcmon']) t.is(fs.readlinkSync(path.join(lib, 'dist', 'src', 'cli', `${c}.js`)), `${c}.cjs`);

  // the commands from the package's /usr/bin, with this machine's node, nothing from the checkout
  const env = { PATH: `${path.join(root, 'usr', 'bin')}:/usr/bin:/bin`, FERRY_ROOT: path.join(work, 'ferry'), FERRY_NODENAME: 'debtest' };
  for (const c of ['svcmgr', 'svcmon', 'nodemgr']) {
    const h = await run(path.join(root, 'usr', 'bin', c), ['--help'], env);
    t.is(h.exitCode, 0, `${c} --help: ${String(h.stderr)}`);
    t.regex(String(h.stdout), new RegExp(`^Usage: ${c} `));
  }
  t.is(String((await run(path.join(root, 'usr', 'bin', 'nodemgr'), ['nodename'], env)).stdout).trim(), 'debtest');
  // a bad command: one line, non-zero
  const bad = await run(path.join(root, 'usr', 'bin', 'svcmgr'), ['-s', 'nosuch', 'print', 'status'], env);
  t.not(bad.exitCode, 0);
  t.is(String(bad.stderr).trim().split('\n').length, 1);

  // the installed man pages render without a groff warning
  const man8 = path.join(root, 'usr', 'share', 'man', 'man8');
  t.deepEqual(fs.readdirSync(man8).sort(), ['nodemgr.8.gz', 'svcmgr.8.gz', 'svcmon.8.gz']);
  for (const p of fs.readdirSync(man8)) {
    const m = await run('man', ['--warnings=w', '-l', path.join(man8, p)], { MAN_KEEP_STDERR: '1', MANWIDTH: '80', LC_ALL: 'C.UTF-8' });
    t.is(m.exitCode, 0, p);
    t.is(String(m.stderr), '', `${p}: groff warnings`);
    t.regex(String(m.stdout), /^NAME$/m);
  }

  // the installed units verify against the installed nodemgr and man pages
  const unitDir = path.join(root, 'lib', 'systemd', 'system');
  const staged = path.join(work, 'units');
  fs.mkdirSync(staged);
  for (const u of fs.readdirSync(unitDir)) {
    fs.writeFileSync(path.join(staged, u), fs.readFileSync(path.join(unitDir, u), 'utf8').replaceAll('/usr/bin/nodemgr', path.join(root, 'usr', 'bin', 'nodemgr')));
  }
  const v = await run('systemd-analyze', ['verify', ...fs.readdirSync(staged).map((u) => path.join(staged, u))], { MANPATH: path.join(root, 'usr', 'share', 'man'), SYSTEMD_LOG_COLOR: '0' });
  t.is(v.exitCode, 0, String(v.stderr));
  t.is(String(v.stderr).trim(), '');

  // the completion sources and completes a subcommand
  const comp = path.join(root, 'usr', 'share', 'bash-completion', 'completions', 'svcmgr');
  const c = await run('bash', ['--norc', '-c', 'source "$1"; COMP_WORDS=(svcmgr rel); COMP_CWORD=1; _ferry_svcmgr; echo "${COMPREPLY[*]}"', 'bash', comp]);
  t.is(String(c.stdout).trim(), 'relocate');

  // remove keeps the conffiles, purge removes them; the cluster's state directories stay
  t.is((await dpkg(['-r', 'ferry'])).exitCode, 0);
  t.false(fs.existsSync(path.join(root, 'usr', 'lib', 'ferry', 'dist')));
  t.true(fs.existsSync(path.join(root, 'etc', 'ferry', 'agent.env')));
  t.is((await dpkg(['-P', 'ferry'])).exitCode, 0);
  t.false(fs.existsSync(path.join(root, 'etc', 'ferry', 'agent.env')));
});
