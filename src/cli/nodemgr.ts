#!/usr/bin/env node
// nodemgr: the node agent. The daemon (heartbeats, orchestration) comes with the cluster work;
// until then it says so plainly instead of pretending.
import { Command } from 'commander';
import { UserError } from './errors.js';
import { cliContext, runMain } from './main.js';

async function main(): Promise<number> {
  const ctx = cliContext();
  const program = new Command('nodemgr')
    .description('The ferry node agent')
    .configureOutput({ outputError: (str, write) => write(`nodemgr: ${str.replace(/^error: /, '')}`) });
  program
    .command('nodename')
    .description('print the name of this node')
    .action(() => {
      process.stdout.write(`${ctx.nodename}\n`);
    });
  const daemon = program.command('daemon').description('the agent daemon');
  for (const verb of ['run', 'start', 'stop', 'status']) {
    daemon.command(verb).action(() => {
      throw new UserError(`daemon ${verb}: the cluster daemon is not part of this build yet`);
    });
  }
  await program.parseAsync(process.argv);
  return 0;
}

runMain('nodemgr', main);
