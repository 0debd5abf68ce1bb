// The final push of a relocation through a fresh transport against one pre-opened before the
// stop (docs/benchmarks.md, "The final stream opened before the stop"), in the same run: the
// real rsync, the real transport CLI (as n1) and a real state channel + stream server (as n2,
// in this process, running the real `rsync --server`), on loopback, no lab, no root. A source
// of HELD_FILES files of 4 KiB (default 1024), HELD_CHANGED of them rewritten before each push
// (default 20); HELD_RUNS (default 7) pairs, interleaved: the time from the push's start to
// rsync's exit, fresh (`rsync -e "node sync-transport.js ..."`) and held (the transport
// started and ready beforehand: `holdTransport`, then `runHeld`), and the pre-open itself (the
// part that now runs before the stop).
//
//   npm run build && flock /tmp/ferry-heavy.lock node dist/bench/run.js held-push
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './common.js';
import { deriveChannelKeys } from '../src/statechan/crypto.js';
import { ChannelServer, emptyChanDrops } from '../src/statechan/server.js';
import { StateStore } from '../src/statechan/store.js';
import { StreamServer } from '../src/statechan/stream-server.js';
import { checkServerArgs, HELD_SHIM, makeFifos, runHeld } from '../src/resources/sync-rsync.js';
import { holdTransport, transportScript } from '../src/resources/held-transport.js';
import { run } from '../src/util/exec.js';

const FILES = Number(process.env.HELD_FILES ?? 1024);
const CHANGED = Number(process.env.HELD_CHANGED ?? 20);
const RUNS = Number(process.env.HELD_RUNS ?? 7);

export async function heldPush(): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-held-'));
  const secret = crypto.randomBytes(32).toString('hex');
  const keys = deriveChannelKeys(secret, 'heldbench');
  const dst = path.join(dir, 'dst');
  const streams = new StreamServer(async (_peer, open) => {
    const c = checkServerArgs(open.argv, dst);
    if (!c.ok) return c;
    fs.mkdirSync(dst, { recursive: true });
    return { ok: true, key: open.svc, file: 'rsync', args: c.args, timeoutMs: 60_000, done: () => undefined };
  }, () => undefined);
  const server = new ChannelServer({ keys, self: 'n2', nodes: ['n1', 'n2'], store: new StateStore('1'), log: () => undefined, drops: emptyChanDrops(), streams });
  try {
    if (!(await server.listen('127.0.0.1', 0))) throw new Error('held-push: no listener');
    const port = server.addresses()[0]!.port;
    const root = path.join(dir, 'n1');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'cluster.secret'), `${secret}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(root, 'etc', 'cluster.conf'), ['[cluster]', 'name = heldbench', 'nodes = n1 n2', 'secret_file = cluster.secret', 'quorum = false', '', '[hb#1]', 'type = unicast', 'addr@n1 = 127.0.0.2', 'addr@n2 = 127.0.0.1', `port = ${port}`, ''].join('\n'));
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(src, `f${i}`), crypto.randomBytes(4096));
    const env = { ...process.env, FERRY_ROOT: root, FERRY_NODENAME: 'n1' };
    const opts = ['--svc', 's1', '--rid', 'sync#1', '--timeout', '60', '--final'];
    const args = ['-a', '--delete', '--stats', '-e', [process.execPath, transportScript(), ...opts].join(' '), '--', `${src}/`, `n2:${dst}/`];
    const first = await run('rsync', args, { timeout: 120_000, env });
    if (!first.ok) throw new Error(`held-push: first push: ${first.stderr.trim()}`);
    const shim = path.join(dir, 'shim.sh');
    fs.writeFileSync(shim, HELD_SHIM);
    const change = (k: number): void => {
      for (let i = 0; i < CHANGED; i++) fs.writeFileSync(path.join(src, `f${(k * 7919 + i * 13) % FILES}`), crypto.randomBytes(4096));
    };
    const fresh: number[] = [];
    const held: number[] = [];
    const pre: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      change(2 * k);
      let t = Date.now();
      const r = await run('rsync', args, { timeout: 120_000, env });
      if (!r.ok) throw new Error(`held-push: fresh push: ${r.stderr.trim()}`);
      fresh.push(Date.now() - t);
      change(2 * k + 1);
      t = Date.now();
      const fifos = await makeFifos(path.join(dir, 'var'), 'sync#1');
      const h = holdTransport([...opts, '--held', '--fifo', fifos, 'n2'], 30_000, env);
      await h.ready;
      pre.push(Date.now() - t);
      t = Date.now();
      const r2 = await runHeld(args, h, shim, fifos, 120_000);
      if (!r2.ok) throw new Error(`held-push: held push: ${r2.stderr.trim()}`);
      held.push(Date.now() - t);
      fs.rmSync(fifos, { recursive: true, force: true });
    }
    console.error(`held-push: fresh ${fresh.join(' ')} ms; held ${held.join(' ')} ms; pre-open ${pre.join(' ')} ms`);
    return { files: FILES, changed: CHANGED, runs: RUNS, fresh_ms: median(fresh), held_ms: median(held), preopen_ms: median(pre), held_vs_fresh: Math.round((median(held) / median(fresh)) * 100) / 100 };
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
