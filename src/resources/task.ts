// [task#N]: a command run on demand (`svcmgr -s S run --rid task#1`) or on a schedule by the
// daemon of the node running the service, never by start or stop (OpenSVC v1 task.host).
// The driver runs the command and reports its last run; who may run it and when (the service
// up here, confirmation, the schedule) is decided above it (src/service/tasks.ts).
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriverSpec, Resource, ResourceContext, StatusReport, TaskOutcome, TaskRunner } from './types.js';
import { parseSchedule } from './schedule.js';
import { resolveUser } from './app-env.js';
import { readTaskRecord, taskRecordFile, type TaskRun } from './task-state.js';
import { serviceVarDir } from '../paths.js';
import { shlexSplit } from '../util/shlex.js';
import { EVENT } from '../events.js';

const HOST = 'host';
/** delay between SIGTERM and SIGKILL of the task's process group on timeout */
const KILL_GRACE_MS = 2_000;
/** at most this many bytes of one output line go into the log record */
const MAX_LINE = 4096;

function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** "exit 0", "killed by SIGKILL (timed out)", "not started: ..." */
export function runText(r: Pick<TaskRun, 'code' | 'signal' | 'timedOut' | 'error' | 'end'>): string {
  if (r.error) return `not started: ${r.error}`;
  if (r.end === undefined) return 'running or interrupted';
  const what = r.code !== undefined ? `exit ${r.code}` : `killed by ${r.signal ?? 'a signal'}`;
  return r.timedOut ? `${what} (timed out)` : what;
}

function createTask(ctx: ResourceContext): Resource {
  const command = ctx.kw.string('command') ?? '';
  const user = ctx.kw.string('user') || undefined;
  const sch = parseSchedule(ctx.kw.mustString('schedule'));
  const schedule = sch && 'rules' in sch ? sch : undefined;
  const timeoutMs = ctx.kw.duration('timeout') || undefined;
  const recordFile = taskRecordFile(serviceVarDir(ctx.paths, ctx.svcname), ctx.rid);

  const task: TaskRunner = {
    command,
    user,
    schedule,
    timeoutMs,
    confirmation: ctx.kw.boolean('confirmation'),
    recordFile,
    async run(onOutput) {
      const started = Date.now();
      const argv = shlexSplit(command);
      const [file, ...args] = argv;
      if (file === undefined) return { code: undefined, timedOut: false, error: 'empty command', ms: 0 };
      let ids: { uid: number; gid: number; home: string; name: string } | undefined;
      try {
        if (user) ids = await resolveUser(user);
      } catch (e) {
        return { code: undefined, timedOut: false, error: e instanceof Error ? e.message : String(e), ms: Date.now() - started };
      }
      const env: Record<string, string | undefined> = { ...process.env, OPENSVC_SVCNAME: ctx.svcname, OPENSVC_RID: ctx.rid };
      if (ids) Object.assign(env, { HOME: ids.home, USER: ids.name, LOGNAME: ids.name });
      return new Promise<TaskOutcome>((resolve) => {
        let timedOut = false;
        let settled = false;
        let child: ReturnType<typeof spawn>;
        try {
          // its own process group: a timeout kills what it started too
          child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env, cwd: ids ? '/' : process.cwd(), uid: ids?.uid, gid: ids?.gid });
        } catch (e) {
          resolve({ code: undefined, timedOut: false, error: e instanceof Error ? e.message : String(e), ms: 0 });
          return;
        }
        const killGroup = (sig: NodeJS.Signals): void => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, sig);
          } catch {
            // already gone
          }
        };
        for (const stream of ['stdout', 'stderr'] as const) {
          let rest = '';
          const s = child[stream]!;
          s.on('data', (b: Buffer) => {
            onOutput?.(stream, b);
            const lines = (rest + b.toString('utf8')).split('\n');
            rest = lines.pop() ?? '';
            for (const line of lines) ctx.log.info({ event: EVENT.taskOutput, stream, line: line.slice(0, MAX_LINE) }, line.slice(0, MAX_LINE));
          });
          s.on('end', () => {
            if (rest) ctx.log.info({ event: EVENT.taskOutput, stream, line: rest.slice(0, MAX_LINE) }, rest.slice(0, MAX_LINE));
            rest = '';
          });
        }
        // on timeout: SIGTERM to the group, SIGKILL to what is left after the grace delay,
        // and the run ends only once the group is gone (nothing it started outlives it)
        let groupGone: Promise<void> | undefined;
        const timer = timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              killGroup('SIGTERM');
              groupGone = (async () => {
                const alive = (): boolean => {
                  try {
                    if (child.pid !== undefined) process.kill(-child.pid, 0);
                    return child.pid !== undefined;
                  } catch {
                    return false;
                  }
                };
                for (let waited = 0; alive() && waited < KILL_GRACE_MS; waited += 100) await sleep(100);
                if (alive()) killGroup('SIGKILL');
                for (let waited = 0; alive() && waited < 5_000; waited += 100) await sleep(100);
              })();
            }, timeoutMs)
          : undefined;
        const finish = (o: Omit<TaskOutcome, 'ms' | 'timedOut'>): void => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          void (groupGone ?? Promise.resolve()).then(() => resolve({ ...o, timedOut, ms: Date.now() - started }));
        };
        child.once('error', (e) => finish({ code: undefined, error: e.message }));
        // close: the exit and the end of its output (a daemon it left behind holding the pipes
        // would delay it; exit plus a short grace covers that)
        child.once('close', (code, signal) => finish({ code: code ?? undefined, signal: signal ?? undefined }));
        child.once('exit', (code, signal) => setTimeout(() => finish({ code: code ?? undefined, signal: signal ?? undefined }), 500).unref());
      });
    },
  };

  return {
    rid: ctx.rid,
    kind: 'task',
    task,
    // a task is not started or stopped with the service
    async start() {},
    async stop() {},
    async status(): Promise<StatusReport> {
      const last = readTaskRecord(recordFile).last;
      const label = command;
      if (!last) return { status: 'n/a', label, messages: schedule ? [`schedule ${schedule.text}: never run`] : [] };
      return { status: 'n/a', label, messages: [`last run ${ageText(Date.now() - last.at)} ago: ${runText(last)}`] };
    },
  };
}

