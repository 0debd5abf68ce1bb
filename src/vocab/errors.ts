// Errors meant for the operator: one line, no stack, a non-zero exit code. The codes are
// the table of docs/exit-codes.md; status codes (0-7, print status) never collide with them.

/** Exit codes of every ferry command (docs/exit-codes.md). */
export const EXIT = {
  ok: 0,
  /** an action failed, a status is down, a validation found errors */
  failed: 1,
  /** bad command line: unknown command or option, bad value, unknown format, no such resource */
  usage: 64,
  /** the named service does not exist on this node */
  noService: 66,
  /** `nodemgr drain`: some failover services could not be moved (no candidate, failed, timed out) */
  notMoved: 75,
  /** the daemon cannot be reached (not running, no access) when the command needs it */
  unavailable: 69,
  /** a configuration file has errors (file:line lines on stderr) */
  config: 78,
} as const;

export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'UserError';
  }
}

/** The command line is wrong: nothing was done. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

/** The named service has no file on this node. */
export class NoSuchService extends UserError {
  constructor(message: string) {
    super(message, EXIT.noService);
    this.name = 'NoSuchService';
  }
}
