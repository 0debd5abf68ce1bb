// `svcmgr logs [--follow]`: the service's pino file <log>/<svc>.log as human lines, or with
// --format json the records themselves, one JSON object per line (lines that are not records
// are left out). --follow keeps reading, through a rotation or truncation of the file, until
// interrupted (SIGINT/SIGTERM: exit 0).
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { locateService, readServiceText } from '../../config/load.js';
import { humanLine, parseRecord } from '../log-format.js';
import { LogTail } from '../log-tail.js';
import type { SvcmgrEnv } from './env.js';

const POLL_MS = 250;

export function registerLogs(env: SvcmgrEnv): void {
  env.program
    .command('logs')
    .description("the service's log: human lines, or its JSON records with --format json")
    .option('--follow', 'keep printing new lines (through log rotation) until interrupted')
    .action(async (o: { follow?: boolean }) => {
      const json = env.format() === 'json';
      const write = (line: string): void => {
        if (json) {
          if (parseRecord(line)) process.stdout.write(`${line}\n`);
        } else process.stdout.write(`${humanLine(line)}\n`);
      };
      const tails = env.services().map((name) => {
        const { svcname, file } = locateService(env.ctx.paths, name);
        readServiceText(file, svcname); // no such service: exit 66
        return new LogTail(path.join(env.ctx.paths.log, `${svcname}.log`), write);
      });
      for (const t of tails) t.poll();
      if (!o.follow) {
        for (const t of tails) {
          t.flush();
          t.close();
        }
        return;
      }
      let stop = false;
      const onSignal = (): void => {
        stop = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      while (!stop) {
        await sleep(POLL_MS);
        for (const t of tails) t.poll();
      }
      for (const t of tails) t.close();
    });
}
