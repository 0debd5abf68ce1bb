// Errors meant for the operator: one line, no stack, a non-zero exit code.
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}
