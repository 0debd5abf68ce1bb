// Structured logs: one pino logger per service writing JSON lines to <log>/<svc>.log, with a
// child logger per resource. Human output is the CLI's job, never the logger's.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
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

export function serviceLogger(paths: FerryPaths, svcname: string, node: string): Logger {
  const key = `${paths.log}\0${svcname}`;
  const existing = serviceLoggers.get(key);
  if (existing) return existing;
  fs.mkdirSync(paths.log, { recursive: true });
  // sync writes: a CLI action may exit right after its last line, which must still land.
  const dest = pino.destination({ dest: path.join(paths.log, `${svcname}.log`), sync: true, mkdir: true });
  const logger = pino({ base: { svc: svcname, node }, level: process.env.FERRY_LOG_LEVEL ?? 'info', hooks }, dest);
  serviceLoggers.set(key, logger);
  return logger;
}

export function nodeLogger(paths: FerryPaths, node: string, name = 'node'): Logger {
  fs.mkdirSync(paths.log, { recursive: true });
  const dest = pino.destination({ dest: path.join(paths.log, `${name}.log`), sync: true, mkdir: true });
  return pino({ base: { node }, level: process.env.FERRY_LOG_LEVEL ?? 'info', hooks }, dest);
}

/** A logger that drops everything: for read-only callers such as status renderers in tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
