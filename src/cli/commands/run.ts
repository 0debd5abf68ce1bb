// `svcmgr -s S run --rid task#1 [--confirm] [--force]`: run tasks now, on the node running the
// service (--force: anyway). The command's output is shown and goes to the service log; the
// exit code is the command's (124 timed out, 128+n killed by signal n, 1 not started).
import os from 'node:os';
import { EXIT, UsageError } from '../../vocab/errors.js';
import { writeJson } from '../format.js';
import { runTask, type TaskReport } from '../../service/tasks.js';
import type { SvcmgrEnv } from './env.js';

/** The exit code svcmgr run gives for a task's run. */
export function runExitCode(r: Pick<TaskReport, 'code' | 'signal' | 'timedOut' | 'error'>): number {
  if (r.timedOut) return 124;
  if (r.code !== undefined) return r.code;
  if (r.signal) return 128 + (os.constants.signals[r.signal as NodeJS.Signals] ?? 0);
  return EXIT.failed;
}

export function runText(r: TaskReport): string {
  if (r.error) return `${r.svcname}: ${r.rid} not started: ${r.error}`;
  const how = r.code !== undefined ? `exit ${r.code}` : `killed by ${r.signal ?? 'a signal'}`;
  return `${r.svcname}: ${r.rid} ${how}${r.timedOut ? ' (timed out)' : ''} in ${(r.ms / 1000).toFixed(1)}s`;
}

export function registerRun(env: SvcmgrEnv): void {
  env.program
    .command('run')
    .description('run the tasks of --rid now (where the service is up; --force anywhere); the exit code is the task\'s')
    .option('--confirm', 'run a task whose confirmation = true')
    .action(async (o: { confirm?: boolean }) => {
      const opts = env.actionOpts();
      if (opts.rids.length === 0) throw new UsageError('run: which task? use --rid task#N');
      const json = env.format() === 'json';
      const svcs = env.services().map(env.open);
      const reports: TaskReport[] = [];
      for (const svc of svcs) {
        for (const rid of opts.rids) {
          const r = await runTask(svc, rid, {
            confirm: Boolean(o.confirm),
            force: opts.force,
            // json: stdout is the report only; the output is in the service log
            onOutput: json ? undefined : (stream, chunk) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
          });
          reports.push(r);
          if (!json) process.stderr.write(`${runText(r)}\n`);
          const c = runExitCode(r);
          if (c !== 0) env.setCode(c);
        }
      }
      if (json) writeJson(reports.length === 1 ? reports[0] : reports);
    });
}
