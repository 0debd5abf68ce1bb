// A single daemon (test/helpers/single-daemon.ts) with its HTTP listener on a free loopback
// port and one app service of its own, for the metrics and status page tests.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runCli, uniquePrefix } from './env.js';
import { startSingleDaemon, type SingleDaemon } from './single-daemon.js';

export interface HttpDaemon {
  d: SingleDaemon;
  port: number;
  base: string;
  svc: string;
  /** file the app's check tests */
  upFile: string;
  svcmon(): Promise<SvcmonJson>;
  close(): Promise<void>;
}

export interface SvcmonJson {
  nodename: string;
  services: Record<string, { runningOn: string[]; instances: Record<string, { stale: boolean; avail?: string; overall?: string; frozen?: boolean }> }>;
  nodes: Record<string, { state: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startHttpDaemon(tag: string): Promise<HttpDaemon> {
  const port = await freePort();
  const d = await startSingleDaemon('a', {}, [`metrics_listen = 127.0.0.1:${port}`]);
  const svc = uniquePrefix(tag);
  const upFile = path.join(d.root.root, `${svc}.up`);
  fs.writeFileSync(path.join(d.root.services, `${svc}.env`), `[DEFAULT]\nnodes = a\norchestrate = ha\n\n[app#1]\nstart = /usr/bin/touch ${upFile}\nstop = /bin/rm -f ${upFile}\ncheck = /bin/test -e ${upFile}\n`);
  const base = `http://127.0.0.1:${port}`;
  const h: HttpDaemon = {
    d, port, base, svc, upFile,
    async svcmon() {
      const r = await runCli('svcmon', ['--format', 'json'], d.root.env);
      if (r.exitCode !== 0 && !r.stdout.trim().startsWith('{')) throw new Error(`svcmon: ${r.stderr}`);
      return JSON.parse(r.stdout) as SvcmonJson;
    },
    async close() {
      await runCli('svcmgr', ['-s', svc, 'freeze'], d.root.env).catch(() => undefined);
      await runCli('svcmgr', ['-s', svc, 'stop'], d.root.env).catch(() => undefined);
      await d.close();
    },
  };
  // the listener is up once the daemon answers pings; the daemon starts the service soon after
  const t0 = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${base}/status.json`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() - t0 > 15_000) {
      await h.close();
      throw new Error(`no HTTP listener on ${base}: ${d.output().slice(-2000)}`);
    }
    await sleep(100);
  }
  return h;
}

/** Poll `f` until it returns true (or throw after `ms`, with `what`). */
export async function until(what: string, f: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await sleep(200);
  }
}
