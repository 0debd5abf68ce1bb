// What every svcmgr command module gets: the node context, the selected services, the
// global options, and the exit code it may raise. Each module exports one register function
// called by svcmgr-program.ts, so commands are added with one line there.
import type { Command } from 'commander';
import type { Service } from '../../service/service.js';
import type { ActionOptions } from '../../service/service.js';
import type { CliContext } from '../main.js';
import type { Format } from '../format.js';

export interface SvcmgrEnv {
  ctx: CliContext;
  /** the root program (global options: -s, --rid, --format...) */
  program: Command;
  /** the `print` command, for `print <what>` modules */
  print: Command;
  /** the service names of -s, or a usage error */
  services(): string[];
  open(name: string): Service;
  format(): Format;
  /** --rid, --subset, --waitlock, --force as action options (operator: true) */
  actionOpts(): Required<Pick<ActionOptions, 'rids' | 'subsets' | 'waitLockMs' | 'operator' | 'force'>>;
  /** raise the command's exit code to at least `code` */
  fail(code: number): void;
  /** set the exit code outright (status commands: the worst status) */
  setCode(code: number): void;
}