export const driver: DriverSpec = {
  section: 'task',
  kind: 'task',
  types: [HOST],
  keywords: [
    { name: 'command', type: 'shlex', scopable: true, description: 'The command the task runs (shlex split, no shell unless you write one: `/bin/sh -c "a | b"`). Required.' },
    { name: 'user', type: 'string', scopable: true, description: 'Run the command as this user (name or uid, with its primary group). Default: the user running the agent (root).' },
    { name: 'schedule', type: 'string', default: '', scopable: true, description: 'When the daemon of the node running the service runs the task: `@10m`, `02:00-04:00@1h`, `02:00-02:59` (docs/schedule.md). Empty: on demand only.' },
    { name: 'timeout', type: 'duration', scopable: true, description: 'Longest a run may take; past it the command and what it started get SIGTERM, then SIGKILL after 2s. Default: no limit.' },
    { name: 'confirmation', type: 'boolean', default: false, description: 'The task is dangerous (a data restore...): `run` refuses it without `--confirm`, and it cannot have a schedule.' },
  ],
  description: 'A command run on demand (`svcmgr run --rid task#N`) or on a schedule on the node running the service; never by start or stop.',
  check(kw) {
    const out: { keyword?: string; message: string }[] = [];
    if (!(kw.string('command') ?? '').trim()) out.push({ message: 'missing required keyword "command" for a task' });
    const sch = parseSchedule(kw.mustString('schedule'));
    if (sch && 'error' in sch) out.push({ keyword: 'schedule', message: sch.error });
    else if (sch && kw.boolean('confirmation')) out.push({ keyword: 'schedule', message: 'a task with confirmation = true cannot have a schedule (nobody is there to confirm)' });
    return out;
  },
  create: createTask,
};
