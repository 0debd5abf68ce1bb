// svcmon's command line, for commander (help, usage errors; walked by gen-man for the man page
// and the completion), and the fast path of the plain forms that needs no commander.
import { Command } from 'commander';
import { formatOption } from './format.js';

export function buildProgram(): Command {
  return new Command('svcmon')
    .description('Status of the services: cluster-wide when the daemon runs, this node only otherwise')
    .option('--service <svcs>', 'only these services (comma separated)')
    .addOption(formatOption())
    .configureOutput({ outputError: (str, write) => write(`svcmon: ${str.replace(/^error: /, '')}`) })
    .exitOverride();
}
