// [sync#N] type = btrfs: the service's data is a btrfs subvolume (src), copied to the other
// nodes of the service as read-only snapshots: `btrfs send [-p <last common snapshot>]` here,
// piped through ferry's transport (src/cli/sync-transport.ts, the state channel) into
// `btrfs receive <dst>` on the peer, which its daemon runs after its checks. Incremental and
// block-level; a peer that lost the common snapshot gets a full send; old snapshots are pruned
// on both sides (keep). Before the service starts on a node whose copy was received, the
// newest received snapshot becomes the writable subvolume at src (prepare).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Keyword } from '../vocab/keywords.js';
import { serviceVarDir } from '../paths.js';
import { run } from '../util/exec.js';
import type { DataSync, PreparedPush, PushResult, Resource, ResourceContext, StatusReport } from './types.js';
import { holdTransport, preparedPush, sendGo, transportOptions as transportArgs, transportScript, type HeldTransport } from './held-transport.js';
import type { DriverCheck, KeywordValues } from '../vocab/keywords.js';
import { BTRFS, BTRFS_MAGIC, checkReceiveArgs, chooseParent, KEEP_DEFAULT, ourSnapshots, pruneList, snapDir, snapName, SUBVOL_INO } from './sync-btrfs-state.js';
import { copyState, readRecord, recordFile, updateRecord } from './sync-rsync-state.js';
import { parseSchedule } from './schedule.js';
import { resolveTargets, syncStatus } from './sync-rsync.js';
import { rateLimit } from '../util/rate-limit.js';

export const btrfsKeywords: Keyword[] = [
  { name: 'keep', type: 'integer', default: KEEP_DEFAULT, types: [BTRFS], description: 'Snapshots kept in dst on each node (at least 1; the last one in common with each peer is kept too).' },
  { name: 'bwlimit', type: 'integer', default: 0, types: [BTRFS], description: "Rate limit of the send stream to a peer, in KiB/s (1024 bytes), as rsync's --bwlimit (an rsync resource sets that in options). 0: no limit." },
];

/** bound on the pre-open of a final push (node's start, the config, the handshake, the peer's btrfs receive) */
const PREOPEN_MS = 30_000;

/** Why `p` is not a btrfs subvolume; undefined when it is one. */
export function notSubvolume(p: string): string | undefined {
  try {
    const st = fs.statSync(p);
    if (!st.isDirectory()) return 'not a directory';
    const t = fs.statfsSync(p).type;
    if (t !== BTRFS_MAGIC) return `not on a btrfs filesystem (type 0x${t.toString(16)})`;
    if (st.ino !== SUBVOL_INO) return `a plain directory, not a subvolume (inode ${st.ino}; create it with btrfs subvolume create)`;
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (e as Error).message.split('\n')[0];
  }
}

export function checkBtrfs(kw: KeywordValues, nodes: readonly string[]): DriverCheck[] {
  const out: DriverCheck[] = [];
  const src = kw.string('src');
  if (!src) out.push({ message: 'missing required keyword "src" for type btrfs (the subvolume to copy)' });
  else if (!path.isAbsolute(src)) out.push({ keyword: 'src', message: `src "${src}" must be an absolute path` });
  else if (fs.existsSync(src)) {
    // on a node that never received a copy, src does not exist yet
    const why = notSubvolume(src);
    if (why) out.push({ keyword: 'src', message: `src ${src} is not a btrfs subvolume: ${why}` });
  }
  const dst = kw.string('dst');
  if (dst && !path.isAbsolute(dst)) out.push({ keyword: 'dst', message: `dst "${dst}" must be an absolute path` });
  const outside = kw.list('target').filter((t) => t !== 'nodes' && !nodes.includes(t));
  if (outside.length) out.push({ keyword: 'target', message: `target ${outside.join(', ')} not in the nodes of the service (${nodes.join(' ') || 'none'})` });
  const sch = parseSchedule(kw.mustString('schedule'));
  if (sch && 'error' in sch) out.push({ keyword: 'schedule', message: sch.error });
  const keep = kw.integer('keep');
  if (keep !== undefined && keep < 1) out.push({ keyword: 'keep', message: `keep ${keep}: at least 1 snapshot is kept` });
  return out;
}

