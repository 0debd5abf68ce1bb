// node:crypto loaded at its first use: a command that hashes and draws nothing (`svcmgr print
// status`, `svcmon` without a daemon) does not pay its ~3 ms of module loading (docs/benchmarks.md,
// "CLI"). The modules that need it only now and then take it from here instead of importing it.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let lib: typeof import('node:crypto') | undefined;

/** node:crypto, required on the first call. */
export function crypto(): typeof import('node:crypto') {
  return (lib ??= load('node:crypto') as typeof import('node:crypto'));
}
