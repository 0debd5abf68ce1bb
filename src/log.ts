// Structured logs: one pino logger per service writing JSON lines to <log>/<svc>.log, with a
// child logger per resource. Human output is the CLI's job, never the logger's.
// A long-running process (the daemon, the arbitrator) may also copy every line to stdout
// (journald under systemd: src/log-stdout.ts) and reopens its files on SIGHUP (logrotate).
import fs from 'node:fs';
import path from 'node:path';
import type pinoLib from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { loadPino } from './log-pino.js';
import type { FerryPaths } from './paths.js';

export type { Logger } from 'pino';

/** Receives every serialised record (one JSON line) that carries an `event` field. */
export type EventTap = (line: string) => void;

const taps = new Set<EventTap>();

/**
 * Every record with an `event` field written by a logger of this module (node and service
 * loggers, and their children) in this process is also given to `tap` as it is written.
 * The daemon keeps its ring of recent events this way (src/daemon/event-ring.ts): one daemon
 * per process. Returns the function that removes the tap. A tap must not throw or log.
 */
export function tapEvents(tap: EventTap): () => void {
  taps.add(tap);
  return () => taps.delete(tap);
}

const hooks = {
  streamWrite(s: string): string {
    if (taps.size && s.includes('"event":"')) for (const t of taps) t(s);
    return s;
  },
};

const serviceLoggers = new Map<string, Logger>();
/** every log file this process writes, by path: reopened together on SIGHUP */
const fileDestinations = new Map<string, DestinationStream & { reopen(): void }>();
let stdoutCopy: DestinationStream | undefined;

/** Copy every line of the loggers made from now on to `dest` (stdout under systemd). */
export function copyLogsTo(dest: DestinationStream | undefined): void {
  stdoutCopy = dest;
}

/**
 * A log file opened at its first line, not when its logger is made: the daemon makes one
 * logger per service, most of which write nothing for hours.
 */
class LazyFile implements DestinationStream {
  private dest: ReturnType<typeof pinoLib.destination> | undefined;
  constructor(private readonly file: string) {}
  write(s: string): void {
    // sync writes: a CLI action may exit right after its last line, which must still land.
    (this.dest ??= loadPino().destination({ dest: this.file, sync: true, mkdir: true })).write(s);
  }
  /** reopen by path (logrotate); a file never written is opened later anyway */
  reopen(): void {
    this.dest?.reopen();
  }
}

function fileDestination(file: string) {
  const existing = fileDestinations.get(file);
  if (existing) return existing;
  const dest = new LazyFile(file);
  fileDestinations.set(file, dest);
  return dest;
}

/** pino's numeric levels: a line below the logger's level is dropped without making the logger */
const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const noop = (): void => undefined;

/**
 * A logger made at its first line at its level or above, or the first use of anything but a
 * dropped line or a child: a CLI read (print status, svcmon) builds a service and its
 * resources' children, logs nothing, and so never loads pino. A child with a level of its
 * own is made at once (its parent too).
 */
function lazyLogger(make: () => Logger, level: number): Logger {
  let real: Logger | undefined;
  const get = (): Logger => (real ??= make());
  const target = {} as Logger;
  return new Proxy(target, {
    get(_t, k) {
      if (!real && typeof k === 'string') {
        const lv = LEVELS[k];
        if (lv !== undefined && lv !== Infinity && lv < level) return noop;
        if (k === 'child')
          return (bindings: pinoLib.Bindings, options?: pinoLib.ChildLoggerOptions): Logger =>
            options?.level === undefined && !real ? lazyLogger(() => get().child(bindings, options), level) : get().child(bindings, options);
      }
      const r = get();
      const v: unknown = Reflect.get(r, k, r);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(r) : v;
    },
    set(_t, k, v) {
      return Reflect.set(get(), k, v);
    },
    has(_t, k) {
      return Reflect.has(get(), k);
    },
  });
}

function makeLogger(file: string, base: Record<string, string>): Logger {
  const level = process.env.FERRY_LOG_LEVEL ?? 'info';
  const dest = fileDestination(file);
  // the copy to stdout is the one asked for when the logger is made, not when it first writes
  const copy = stdoutCopy;
  const make = (): Logger => {
    const pino = loadPino();
    if (!copy) return pino({ base, level, hooks }, dest);
    // levels filter in the logger; the streams take every line it emits
    return pino({ base, level, hooks }, pino.multistream([{ level: 'trace', stream: dest }, { level: 'trace', stream: copy }]));
  };
  const threshold = LEVELS[level];
  // a level pino does not know is its error, at once, as before
  return threshold === undefined ? make() : lazyLogger(make, threshold);
}

export function serviceLogger(paths: FerryPaths, svcname: string, node: string): Logger {
  const key = `${paths.log}\0${svcname}`;
  const existing = serviceLoggers.get(key);
  if (existing) return existing;
  fs.mkdirSync(paths.log, { recursive: true });
  const logger = makeLogger(path.join(paths.log, `${svcname}.log`), { svc: svcname, node });
  serviceLoggers.set(key, logger);
  return logger;
}

export function nodeLogger(paths: FerryPaths, node: string, name = 'node'): Logger {
  fs.mkdirSync(paths.log, { recursive: true });
  return makeLogger(path.join(paths.log, `${name}.log`), { node });
}

/**
 * Reopen every log file by its path (after logrotate renamed it): the next lines land in a
 * new file of that name. Returns the files reopened and those that failed, with why.
 */
export function reopenLogFiles(): { reopened: string[]; failed: { file: string; error: string }[] } {
  const reopened: string[] = [];
  const failed: { file: string; error: string }[] = [];
  for (const [file, dest] of fileDestinations) {
    try {
      dest.reopen();
      reopened.push(file);
    } catch (e) {
      failed.push({ file, error: (e as Error).message });
    }
  }
  return { reopened, failed };
}

/** Reopen the log files on SIGHUP, and say so in `log` (event log-reopen). */
export function reopenLogsOnSighup(log: Logger): void {
  process.on('SIGHUP', () => {
    const r = reopenLogFiles();
    log.info({ event: 'log-reopen', files: r.reopened.length, failed: r.failed }, 'log files reopened');
  });
}

/** A logger that drops everything: for read-only callers such as status renderers in tests. */
export function silentLogger(): Logger {
  return loadPino()({ level: 'silent' });
}
