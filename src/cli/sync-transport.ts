#!/usr/bin/env node
// ferry-rsync-transport: rsync's remote shell (`rsync -e "<this> --svc S --rid R [--final]"`).
// rsync runs it as `<this> … <peer> rsync --server … . <dst>`: instead of ssh, it opens the
// authenticated state channel to the peer's daemon, asks it to run that `rsync --server`
// (the peer checks the service, the path and that it does not run the service), and pipes
// stdin/stdout through the channel's stream frames. One line on stderr and exit 255 (what
// rsync expects of a failed remote shell) when the peer cannot be reached or refuses.
import { loadClusterConfig } from '../cluster/config.js';
import { channelEndpoint } from '../statechan/endpoint.js';
import { deriveChannelKeys } from '../statechan/crypto.js';
import { runStream } from '../statechan/stream-client.js';
import type { StreamOpen } from '../statechan/stream-protocol.js';
import { nodename } from '../node.js';
import { ferryPaths } from '../paths.js';
import { parseTransportArgs } from './sync-transport-args.js';
import { heldIo } from './sync-transport-held.js';

async function main(): Promise<{ code: number; finish: (cb: () => void) => void }> {
  const a = parseTransportArgs(process.argv.slice(2));
  if (typeof a === 'string') {
    process.stderr.write(`ferry-rsync-transport: ${a}\n`);
    return { code: 255, finish: (cb: () => void) => process.stdout.end(cb) };
  }
  // not cliContext (main.js): its imports (commander, the control client) cost a push's start
  const ctx = { paths: ferryPaths(), nodename: nodename() };
  const cluster = loadClusterConfig(ctx.paths, ctx.nodename);
  if (!cluster.nodes.includes(a.peer) || a.peer === ctx.nodename) {
    process.stderr.write(`ferry-rsync-transport: ${a.peer} is not a peer of cluster ${cluster.name}\n`);
    return { code: 255, finish: (cb: () => void) => process.stdout.end(cb) };
  }
  const routes = cluster.heartbeats.map((h) => channelEndpoint(h, a.peer)).filter((r): r is { addr: string; port: number } => r !== undefined);
  if (routes.length === 0) {
    process.stderr.write(`ferry-rsync-transport: no unicast heartbeat reaches ${a.peer} (streams need a state channel address)\n`);
    return { code: 255, finish: (cb: () => void) => process.stdout.end(cb) };
  }
  const openOf = (remote: string[]): StreamOpen => ({ purpose: remote[0] === 'btrfs' ? 'btrfs' : 'rsync', svc: a.svc, rid: a.rid, path: remote[remote.length - 1]!, argv: remote, final: a.final });
  const io = a.held ? heldIo(a, openOf) : { open: openOf(a.remote), input: process.stdin, output: process.stdout, hooks: {}, finish: (cb: () => void) => process.stdout.end(cb) };
  const exit = await runStream({
    keys: deriveChannelKeys(cluster.secret, cluster.name), self: ctx.nodename, peer: a.peer, nodes: cluster.nodes, routes,
    open: io.open, input: io.input, output: io.output, errors: process.stderr, timeoutMs: a.timeoutMs, ...io.hooks,
  });
  if (exit.error) process.stderr.write(`ferry-rsync-transport: ${a.peer}: ${exit.error}\n`);
  return { code: exit.code ?? 255, finish: io.finish };
}

main().then(
  ({ code, finish }) => {
    finish(() => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`ferry-rsync-transport: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    process.exit(255);
  },
);
