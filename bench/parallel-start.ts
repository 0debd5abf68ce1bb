// Start time of the seed's 7-container busybox service with its parallel subset, against the
// same service with every subset serial, in the same run.
import fs from 'node:fs';
import path from 'node:path';
import { benchRoot, cli, median, sh, timed } from './common.js';

const RUNS = Number(process.env.BENCH_RUNS_START ?? 5);

function service(parallel: boolean): string {
  const c = (i: number, subset: string) =>
    `[container#${i}]\ntype = docker\nrun_image = ferry/busybox:latest\nrun_args = --network none\nrun_command = /bin/sh -c \"trap 'exit 0' TERM; sleep 100000 & wait\"\nsubset = ${subset}\n`;
  return [
    '[DEFAULT]\nnodes = bench1\n',
    c(1, '00database'),
    c(2, '01appservers'), c(3, '01appservers'), c(4, '01appservers'), c(5, '01appservers'),
    `[subset#container.docker:01appservers]\nparallel = ${parallel}\n`,
    c(6, '02webservers'), c(7, '02webservers'),
    '[subset#container.docker:02webservers]\nparallel = false\n',
  ].join('\n');
}

export async function parallelStart(): Promise<Record<string, number>> {
  const b = benchRoot();
  const result: Record<string, number> = { runs: RUNS };
  try {
    for (const parallel of [true, false]) {
      const svc = `fybench${process.pid}.${parallel ? 'par' : 'ser'}`;
      fs.writeFileSync(path.join(b.services, `${svc}.env`), service(parallel));
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        times.push(await timed(process.execPath, [cli('svcmgr'), '-s', svc, 'start'], b.env));
        await timed(process.execPath, [cli('svcmgr'), '-s', svc, 'stop'], b.env);
      }
      result[parallel ? 'parallel_median_ms' : 'serial_median_ms'] = median(times);
    }
    result.ratio_parallel_over_serial = result.parallel_median_ms! / result.serial_median_ms!;
    return result;
  } finally {
    await sh('sh', ['-c', `docker rm -f $(docker ps -aq --filter name=fybench${process.pid}) >/dev/null 2>&1; true`]);
    b.cleanup();
  }
}
