// CLI latency against `node -e 0` in the same run (docs/benchmarks.md, "CLI"): a private
// FERRY_ROOT with CLI_SERVICES services (default 100) of one app check each (all up), a
// one-node cluster. Without a daemon: `svcmgr -s <svc> print status`, `svcmon --service
// <svc>` (one service read here), and `svcmon` of every service (informative: one check per
// service). Then with `nodemgr daemon run`: `print status`, `svcmon` and `svcmon --format json`
// of every service, answered from the daemon. Medians over CLI_RUNS (default 15) runs,
// interleaved, each as a ratio to the median of `node -e 0`.
//
//   npm run build && flock /tmp/ferry-heavy.lock node dist/bench/run.js cli
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchRoot, cli, median, sleep, timed } from './common.js';
import { bundleId, bundleScript, cacheFor } from '../src/cli/run-bundle.js';
import { controlSocketPath } from '../src/daemon/control-protocol.js';
import { ferryPaths } from '../src/paths.js';

const RUNS = Number(process.env.CLI_RUNS ?? 15);
const SERVICES = Number(process.env.CLI_SERVICES ?? 100);

async function measure(cmds: Record<string, string[]>, env: Record<string, string>): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [k, argv] of Object.entries(cmds)) times[k]!.push(await timed(process.execPath, argv, env));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** Whether V8 takes the code cache of each CLI bundle in this node (scripts/bundle-cli.mjs): 1 yes, 0 no. */
function codeCacheTaken(name: string): number {
  const bundle = cli(name).replace(/\.js$/, '.bundle.js');
  const source = fs.readFileSync(bundle, 'utf8');
  const data = cacheFor(bundleId(source), fs.readFileSync(bundle.replace(/\.js$/, '.cache')));
  if (!data) return 0;
  return bundleScript(bundle, source, data).cachedDataRejected ? 0 : 1;
}

export async function cliLatency(): Promise<Record<string, number>> {
  const b = benchRoot();
  const svc = (i: number) => `cli${String(i).padStart(3, '0')}`;
  let daemon: ReturnType<typeof spawn> | undefined;
  try {
    fs.writeFileSync(path.join(b.root, 'etc', 'cluster.conf'), ['[cluster]', 'name = clibench', 'nodes = bench1', `secret = ${'5e'.repeat(32)}`, ''].join('\n'));
    for (let i = 0; i < SERVICES; i++) {
      const flag = path.join(b.root, `app-${i}`);
      fs.writeFileSync(flag, '');
      fs.writeFileSync(path.join(b.services, `${svc(i)}.env`), ['[DEFAULT]', 'nodes = bench1', '', '[app#1]', `start = /bin/touch ${flag}`, `stop = /bin/rm -f ${flag}`, `check = /usr/bin/test -e ${flag}`, ''].join('\n'));
    }
    const one = svc(0);
    const out: Record<string, number> = { runs: RUNS, services: SERVICES, load1_before: os.loadavg()[0]!, svcmgr_code_cache: codeCacheTaken('svcmgr'), svcmon_code_cache: codeCacheTaken('svcmon') };
    const bare = await measure(
      {
        node: ['-e', '0'],
        print_status: [cli('svcmgr'), '-s', one, 'print', 'status'],
        svcmon_one: [cli('svcmon'), '--service', one],
      },
      b.env,
    );
    const all = await measure({ svcmon_all: [cli('svcmon')] }, b.env);
    out.nodaemon_node_ms = bare.node!;
    for (const k of ['print_status', 'svcmon_one'] as const) {
      out[`nodaemon_${k}_ms`] = bare[k]!;
      out[`nodaemon_${k}_ratio`] = Math.round((bare[k]! / bare.node!) * 100) / 100;
    }
    out.nodaemon_svcmon_all_ms = all.svcmon_all!;

    daemon = spawn(process.execPath, [cli('nodemgr'), 'daemon', 'run'], { env: b.env, stdio: 'ignore' });
    const t0 = Date.now();
    const socket = controlSocketPath(ferryPaths({ FERRY_ROOT: b.root }));
    while (!fs.existsSync(socket)) {
      if (Date.now() - t0 > 60_000) throw new Error('the daemon does not answer after 60 s');
      await sleep(500);
    }
    await sleep(5_000);
    const d = await measure(
      {
        node: ['-e', '0'],
        print_status: [cli('svcmgr'), '-s', one, 'print', 'status'],
        svcmon: [cli('svcmon')],
        svcmon_json: [cli('svcmon'), '--format', 'json'],
      },
      b.env,
    );
    out.daemon_node_ms = d.node!;
    for (const k of ['print_status', 'svcmon', 'svcmon_json'] as const) {
      out[`daemon_${k}_ms`] = d[k]!;
      out[`daemon_${k}_ratio`] = Math.round((d[k]! / d.node!) * 100) / 100;
    }
    out.load1_after = os.loadavg()[0]!;
    return out;
  } finally {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon!.once('exit', r));
    }
    b.cleanup();
  }
}
