// When a long-running process copies its log lines to stdout: under systemd (the journal
// collects them), or when asked. A pure decision plus the journald line format.
import fs from 'node:fs';
import pino from 'pino';
import type { DestinationStream } from 'pino';

export type StdoutLogMode = 'off' | 'json' | 'journal';

/**
 * FERRY_LOG_STDOUT=1 or the --log-stdout flag: plain JSON lines; FERRY_LOG_STDOUT=0: never.
 * Otherwise: JOURNAL_STREAM names our stdout (device:inode, as systemd sets it) → journal
 * lines; JOURNAL_STREAM names another stream (we are a descendant of a unit whose stdout we
 * do not share: a lab daemon spawned under a CI unit) → off; no JOURNAL_STREAM but
 * INVOCATION_ID (a unit whose stdout is not the journal) → plain JSON.
 */
export function stdoutLogMode(env: NodeJS.ProcessEnv, stdout: { dev: number; ino: number } | undefined, flag = false): StdoutLogMode {
  const forced = env.FERRY_LOG_STDOUT;
  if (forced === '0') return 'off';
  if (flag || forced === '1') return 'json';
  const js = env.JOURNAL_STREAM;
  if (js !== undefined && js !== '') {
    const m = /^(\d+):(\d+)$/.exec(js);
    return m && stdout && Number(m[1]) === stdout.dev && Number(m[2]) === stdout.ino ? 'journal' : 'off';
  }
  return env.INVOCATION_ID ? 'json' : 'off';
}

/** syslog priority of a pino level: journald reads it from a `<N>` line prefix */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

function stdoutStat(): { dev: number; ino: number } | undefined {
  try {
    const s = fs.fstatSync(1);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return undefined;
  }
}

/** The stdout copy for this process, or undefined when it should not copy its logs there. */
export function stdoutLogDestination(flag = false): DestinationStream | undefined {
  const mode = stdoutLogMode(process.env, stdoutStat(), flag);
  if (mode === 'off') return undefined;
  // SonicBoom on fd 1, sync: the line is out before a crash, EAGAIN on a full pipe retried
  const out = pino.destination({ fd: 1, sync: true });
  const write = (line: string): void => void out.write(line);
  if (mode === 'json') return { write };
  return {
    write(line: string) {
      const m = /"level":(\d+)/.exec(line.slice(0, 40));
      write(`<${syslogPriority(m ? Number(m[1]) : 30)}>${line}`);
    },
  };
}
