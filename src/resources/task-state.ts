// What this node remembers of a task: its last run (begun at, ended, exit code), kept in the
// service's var dir so a restarted daemon does not run a scheduled task again at once, and the
// run lock (O_EXCL file with the runner's pid) so two runs of one task never overlap.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { pidAlive } from '../util/pid-alive.js';

export interface TaskRun {
  /** epoch ms the run began */
  at: number;
  /** epoch ms it ended; absent: still running, or the runner died */
  end?: number;
  /** exit code; absent with a signal or a spawn error */
  code?: number;
  signal?: string;
  timedOut?: boolean;
  error?: string;
  scheduled: boolean;
}

export interface TaskRecord {
  last?: TaskRun;
}

export const taskRecordFile = (varDir: string, rid: string): string => path.join(varDir, `${rid}.task.json`);
const lockFile = (varDir: string, rid: string): string => path.join(varDir, `${rid}.task.lock`);

export function readTaskRecord(file: string): TaskRecord {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (v && typeof v === 'object' && 'last' in v && v.last && typeof v.last === 'object' && typeof (v.last as TaskRun).at === 'number') return { last: v.last as TaskRun };
  } catch {
    // absent or unreadable: never run
  }
  return {};
}

export function writeTaskRecord(file: string, rec: TaskRecord): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(rec) + '\n');
}

/** Take the run lock of a task; undefined when a live process holds it (its pid given). */
export function lockTask(varDir: string, rid: string): { release(): void } | { heldBy: number } {
  const file = lockFile(varDir, rid);
  fs.mkdirSync(varDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return { release: () => fs.rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) return { heldBy: pid };
      fs.rmSync(file, { force: true }); // stale: its runner died
    }
  }
  return { heldBy: 0 };
}
