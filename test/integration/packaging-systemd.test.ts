// The systemd units (packaging/systemd) pass `systemd-analyze verify`, with the settings an HA
// agent needs. verify checks that ExecStart's binary exists and that Documentation= man pages
// resolve: the units are verified with /usr/bin/nodemgr pointed at this checkout's build and
// MANPATH at the generated pages. systemd cannot run in this container (PID 1 is not
// systemd), so the units are not started here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { generateManAndCompletion } from '../../src/cli/gen-man.js';
import { distCli, repoRoot } from '../helpers/env.js';

const unitDir = path.join(repoRoot, 'packaging', 'systemd');
const units = ['ferry-agent.service', 'ferry-arbitrator.service'];

function requireAnalyze(): void {
  if (!fs.existsSync('/usr/bin/systemd-analyze')) throw new Error('systemd-analyze missing: install the systemd Debian package (scripts/setup.sh)');
}

/** unit copies runnable on this machine, and the MANPATH of their man pages */
function stage(t: { teardown(fn: () => void): void }): { dir: string; manpath: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-units-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const nodemgr = path.join(dir, 'nodemgr');
  fs.writeFileSync(nodemgr, `#!/bin/sh\nexec ${process.execPath} ${distCli('nodemgr')} "$@"\n`, { mode: 0o755 });
  for (const u of units) fs.writeFileSync(path.join(dir, u), fs.readFileSync(path.join(unitDir, u), 'utf8').replaceAll('/usr/bin/nodemgr', nodemgr));
  generateManAndCompletion(path.join(dir, 'share'));
  return { dir, manpath: path.join(dir, 'share', 'man') };
}

async function verify(manpath: string, files: string[]) {
  return execa('systemd-analyze', ['verify', ...files], { env: { MANPATH: manpath, SYSTEMD_LOG_COLOR: '0' }, reject: false, stdin: 'ignore' });
}

/** key=value of a section of a unit file (the last assignment wins, as in systemd) */
function settings(file: string, section: string): Map<string, string> {
  const m = new Map<string, string>();
  let cur = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const s = /^\[(.+)\]$/.exec(line.trim());
    if (s) cur = s[1]!;
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv && cur === section) m.set(kv[1]!, kv[2]!);
  }
  return m;
}

test('systemd-analyze verify: both units, no message at all', async (t) => {
  requireAnalyze();
  const { dir, manpath } = stage(t);
  const r = await verify(manpath, units.map((u) => path.join(dir, u)));
  t.is(r.exitCode, 0, String(r.stderr));
  t.is(String(r.stderr).trim(), '');
});

test('systemd-analyze verify fails on a broken unit (the check can fail)', async (t) => {
  requireAnalyze();
  const { dir, manpath } = stage(t);
  const f = path.join(dir, 'ferry-agent.service');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('KillMode=process', 'KillMode=proces'));
  const r = await verify(manpath, [f]);
  t.regex(String(r.stderr), /kill mode/i);
});

test('ferry-agent.service: the agent alone is signalled, never SIGKILLed, restarted on failure; stop drains, then goes through nodemgr daemon stop', (t) => {
  const s = settings(path.join(unitDir, 'ferry-agent.service'), 'Service');
  t.is(s.get('KillMode'), 'process');
  t.is(s.get('Delegate'), 'yes');
  t.is(s.get('OOMScoreAdjust'), '-1000');
  t.is(s.get('Restart'), 'on-failure');
  t.is(s.get('SendSIGKILL'), 'no');
  t.is(s.get('ExecStart'), '/usr/bin/nodemgr daemon run');
  t.regex(s.get('ExecStop') ?? '', /^\/usr\/bin\/nodemgr /);
  // a planned stop drains first (a failed drain does not block the stop), then leaves
  const stops = fs.readFileSync(path.join(unitDir, 'ferry-agent.service'), 'utf8').split('\n').filter((l) => l.startsWith('ExecStop='));
  t.deepEqual(stops, ['ExecStop=-/usr/bin/nodemgr drain --wait', 'ExecStop=/usr/bin/nodemgr daemon stop']);
  t.is(s.get('ExecReload'), '/bin/kill -HUP $MAINPID');
  const a = settings(path.join(unitDir, 'ferry-arbitrator.service'), 'Service');
  t.regex(a.get('ExecStart') ?? '', /^\/usr\/bin\/nodemgr arbitrator /);
  t.is(a.get('Restart'), 'on-failure');
});
