// Scheduled tasks in a 2-node lab with real agents: a task with a short schedule writes the
// node's hostname into a host file; it runs only on the node running the service, and after
// a relocate only on the new owner.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireRoot, uniquePrefix } from '../helpers/env.js';
import { cli, sleep, startCluster, waitFor } from '../helpers/cluster-lab.js';

const lines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

test.serial('a scheduled task runs only on the owner, and after a relocate only on the new one', async (t) => {
  requireRoot();
  const out = path.join(os.tmpdir(), `${uniquePrefix('tk')}.out`);
  t.teardown(() => fs.rmSync(out, { force: true }));
  const cl = await startCluster(t, {
    nodes: 2,
    service: { sections: ['[task#1]', `command = /bin/sh -c "hostname >> ${out}"`, 'schedule = @2s', ''] },
  });
  const { lab, svc } = cl;
  await waitFor('3 runs of the task', () => lines(out).length >= 3, 30_000);
  t.deepEqual([...new Set(lines(out))], ['n1'], 'only the owner runs it');

  const sched = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'print', 'schedule', '--format', 'json']);
  t.true(sched.ok, sched.stderr);
  t.like((JSON.parse(sched.stdout) as unknown[])[0], { rid: 'task#1', schedule: '@2s' });

  const r = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'relocate', '--to', 'n2', '--wait', '60'], 90_000);
  t.is(r.exitCode, 0, r.stderr);
  // a run n1 began just before its stop may still land
  await sleep(1_000);
  const before = lines(out).length;
  await waitFor('3 runs on the new owner', () => lines(out).length >= before + 3, 30_000);
  t.deepEqual([...new Set(lines(out).slice(before))], ['n2'], 'only the new owner runs it');
  const st = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'print', 'status']);
  t.regex(st.stdout, /task#1 .*\n.*# last run \d+s ago: exit 0/);
});
