// Structured logs: one pino logger per service writing JSON lines to <log>/<svc>.log, with a
// child logger per resource. Human output is the CLI's job, never the logger's.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import type { FerryPaths } from './paths.js';

export type { Logger } from 'pino';

const serviceLoggers = new Map<string, Logger>();

export function serviceLogger(paths: FerryPaths, svcname: string, node: string): Logger {
  const key = `${paths.log}\0${svcname}`;
  const existing = serviceLoggers.get(key);
  if (existing) return existing;
  fs.mkdirSync(paths.log, { recursive: true });
  // sync writes: a CLI action may exit right after its last line, which must still land.
  const dest = pino.destination({ dest: path.join(paths.log, `${svcname}.log`), sync: true, mkdir: true });
  const logger = pino({ base: { svc: svcname, node }, level: process.env.FERRY_LOG_LEVEL ?? 'info' }, dest);
  serviceLoggers.set(key, logger);
  return logger;
}

export function nodeLogger(paths: FerryPaths, node: string, name = 'node'): Logger {
  fs.mkdirSync(paths.log, { recursive: true });
  const dest = pino.destination({ dest: path.join(paths.log, `${name}.log`), sync: true, mkdir: true });
  return pino({ base: { node }, level: process.env.FERRY_LOG_LEVEL ?? 'info' }, dest);
}

/** A logger that drops everything: for read-only callers such as status renderers in tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
