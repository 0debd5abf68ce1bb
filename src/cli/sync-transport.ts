#!/usr/bin/env node
// ferry-rsync-transport: rsync's remote shell (`rsync -e "<this> --svc S --rid R [--final]"`).
// rsync runs it as `<this> … <peer> rsync --server … . <dst>`: instead of ssh, it opens the
// authenticated state channel to the peer's daemon, asks it to run that `rsync --server`
// (the peer checks the service, the path and that it does not run the service), and pipes
// stdin/stdout through the channel's stream frames. One line on stderr and exit 255 (what
// rsync expects of a failed remote shell) when the peer cannot be reached or refuses.
import fs from 'node:fs';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { loadClusterConfig } from '../cluster/config.js';
import { channelEndpoint } from '../statechan/endpoint.js';
import { deriveChannelKeys } from '../statechan/crypto.js';
import { runStream } from '../statechan/stream-client.js';
import type { StreamOpen } from '../statechan/stream-protocol.js';
import { nodename } from '../node.js';
import { ferryPaths } from '../paths.js';
import { parseTransportArgs } from './sync-transport-args.js';

/** fds of a held transport (src/resources/held-transport.ts) */
const READY_FD = 3;
const GO_FD = 4;

/** The go of a held transport: NUL-separated strings up to an empty one; rejects if fd 4 closes first. */
function readGo(fd: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = new net.Socket({ fd, readable: true, writable: false });
    let buf = Buffer.alloc(0);
    const parts: string[] = [];
    let settled = false;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let i = buf.indexOf(0); i >= 0 && !settled; i = buf.indexOf(0)) {
        const part = buf.subarray(0, i).toString('utf8');
        buf = buf.subarray(i + 1);
        if (part === '') {
          settled = true;
          s.destroy();
          resolve(parts);
        } else if (parts.push(part) > 512 || buf.length > 65_536) {
          settled = true;
          s.destroy();
          reject(new Error('go: too long'));
        }
      }
    });
    const closed = (): void => {
      if (settled) return;
      settled = true;
      reject(new Error('no go (the pre-opened stream was dropped before the final push)'));
    };
    s.on('close', closed);
    s.on('error', closed);
  });
}

/** The remote command of a held rsync transport from the shim's argv (rsync's: [-l user] host command...). */
function goCommand(go: string[], peer: string): string[] {
  const rest = go[0] === '-l' ? go.slice(2) : go;
  if (rest[0] !== peer) throw new Error(`go for ${String(rest[0]).slice(0, 64)}, held for ${peer}`);
  if (rest.length < 3) throw new Error('go without a remote command');
  return rest.slice(1);
}

async function main(): Promise<number> {
  const a = parseTransportArgs(process.argv.slice(2));
  if (typeof a === 'string') {
    process.stderr.write(`ferry-rsync-transport: ${a}\n`);
    return 255;
  }
  // not cliContext (main.js): its imports (commander, the control client) cost a push's start
  const ctx = { paths: ferryPaths(), nodename: nodename() };
  const cluster = loadClusterConfig(ctx.paths, ctx.nodename);
  if (!cluster.nodes.includes(a.peer) || a.peer === ctx.nodename) {
    process.stderr.write(`ferry-rsync-transport: ${a.peer} is not a peer of cluster ${cluster.name}\n`);
    return 255;
  }
  const routes = cluster.heartbeats.map((h) => channelEndpoint(h, a.peer)).filter((r): r is { addr: string; port: number } => r !== undefined);
  if (routes.length === 0) {
    process.stderr.write(`ferry-rsync-transport: no unicast heartbeat reaches ${a.peer} (streams need a state channel address)\n`);
    return 255;
  }
  const openOf = (remote: string[]): StreamOpen => ({ purpose: remote[0] === 'btrfs' ? 'btrfs' : 'rsync', svc: a.svc, rid: a.rid, path: remote[remote.length - 1]!, argv: remote, final: a.final });
  let input: NodeJS.ReadableStream = process.stdin;
  let open: StreamOpen | Promise<StreamOpen> = openOf(a.remote);
  let signalReady = (): void => undefined;
  if (a.held) {
    // nothing of stdin goes out before the go: a daemon that dies (its end of fd 4 closed)
    // or drops the stream leaves the peer's command with no input at all, killed on the close
    const go = readGo(GO_FD).then((g) => {
      if (a.remote.length === 0) return goCommand(g, a.peer);
      if (g.length) throw new Error('go with a command: the command was given already');
      return a.remote;
    });
    go.catch((e: unknown) => {
      process.stderr.write(`ferry-rsync-transport: ${a.peer}: ${(e as Error).message}\n`);
      process.exit(255);
    });
    const gate = new PassThrough();
    void go.then(() => process.stdin.pipe(gate), () => undefined);
    input = gate;
    if (a.remote.length === 0) open = go.then(openOf);
    signalReady = () => {
      try {
        fs.writeSync(READY_FD, 'R');
        fs.closeSync(READY_FD);
      } catch {
        // the daemon is gone: the go never comes
      }
    };
  }
  const exit = await runStream({
    keys: deriveChannelKeys(cluster.secret, cluster.name), self: ctx.nodename, peer: a.peer, nodes: cluster.nodes, routes,
    open, input, output: process.stdout, errors: process.stderr, timeoutMs: a.timeoutMs,
    // held: ready once authenticated, or once the peer's command runs when it was given here
    ...(a.held ? (a.remote.length ? { streaming: signalReady } : { connected: signalReady }) : {}),
  });
  if (exit.error) process.stderr.write(`ferry-rsync-transport: ${a.peer}: ${exit.error}\n`);
  return exit.code ?? 255;
}

main().then(
  (code) => {
    process.stdout.end(() => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`ferry-rsync-transport: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    process.exit(255);
  },
);
