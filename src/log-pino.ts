// pino, loaded when the first logger is made (src/log.ts), not when a module imports the
// logging code. In the CLI bundles (scripts/bundle-cli.mjs) this module is replaced by one
// that requires the bundled copy, evaluated at the same moment.
import { createRequire } from 'node:module';
import type pinoLib from 'pino';

let lib: typeof pinoLib | undefined;

export function loadPino(): typeof pinoLib {
  return (lib ??= createRequire(import.meta.url)('pino') as typeof pinoLib);
}
