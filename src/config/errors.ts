// Every configuration problem names its file and line, in the compiler-style form editors jump to.
// A problem is one line whatever the file holds: control characters are escaped.
import { oneLine } from '../util/one-line.js';

export type Severity = 'error' | 'warning';

export class ConfigError {
  /** one line: a value, key or section name quoted in it has its control characters escaped */
  readonly message: string;

  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
    readonly severity: Severity = 'error',
  ) {
    this.message = oneLine(message);
  }

  toString(): string {
    return `${oneLine(this.file)}:${this.line}: ${this.severity === 'warning' ? 'warning: ' : ''}${this.message}`;
  }
}

/** Thrown by loaders when a file has errors; carries all of them. */
export class ConfigInvalid extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.toString()).join('\n'));
    this.name = 'ConfigInvalid';
  }
}
