// Shared CLI plumbing: one-line errors, exit codes, the environment every command reads.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigInvalid } from '../config/errors.js';
import { nodename } from '../node.js';
import { ferryPaths, type FerryPaths } from '../paths.js';
import { EXIT, UserError } from '../vocab/errors.js';
import { oneLine } from '../util/one-line.js';
import { DaemonNoAccess, DaemonUnreachable } from '../daemon/control-client.js';

export interface CliContext {
  paths: FerryPaths;
  nodename: string;
}

export function cliContext(): CliContext {
  return { paths: ferryPaths(), nodename: nodename() };
}

/**
 * commander's errors (CommanderError, InvalidArgumentError), known by their `commander.*`
 * code: this module does not load commander (svcmon's fast path parses its few options itself).
 */
function isCommanderError(e: unknown): e is { exitCode: number; code: string } {
  const c = e as { code?: unknown; exitCode?: unknown } | null;
  return e instanceof Error && typeof c?.code === 'string' && c.code.startsWith('commander.') && typeof c.exitCode === 'number';
}

/** Print an error the way operators read them and return the exit code. */
export function reportError(prog: string, e: unknown): number {
  if (e instanceof ConfigInvalid) {
    // compiler-style lines, file:line first, so editors and tests can jump to them
    for (const err of e.errors) process.stderr.write(`${err.toString()}\n`);
    return EXIT.config;
  }
  if (isCommanderError(e)) {
    // commander printed its one line already (configureOutput); help and version are not errors
    return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (e instanceof DaemonNoAccess || e instanceof DaemonUnreachable) {
    process.stderr.write(`${prog}: ${e.message}\n`);
    return EXIT.unavailable;
  }
  if (e instanceof UserError) {
    process.stderr.write(`${prog}: ${oneLine(e.message)}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${prog}: ${oneLine(msg.split('\n')[0] ?? '')}\n`);
  if (process.env.FERRY_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return 1;
}

/** Run a CLI body and exit with its code; errors become one line on stderr. */
export function runMain(prog: string, body: () => Promise<number>): void {
  // `svcmon | head`: a reader that went away is not an error worth a stack trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  body().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportError(prog, e);
    },
  );
}

export function commaList(v: string | undefined): string[] {
  return v ? v.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : [];
}

/**
 * This module is the program node runs (not imported, e.g. by gen-man to walk its commands).
 * argv[1] may be a symlink (npm's bin links, /usr/bin in the Debian package, the v1
 * `<svc>` links to svcmgr): node runs the file it points to.
 */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return fs.realpathSync(entry) === fs.realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
