// Every configuration problem names its file and line, in the compiler-style form editors jump to.
export type Severity = 'error' | 'warning';

export class ConfigError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly message: string,
    readonly severity: Severity = 'error',
  ) {}

  toString(): string {
    return `${this.file}:${this.line}: ${this.severity === 'warning' ? 'warning: ' : ''}${this.message}`;
  }
}

/** Thrown by loaders when a file has errors; carries all of them. */
export class ConfigInvalid extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.toString()).join('\n'));
    this.name = 'ConfigInvalid';
  }
}
