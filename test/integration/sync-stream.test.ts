// The rsync transport end to end on loopback, no lab: the real rsync client with its remote
// shell replaced by the real transport CLI (dist/src/cli/sync-transport.js, as node n1), a
// real state channel server with the stream server (as n2) running the real `rsync --server`.
// A push lands byte for byte; refusals (path, --sender) end rsync non-zero with the reason,
// and write nothing; a stranger's secret gets nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { deriveChannelKeys } from '../../src/statechan/crypto.js';
import { ChannelServer, emptyChanDrops } from '../../src/statechan/server.js';
import { StateStore } from '../../src/statechan/store.js';
import { StreamServer } from '../../src/statechan/stream-server.js';
import type { StreamOpen } from '../../src/statechan/stream-protocol.js';
import { checkServerArgs, HELD_SHIM, makeFifos, runHeld } from '../../src/resources/sync-rsync.js';
import { holdTransport, sendGo } from '../../src/resources/held-transport.js';
import { run } from '../../src/util/exec.js';
import { distCli } from '../helpers/env.js';

const transport = distCli('sync-transport');

async function setup(t: import('ava').ExecutionContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-stream-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const secret = crypto.randomBytes(32).toString('hex');
  const keys = deriveChannelKeys(secret, 'streamlab');
  const opened: StreamOpen[] = [];
  const done: boolean[] = [];
  const dataAts: (number | undefined)[] = [];
  const dst = path.join(dir, 'dst');
  const streams = new StreamServer(async (peer, open) => {
    opened.push(open);
    if (peer !== 'n1') return { ok: false, error: 'not n1' };
    const c = checkServerArgs(open.argv, dst);
    if (!c.ok) return c;
    fs.mkdirSync(dst, { recursive: true });
    return { ok: true, key: open.svc, file: 'rsync', args: c.args, timeoutMs: 60_000, done: (ok, _code, dataAt) => {
      done.push(ok);
      dataAts.push(dataAt);
    } };
  }, () => undefined);
  const server = new ChannelServer({ keys, self: 'n2', nodes: ['n1', 'n2'], store: new StateStore('1'), log: () => undefined, drops: emptyChanDrops(), streams });
  t.true(await server.listen('127.0.0.1', 0));
  t.teardown(() => server.close());
  const port = server.addresses()[0]!.port;
  const root = (name: string, sec: string) => {
    const r = path.join(dir, name);
    fs.mkdirSync(path.join(r, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(r, 'etc', 'cluster.secret'), `${sec}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(r, 'etc', 'cluster.conf'), ['[cluster]', 'name = streamlab', 'nodes = n1 n2', 'secret_file = cluster.secret', 'quorum = false', '', '[hb#1]', 'type = unicast', 'addr@n1 = 127.0.0.2', 'addr@n2 = 127.0.0.1', `port = ${port}`, ''].join('\n'));
    return r;
  };
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'big'), crypto.randomBytes(3 * 1024 * 1024 + 7));
  fs.writeFileSync(path.join(src, 'sub', 'small'), 'hello\n');
  const push = (ferryRoot: string, target: string, extra: string[] = []) =>
    run('rsync', ['-a', '--delete', '--stats', '-e', `${process.execPath} ${transport} --svc s1 --rid sync#1 --timeout 60`, ...extra, '--', `${src}/`, `n2:${target}/`], { env: { FERRY_ROOT: ferryRoot, FERRY_NODENAME: 'n1' }, timeout: 60_000 });
  return { dir, src, dst, opened, done, dataAts, push, good: root('n1', secret), stranger: root('x1', crypto.randomBytes(32).toString('hex')) };
}

test('a push lands byte for byte; a second one moves only the delta', async (t) => {
  const s = await setup(t);
  const r = await s.push(s.good, s.dst);
  t.true(r.ok, r.stderr);
  // compared by hash: ava's deepEqual of two 3 MB buffers blocks the event loop for many seconds
  const sha = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  t.is(sha(path.join(s.dst, 'big')), sha(path.join(s.src, 'big')));
  t.is(fs.readFileSync(path.join(s.dst, 'sub', 'small'), 'utf8'), 'hello\n');
  t.deepEqual(s.done, [true]);
  fs.appendFileSync(path.join(s.src, 'sub', 'small'), 'more\n');
  const again = await s.push(s.good, s.dst);
  t.true(again.ok, again.stderr);
  const sent = Number(/Total bytes sent: ([\d,]+)/.exec(again.stdout)![1]!.replace(/,/g, ''));
  t.true(sent < 100_000, `delta push sent ${sent} bytes`);
  t.is(fs.readFileSync(path.join(s.dst, 'sub', 'small'), 'utf8'), 'hello\nmore\n');
  t.is(s.opened[0]!.path, `${s.dst}/`);
});

test('refusals: another path, a pull; nothing written, rsync fails with the reason', async (t) => {
  const s = await setup(t);
  const other = path.join(s.dir, 'elsewhere');
  const r = await s.push(s.good, other);
  t.false(r.ok);
  t.regex(r.stderr, /n2 refused: path .*elsewhere\/ is not this node's dst/);
  t.false(fs.existsSync(other));
  // a pull from n2 (rsync n2:dst/ local/) runs rsync --server --sender: refused
  const pull = await run('rsync', ['-a', '-e', `${process.execPath} ${transport} --svc s1 --rid sync#1`, '--', `n2:${s.dst}/`, path.join(s.dir, 'pulled')], { env: { FERRY_ROOT: s.good, FERRY_NODENAME: 'n1' }, timeout: 60_000 });
  t.false(pull.ok);
  t.regex(pull.stderr, /only pushes are accepted/);
  t.deepEqual(s.done, []);
});

test('a node with another secret is not served', async (t) => {
  const s = await setup(t);
  const r = await run('rsync', ['-a', '-e', `${process.execPath} ${transport} --svc s1 --rid sync#1`, '--', `${s.src}/`, `n2:${s.dst}/`], { env: { FERRY_ROOT: s.stranger, FERRY_NODENAME: 'n1' }, timeout: 60_000 });
  t.false(r.ok);
  t.regex(r.stderr, /forged|refused|closed/);
  t.deepEqual(s.opened, []);
  t.false(fs.existsSync(s.dst));
});

// the pre-opened final push of a relocation (src/resources/held-transport.ts)
const held = (s: { good: string }, extra: string[]) => holdTransport(['--svc', 's1', '--rid', 'sync#1', '--timeout', '60', '--final', '--held', ...extra], 30_000, { ...process.env, FERRY_ROOT: s.good, FERRY_NODENAME: 'n1' });

async function until(cond: () => boolean, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

test('held rsync transport: ready before anything is opened on the peer, then rsync through it lands byte for byte', async (t) => {
  const s = await setup(t);
  const fifos = await makeFifos(path.join(s.dir, 'var'));
  const h = held(s, ['--fifo', fifos, 'n2']);
  t.teardown(() => h.cancel());
  await h.ready;
  // authenticated, nothing opened yet: the command comes with rsync's go
  t.deepEqual(s.opened, []);
  const shim = path.join(s.dir, 'shim.sh');
  fs.writeFileSync(shim, HELD_SHIM);
  const r = await runHeld(['-a', '--delete', '--stats', '-e', 'replaced', '--', `${s.src}/`, `n2:${s.dst}/`], h, shim, fifos, 60_000);
  t.true(r.ok, r.stderr);
  const sha = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  t.is(sha(path.join(s.dst, 'big')), sha(path.join(s.src, 'big')));
  t.is(fs.readFileSync(path.join(s.dst, 'sub', 'small'), 'utf8'), 'hello\n');
  t.deepEqual(s.done, [true]);
  t.true(s.opened[0]!.final);
  // done, or killed once rsync returned (the transport never outlives its rsync)
  t.true([0, null].includes((await h.exited).code));
  t.deepEqual(fs.readdirSync(fifos).sort(), ['go', 'in', 'out']);
});

test('held with the command given: the peer runs it and waits; cancel kills both ends, nothing applied or recorded', async (t) => {
  const s = await setup(t);
  const h = held(s, ['n2', 'rsync', '--server', '-logDtpr', '.', `${s.dst}/`]);
  t.teardown(() => h.cancel());
  await h.ready;
  t.is(s.opened.length, 1);
  // input written before the go is never sent
  h.input.write(Buffer.alloc(4096, 1));
  h.cancel();
  t.true(await until(() => s.done.length === 1), 'the peer\'s command ended');
  t.deepEqual(s.done, [false]);
  t.deepEqual(s.dataAts, [undefined]);
  t.deepEqual(fs.readdirSync(s.dst), []);
  t.is((await h.exited).code, null);
});

test('held: the go fd closed without a go (the daemon died): the transport exits 255, nothing sent', async (t) => {
  const s = await setup(t);
  const h = held(s, ['n2', 'rsync', '--server', '-logDtpr', '.', `${s.dst}/`]);
  t.teardown(() => h.cancel());
  await h.ready;
  h.input.write(Buffer.alloc(4096, 1));
  h.input.end();
  h.go.destroy();
  const x = await h.exited;
  t.is(x.code, 255);
  t.regex(x.stderr, /no go/);
  t.true(await until(() => s.done.length === 1));
  t.deepEqual(s.done, [false]);
  t.deepEqual(s.dataAts, [undefined]);
  t.deepEqual(fs.readdirSync(s.dst), []);
});

test('held with the command given, then the go: the input flows (btrfs\'s path, here with tar)', async (t) => {
  const s = await setup(t);
  const h = held(s, ['n2', 'rsync', '--server', '-logDtpr', '.', `${s.dst}/`]);
  t.teardown(() => h.cancel());
  await h.ready;
  sendGo(h);
  // not an rsync client: the peer's rsync --server gets bytes it does not understand and fails;
  // what is checked is that the data now reaches it (dataAt set), unlike before the go
  h.input.end(Buffer.alloc(64, 7));
  await h.exited;
  t.true(await until(() => s.done.length === 1));
  t.deepEqual(s.done, [false]);
  t.is(typeof s.dataAts[0], 'number');
});
