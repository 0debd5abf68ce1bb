// Shared CLI plumbing: one-line errors, exit codes, the environment every command reads.
import { ConfigInvalid } from '../config/errors.js';
import { nodename } from '../node.js';
import { ferryPaths, type FerryPaths } from '../paths.js';
import { CommanderError } from 'commander';
import { EXIT, UserError } from './errors.js';
import { DaemonNoAccess, DaemonUnreachable } from '../daemon/control-client.js';

export interface CliContext {
  paths: FerryPaths;
  nodename: string;
}

export function cliContext(): CliContext {
  return { paths: ferryPaths(), nodename: nodename() };
}

/** Print an error the way operators read them and return the exit code. */
export function reportError(prog: string, e: unknown): number {
  if (e instanceof ConfigInvalid) {
    // compiler-style lines, file:line first, so editors and tests can jump to them
    for (const err of e.errors) process.stderr.write(`${err.toString()}\n`);
    return EXIT.config;
  }
  if (e instanceof CommanderError) {
    // commander printed its one line already (configureOutput); help and version are not errors
    return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (e instanceof DaemonNoAccess || e instanceof DaemonUnreachable) {
    process.stderr.write(`${prog}: ${e.message}\n`);
    return EXIT.unavailable;
  }
  if (e instanceof UserError) {
    process.stderr.write(`${prog}: ${e.message}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${prog}: ${msg.split('\n')[0]}\n`);
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
