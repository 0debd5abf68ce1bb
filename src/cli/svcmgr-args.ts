// The plain `svcmgr print status` command lines, read without commander (src/cli/svcmgr-main.ts
// answers them from the daemon, or reads the services here): `-s|--service <svcs>` and
// `--format text|json`, each at most once. Anything else is undefined: the full program
// (src/cli/svcmgr-program.ts) parses it, with commander's messages and its rules.
import path from 'node:path';
import { commaList } from './main.js';

/** The services and format of a plain `print status` command line, or undefined for anything else. */
export function printStatusArgs(argv: readonly string[]): { services: string[]; format: 'json' | 'text' } | undefined {
  const [, script = 'svcmgr', ...rest] = argv;
  const invokedAs = path.basename(script).replace(/\.c?js$/, '');
  const services: string[] = invokedAs === 'svcmgr' ? [] : [invokedAs];
  let format: 'json' | 'text' | undefined;
  let serviceGiven = false;
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? rest[++i];
    if (flag === '-s' || flag === '--service') {
      // commander keeps the last of a repeated option: leave that to it
      if (serviceGiven) return undefined;
      serviceGiven = true;
      services.push(...commaList(value()));
    } else if (flag === '--format') {
      const f = value();
      if (format !== undefined || (f !== 'json' && f !== 'text')) return undefined;
      format = f;
    } else if (a.startsWith('-')) return undefined;
    else words.push(a);
  }
  if (words.join(' ') !== 'print status' || services.length === 0 || services.some((s) => s.includes('/'))) return undefined;
  return { services, format: format ?? 'text' };
}
