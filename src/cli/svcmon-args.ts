// svcmon's plain command lines read without commander (its load is a tenth of svcmon's
// start-up): `--service <svcs>` and `--format text|json`, each at most once, separate or with
// `=`. Anything else (help, a repeat, an unknown option, a bad value) is undefined: commander
// parses it then, with its messages (src/cli/svcmon-program.ts).
import type { Format } from './format.js';

export interface SvcmonArgs {
  service?: string;
  format: Format;
}

export function quickSvcmonArgs(args: readonly string[]): SvcmonArgs | undefined {
  let service: string | undefined;
  let format: Format | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else value = args[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (name === '--service' && service === undefined) service = value;
    else if (name === '--format' && format === undefined && (value === 'text' || value === 'json')) format = value;
    else return undefined;
  }
  return { ...(service !== undefined ? { service } : {}), format: format ?? 'text' };
}
