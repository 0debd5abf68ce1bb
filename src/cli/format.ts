// The one `--format` option of every printing command: text or json, anything else is a
// usage error (commander refuses it before the command runs: exit 64, nothing printed).
import { Option } from 'commander';

export const FORMATS = ['text', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices([...FORMATS]).default('text');
}

/** JSON as every command prints it: indented, one final newline. */
export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
