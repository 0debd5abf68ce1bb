// The held (pre-opened) mode of the transport (src/resources/held-transport.ts): "R" on fd 3
// once ready, nothing of the input sent before the daemon's go on fd 4 (a NUL byte); fd 4
// closed first (the daemon died, or dropped the stream): exit 255 with nothing sent, the
// peer's command killed on the close. With the remote command given (btrfs) the stream is
// opened at once and the input is stdin. Without (rsync, --fifo <dir>): after the go, rsync's
// remote shell (the shim, src/resources/sync-rsync.ts) writes rsync's command line into the
// FIFO dir/go, its stdin into dir/in and reads dir/out: the OPEN is sent with that command.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { StreamOpen } from '../statechan/stream-protocol.js';
import type { Args } from './sync-transport-args.js';

const READY_FD = 3;
const GO_FD = 4;
/** after the go, bound on rsync's remote shell writing its command line */
const ARGV_MS = 30_000;

/** The daemon's go: one NUL byte on fd 4; rejects if fd 4 closes first. */
function readGo(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = new net.Socket({ fd, readable: true, writable: false });
    let settled = false;
    s.on('data', (d: Buffer) => {
      if (settled) return;
      settled = true;
      s.destroy();
      if (d[0] === 0) resolve();
      else reject(new Error('bad go'));
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

/** rsync's remote command from the shim's NUL-separated argv ([-l user] host command..., then an empty one). */
export function shimCommand(text: Buffer, peer: string): string[] {
  const parts = text.toString('utf8').split('\0');
  const end = parts.indexOf('');
  if (end < 0) throw new Error('remote shell command line not terminated');
  const go = parts.slice(0, end);
  const rest = go[0] === '-l' ? go.slice(2) : go;
  if (rest[0] !== peer) throw new Error(`remote shell for ${String(rest[0]).slice(0, 64)}, held for ${peer}`);
  if (rest.length < 3) throw new Error('remote shell without a remote command');
  return rest.slice(1);
}

function fail(a: Args, e: unknown): never {
  process.stderr.write(`ferry-rsync-transport: ${a.peer}: ${(e as Error).message}\n`);
  process.exit(255);
}

export function heldIo(a: Args, openOf: (remote: string[]) => StreamOpen): {
  open: StreamOpen | Promise<StreamOpen>;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  hooks: { connected?: () => void; streaming?: () => void };
  /** the output flushed and closed */
  finish: (cb: () => void) => void;
} {
  const signalReady = (): void => {
    try {
      fs.writeSync(READY_FD, 'R');
      fs.closeSync(READY_FD);
    } catch {
      // the daemon is gone: the go never comes
    }
  };
  const go = readGo(GO_FD);
  go.catch((e: unknown) => fail(a, e));
  const gate = new PassThrough();
  if (!a.fifo) {
    void go.then(() => process.stdin.pipe(gate), () => undefined);
    // ready once the peer's command runs (it waits for the input)
    return { open: openOf(a.remote), input: gate, output: process.stdout, hooks: { streaming: signalReady }, finish: (cb) => process.stdout.end(cb) };
  }
  const dir = a.fifo;
  const out = new PassThrough();
  let file: fs.WriteStream | undefined;
  const open = go.then(async () => {
    const timer = setTimeout(() => fail(a, new Error(`no command line from rsync's remote shell in ${ARGV_MS} ms`)), ARGV_MS);
    const text = await fs.promises.readFile(path.join(dir, 'go'));
    clearTimeout(timer);
    const remote = shimCommand(text, a.peer);
    fs.createReadStream(path.join(dir, 'in')).pipe(gate);
    file = fs.createWriteStream(path.join(dir, 'out'));
    out.pipe(file);
    return openOf(remote);
  });
  open.catch((e: unknown) => fail(a, e));
  const finish = (cb: () => void): void => {
    if (!file) return cb();
    file.once('close', cb);
    file.once('error', cb);
    out.end();
  };
  return { open, input: gate, output: out, hooks: { connected: signalReady }, finish };
}