interface PipeResult {
  ok: boolean;
  bytes: number;
  timedOut: boolean;
  why: string;
}

/** the receiving end of a send: the transport, started here or held (pre-opened) */
interface TransportEnd {
  stdin: NodeJS.WritableStream & { on(e: 'error', f: () => void): unknown };
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

function spawnTransport(transport: string[], grab: (d: Buffer) => void): TransportEnd {
  const tr = spawn(process.execPath, transport, { stdio: ['pipe', 'ignore', 'pipe'] });
  tr.stderr.on('data', grab);
  tr.on('error', (e) => grab(Buffer.from(`${e.message}\n`)));
  return { stdin: tr.stdin, exit: new Promise((r) => tr.on('close', (c) => r(c))), kill: (sig) => tr.kill(sig) };
}

function heldEnd(h: HeldTransport, grab: (d: Buffer) => void): TransportEnd {
  sendGo(h);
  return {
    stdin: h.input,
    exit: h.exited.then((x) => {
      grab(Buffer.from(x.stderr));
      return x.code;
    }),
    kill: () => h.cancel(),
  };
}

/** `btrfs send args` | the transport, bounded; bytes of the stream counted on the way; at most bytesPerS (0: no limit). */
function sendThrough(sendArgs: string[], transport: string[] | HeldTransport, timeoutMs: number, bytesPerS: number): Promise<PipeResult> {
  return new Promise((resolve) => {
    let bytes = 0;
    let errs = '';
    let timedOut = false;
    const codes: (number | null)[] = [];
    const grab = (d: Buffer): void => {
      if (errs.length < 8192) errs += d.toString('utf8');
    };
    const send = spawn('btrfs', ['send', '-q', ...sendArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tr = Array.isArray(transport) ? spawnTransport(transport, grab) : heldEnd(transport, grab);
    send.stderr.on('data', grab);
    send.stdout.on('data', (d: Buffer) => (bytes += d.length));
    if (bytesPerS > 0) send.stdout.pipe(rateLimit(bytesPerS)).pipe(tr.stdin);
    else send.stdout.pipe(tr.stdin);
    tr.stdin.on('error', () => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      send.kill('SIGKILL');
      tr.kill('SIGKILL');
    }, timeoutMs);
    const ended = (code: number | null): void => {
      codes.push(code);
      if (codes.length < 2) return;
      clearTimeout(timer);
      const ok = codes.every((c) => c === 0) && !timedOut;
      const why = (errs.trim().split('\n').filter((l) => l.trim()).pop() ?? '').slice(0, 300);
      resolve({ ok, bytes, timedOut, why: ok ? '' : why || `exit ${codes.join('/')}` });
    };
    send.on('error', (e) => (errs += `${e.message}\n`));
    send.on('close', (c) => {
      if (c !== 0) tr.kill('SIGTERM');
      ended(c);
    });
    void tr.exit.then((c) => {
      if (c !== 0) send.kill('SIGTERM');
      ended(c);
    });
  });
}

async function btrfs(args: string[], timeoutMs = 120_000): Promise<void> {
  const r = await run('btrfs', args, { timeout: timeoutMs });
  if (!r.ok) throw new Error(`btrfs ${args.join(' ')}: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 300) || `exit ${r.exitCode}`}`);
}

export function createBtrfs(ctx: ResourceContext): Resource {
  const src = (ctx.kw.string('src') ?? '').replace(/\/+$/, '');
  const base = path.basename(src);
  const dir = snapDir(src, ctx.kw.string('dst'));
  const keep = Math.max(1, ctx.kw.mustInteger('keep'));
  const bytesPerS = Math.max(0, ctx.kw.mustInteger('bwlimit')) * 1024;
  const targets = resolveTargets(ctx.kw.list('target'), ctx.serviceNodes ?? [], ctx.nodename);
  const sch = parseSchedule(ctx.kw.mustString('schedule'));
  const file = recordFile(serviceVarDir(ctx.paths, ctx.svcname), ctx.rid);
  const maxDelayMs = ctx.kw.mustDuration('max_delay');
  const timeoutMs = ctx.kw.mustDuration('timeout');
  const origin = (ctx.serviceNodes ?? [])[0] === ctx.nodename;
  const local = (): string[] => {
    try {
      return ourSnapshots(base, fs.readdirSync(dir));
    } catch {
      return [];
    }
  };
  const prune = async (): Promise<void> => {
    for (const n of pruneList(base, local(), keep, readRecord(file))) {
      try {
        await btrfs(['subvolume', 'delete', path.join(dir, n)]);
        ctx.log.info({ event: 'btrfs_pruned', snap: n }, `pruned snapshot ${n}`);
      } catch (e) {
        ctx.log.warn({ event: 'btrfs_prune_failed', snap: n, err: (e as Error).message }, `prune of ${n} failed`);
      }
    }
  };

  /** our snapshots when a receive began (this object serves one stream) */
  let before: Set<string> | undefined;
  const data: DataSync = {
    targets,
    recordFile: file,
    schedule: sch && 'rules' in sch ? sch : undefined,
    maxDelayMs,
    staleTakeover: ctx.kw.boolean('stale_takeover'),
    timeoutMs,
    dst: dir,
    receive(argv) {
      const c = checkReceiveArgs(argv, dir);
      if (!c.ok) return c;
      const why = fs.existsSync(src) ? notSubvolume(src) : undefined;
      if (why) return { ok: false, error: `src ${src} here is not a btrfs subvolume: ${why}` };
      fs.mkdirSync(dir, { recursive: true });
      before = new Set(local());
      return { ok: true, file: 'btrfs', args: c.args };
    },
    received(from, at, final) {
      // the received snapshot: the one that was not here before the receive (not the newest
      // by name: the sender's clock may be behind ours)
      const now = local();
      const snap = now.find((n) => !before?.has(n)) ?? now[0];
      updateRecord(file, (rec) => (rec.received = { from, at, final, ...(snap ? { snap } : {}) }));
      ctx.log.info({ event: 'btrfs_received', from, snap, final }, `received snapshot ${snap ?? '?'} from ${from}`);
      void prune();
    },
    async prepare() {
      const rec = readRecord(file);
      const r = rec.received;
      if (!r?.snap || r.at < (rec.started ?? 0) || r.at < (rec.handedOver?.at ?? 0)) return;
      const snap = path.join(dir, r.snap);
      if (notSubvolume(snap)) throw new Error(`received snapshot ${snap} is gone: no copy to start from`);
      // the old src is renamed aside (instant) and deleted after the start: a subvolume delete
      // took ~0.2 s of the downtime; one left by a crash is deleted at the next prepare
      const asidePrefix = `.${path.basename(src)}.replaced-`;
      const aside = path.join(path.dirname(src), `${asidePrefix}${Date.now()}`);
      if (fs.existsSync(src)) {
        const why = notSubvolume(src);
        if (why) throw new Error(`src ${src} is not a btrfs subvolume (${why}): not replaced by the received copy`);
        fs.renameSync(src, aside);
      }
      try {
        await btrfs(['subvolume', 'snapshot', snap, src]);
      } catch (e) {
        if (fs.existsSync(aside) && !fs.existsSync(src)) fs.renameSync(aside, src);
        throw e;
      }
      ctx.log.info({ event: 'btrfs_prepared', snap: r.snap, from: r.from }, `${src} is now a writable snapshot of ${r.snap}`);
      for (const n of fs.readdirSync(path.dirname(src)).filter((x) => x.startsWith(asidePrefix))) {
        const old = path.join(path.dirname(src), n);
        if (!notSubvolume(old)) void btrfs(['subvolume', 'delete', old]).catch((e: unknown) => ctx.log.warn({ event: 'btrfs_prune_failed', snap: n, err: (e as Error).message }, `delete of the replaced ${n} failed`));
      }
    },
    push: (peer, peerDst, final) => push(peer, peerDst, final),
    async prepareFinal(peer: string, peerDst: string): Promise<PreparedPush> {
      // the peer's `btrfs receive` runs and waits: nothing reaches it before the go
      const h = holdTransport([...transportOptions(true), '--held', peer, 'btrfs', 'receive', peerDst], PREOPEN_MS);
      return preparedPush(h, () => h.cancel(), () => push(peer, peerDst, true, h));
    },
  };

  const transportOptions = (final: boolean): string[] => transportArgs(ctx.svcname, ctx.rid, timeoutMs, final);

  async function push(peer: string, peerDst: string, final: boolean, held?: HeldTransport): Promise<PushResult> {
      const at = Date.now();
      const why = notSubvolume(src);
      if (why) throw new Error(`src ${src} is not a btrfs subvolume: ${why}`);
      const name = snapName(base, at);
      const snap = path.join(dir, name);
      await btrfs(['subvolume', 'snapshot', '-r', src, snap]);
      const rec = readRecord(file);
      let parent = chooseParent(base, rec, peer, local().filter((n) => n !== name));
      const transport = [transportScript(), ...transportOptions(final), peer, 'btrfs', 'receive', peerDst];
      ctx.log.info({ event: 'btrfs_push', peer, snap: name, parent, dst: peerDst, final, preopened: held !== undefined }, `btrfs send ${name} to ${peer}:${peerDst}${parent ? ` (parent ${parent})` : ' (full)'}`);
      let r = await sendThrough([...(parent ? ['-p', path.join(dir, parent)] : []), snap], held ?? transport, timeoutMs, bytesPerS);
      if (!r.ok && parent && !r.timedOut) {
        // the peer lost the common snapshot (or never had it): a full send
        ctx.log.warn({ event: 'btrfs_full_send', peer, parent, why: r.why }, `incremental send to ${peer} failed, sending in full`);
        parent = undefined;
        r = await sendThrough([snap], transport, timeoutMs, bytesPerS);
      }
      if (!r.ok) {
        ctx.log.error({ event: 'btrfs_failed', peer, timedOut: r.timedOut, why: r.why }, `btrfs send to ${peer} failed`);
        await btrfs(['subvolume', 'delete', snap]).catch(() => undefined);
        throw new Error(`btrfs send to ${peer} failed (${r.timedOut ? 'timed out' : r.why})`);
      }
      const res: PushResult = { peer, at, ms: Date.now() - at, bytes: r.bytes, fileBytes: r.bytes };
      updateRecord(file, (x) => {
        x.sent[peer] = { at, bytes: r.bytes, ms: res.ms, final, snap: name, ...(parent ? { parent } : {}) };
        if (final) x.handedOver = { to: peer, at };
      });
      ctx.log.info({ event: 'btrfs_done', peer, final, snap: name, parent, bytes: r.bytes, ms: res.ms }, `btrfs send to ${peer} done`);
      // after the final delta the service is down until the target starts it: prune after that
      if (final) void prune().catch(() => undefined);
      else await prune();
      return res;
  }

  return {
    rid: ctx.rid,
    kind: 'sync',
    data,
    async start() {},
    async stop() {},
    async status(): Promise<StatusReport> {
      return syncStatus('btrfs', src, dir, targets, readRecord(file), copyState(readRecord(file), origin, Date.now()), maxDelayMs);
    },
  };
}
