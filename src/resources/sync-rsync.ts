// [sync#N] type = rsync: the service's data directory copied to the other nodes of the service
// by the real rsync, its remote shell replaced by ferry's transport (src/cli/sync-transport.ts)
// which asks the peer's daemon, over the authenticated state channel, to run `rsync --server`
// there. No ssh. Only the node running the service pushes (the service layer and the daemon
// decide when); the receiving daemon refuses a push into a node that runs the service.
import fs from 'node:fs';
import path from 'node:path';
import type { Keyword } from '../vocab/keywords.js';
import { serviceVarDir } from '../paths.js';
import { run, type RunResult } from '../util/exec.js';
import { shlexSplit } from '../util/shlex.js';
import type { DataSync, PreparedPush, PushResult, Resource, ResourceContext, StatusReport } from './types.js';
import { holdTransport, preparedPush, sendGo, transportOptions as transportArgs, transportScript, type HeldTransport } from './held-transport.js';
import type { DriverCheck, KeywordValues } from '../vocab/keywords.js';
import type { CopyState, RsyncRecord } from './sync-rsync-state.js';
import { ageText, copyState, readRecord, recordFile, updateRecord } from './sync-rsync-state.js';
import { parseSchedule } from './schedule.js';
import { BTRFS } from './sync-btrfs-state.js';

export const RSYNC = 'rsync';

export const rsyncKeywords: Keyword[] = [
  { name: 'dst', type: 'string', scopable: true, types: [RSYNC, BTRFS], description: 'rsync: directory the data is copied into on the target nodes (default: the same path as src, resolved for each target). btrfs: directory of the snapshots on every node, sent and received (default: the parent directory of src).' },
  { name: 'target', type: 'list', default: ['nodes'], types: [RSYNC, BTRFS], description: 'Nodes the data is pushed to: `nodes` (the other nodes of the service) or node names, all in the service\'s nodes.' },
  { name: 'options', type: 'shlex', scopable: true, types: [RSYNC], description: 'Extra rsync options (after the defaults -a --delete --numeric-ids).' },
  { name: 'schedule', type: 'string', default: '', types: [RSYNC, BTRFS], description: 'Sync while the service runs, on a schedule, from the node running it: `@5m`, `02:00-04:00@30m` (docs/schedule.md). Empty: only on relocation.' },
  { name: 'max_delay', type: 'duration', default: 86_400_000, types: [RSYNC, BTRFS], description: 'A copy older than this shows warn, and a takeover from it waits for the operator (unless stale_takeover).' },
  { name: 'stale_takeover', type: 'boolean', default: false, types: [RSYNC, BTRFS], description: 'Let the daemon fail over to a copy older than max_delay (data written since the last sync is lost) instead of waiting for the operator.' },
  { name: 'timeout', type: 'duration', default: 3_600_000, types: [RSYNC, BTRFS], description: 'Longest one sync pass may take; rsync is killed past it (on both ends).' },
];

/** the options every push uses; `options` come after them */
const BASE_OPTIONS = ['-a', '--delete', '--numeric-ids'];

/**
 * rsync's remote shell for a pre-opened final push (`sh <this> <dir> host command...`): rsync's
 * command line into the held transport's FIFO dir/go, then its stdin into dir/in and dir/out
 * to its stdout (FIFOs: the daemon's own pipe ends are non-blocking, which cat cannot read).
 */
export const HELD_SHIM = [
  '# ferry: remote shell of a pre-opened rsync push (src/resources/sync-rsync.ts)',
  'd=$1',
  'shift',
  "printf '%s\\0' \"$@\" '' > \"$d/go\" || exit 255",
  'exec 6<&0',
  'cat <&6 > "$d/in" &',
  'exec cat < "$d/out"',
  '',
].join('\n');

/** bound on the pre-open of a final push (node's start, the config, the handshake) */
const PREOPEN_MS = 30_000;
/** rsync still running this long after its held transport ended: killed */
const HELD_GRACE_MS = 10_000;

/** The FIFOs of a held rsync transport, in a new directory under `parent` (only the daemon writes there). */
export async function makeFifos(parent: string, rid = 'sync'): Promise<string> {
  fs.mkdirSync(parent, { recursive: true });
  // one relocation of a service at a time: a directory of this resource left by a daemon that died goes
  const prefix = `held-${rid.replace(/[^A-Za-z0-9#._-]/g, '_')}-`;
  for (const n of fs.readdirSync(parent)) if (n.startsWith(prefix)) fs.rmSync(path.join(parent, n), { recursive: true, force: true });
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  const r = await run('mkfifo', ['-m', '600', ...['go', 'in', 'out'].map((n) => path.join(dir, n))], { timeout: 10_000 });
  if (!r.ok) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`mkfifo in ${dir}: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.exitCode}`}`);
  }
  return dir;
}

/** rsync through a held transport (its FIFOs in `dir`, the shim file `shim`): the go, then rsync; the transport never outlives it. */
export async function runHeld(args: string[], h: HeldTransport, shim: string, dir: string, timeoutMs: number): Promise<RunResult> {
  if (h.proc.exitCode !== null || h.proc.signalCode !== null) throw new Error('the pre-opened stream ended before the final push');
  sendGo(h);
  const at = args.indexOf('-e');
  const withShim = [...args.slice(0, at), '-e', `/bin/sh ${shim} ${dir}`, ...args.slice(at + 2)];
  const ac = new AbortController();
  // rsync ends within moments of its transport; one left waiting on a FIFO nobody opens (the
  // transport died) is ended
  let grace: NodeJS.Timeout | undefined;
  void h.exited.then(() => (grace = setTimeout(() => ac.abort(), HELD_GRACE_MS)));
  try {
    return await run('rsync', withShim, { timeout: timeoutMs, signal: ac.signal });
  } finally {
    if (grace) clearTimeout(grace);
    h.cancel();
  }
}

/** `target` as node names: `nodes` is the other nodes of the service. */
export function resolveTargets(target: readonly string[], serviceNodes: readonly string[], self: string): string[] {
  const out: string[] = [];
  for (const t of target.length ? target : ['nodes']) for (const n of t === 'nodes' ? serviceNodes : [t]) if (n !== self && !out.includes(n)) out.push(n);
  return out;
}

export function checkRsync(kw: KeywordValues, nodes: readonly string[]): DriverCheck[] {
  const out: DriverCheck[] = [];
  const src = kw.string('src');
  if (!src) out.push({ message: 'missing required keyword "src" for type rsync (the directory to copy)' });
  else if (!path.isAbsolute(src)) out.push({ keyword: 'src', message: `src "${src}" must be an absolute path` });
  const dst = kw.string('dst');
  if (dst && !path.isAbsolute(dst)) out.push({ keyword: 'dst', message: `dst "${dst}" must be an absolute path` });
  const outside = kw.list('target').filter((t) => t !== 'nodes' && !nodes.includes(t));
  if (outside.length) out.push({ keyword: 'target', message: `target ${outside.join(', ')} not in the nodes of the service (${nodes.join(' ') || 'none'})` });
  const sch = parseSchedule(kw.mustString('schedule'));
  if (sch && 'error' in sch) out.push({ keyword: 'schedule', message: sch.error });
  return out;
}

/** rsync's --stats: "Total bytes sent: 1,234" and "Total transferred file size: 5,678 bytes" */
export function parseStats(stdout: string): { bytes: number; fileBytes: number } {
  const num = (re: RegExp): number => {
    const m = re.exec(stdout);
    return m ? Number(m[1]!.replace(/[,.]/g, '')) : 0;
  };
  return { bytes: num(/^Total bytes sent:\s*([\d,.]+)/m), fileBytes: num(/^Total transferred file size:\s*([\d,.]+)/m) };
}

const SERVER_LONG_OPTIONS = new Set(['--delete', '--delete-before', '--delete-during', '--delete-delay', '--delete-after', '--delete-excluded', '--numeric-ids', '--inplace', '--partial', '--sparse', '--hard-links', '--acls', '--xattrs', '--super', '--fake-super', '--ignore-errors', '--force', '--existing', '--ignore-existing', '--size-only', '--checksum', '--whole-file', '--no-whole-file', '--fsync', '--stats']);
const SERVER_VALUED = /^--(timeout|bwlimit|max-delete|max-size|min-size|compress-level|modify-window)=\d+[A-Za-z]?$/;

/**
 * The `rsync --server` command a peer asked for, checked against what this node receives
 * into: a push (never --sender, which would read our files), options without paths (no
 * --log-file, --temp-dir, --backup-dir...: they could write anywhere), into `dst` only.
 */
export function checkServerArgs(argv: readonly string[], dst: string): { ok: true; args: string[] } | { ok: false; error: string } {
  if (argv[0] !== 'rsync' || argv[1] !== '--server') return { ok: false, error: 'not an rsync --server command' };
  const rest = argv.slice(2);
  if (rest.length < 2) return { ok: false, error: 'rsync --server without a destination' };
  const target = rest[rest.length - 1]!;
  if (rest[rest.length - 2] !== '.') return { ok: false, error: 'rsync --server: expected ". <path>" last' };
  const norm = (p: string): string => path.resolve(p) + '/';
  if (norm(target) !== norm(dst)) return { ok: false, error: `path ${target.slice(0, 200)} is not this node's dst of the resource (${dst})` };
  for (const a of rest.slice(0, -2)) {
    if (a === '--sender') return { ok: false, error: 'only pushes are accepted (--sender refused)' };
    if (/^-[A-Za-z.]+$/.test(a) || SERVER_LONG_OPTIONS.has(a) || SERVER_VALUED.test(a)) continue;
    return { ok: false, error: `rsync --server option ${a.slice(0, 60)} refused` };
  }
  return { ok: true, args: ['--server', ...rest.slice(0, -1), norm(dst)] };
}

export function createRsync(ctx: ResourceContext): Resource {
  const src = ctx.kw.string('src') ?? '';
  const dst = ctx.kw.string('dst') || src;
  const targets = resolveTargets(ctx.kw.list('target'), ctx.serviceNodes ?? [], ctx.nodename);
  const sch = parseSchedule(ctx.kw.mustString('schedule'));
  const file = recordFile(serviceVarDir(ctx.paths, ctx.svcname), ctx.rid);
  const maxDelayMs = ctx.kw.mustDuration('max_delay');
  const timeoutMs = ctx.kw.mustDuration('timeout');
  const origin = (ctx.serviceNodes ?? [])[0] === ctx.nodename;

  const data: DataSync = {
    targets,
    recordFile: file,
    schedule: sch && 'rules' in sch ? sch : undefined,
    maxDelayMs,
    staleTakeover: ctx.kw.boolean('stale_takeover'),
    timeoutMs,
    dst,
    receive(argv) {
      const c = checkServerArgs(argv, dst);
      return c.ok ? { ok: true, file: 'rsync', args: c.args } : c;
    },
    received(from, at, final) {
      updateRecord(file, (rec) => (rec.received = { from, at, final }));
    },
    push: (peer, peerDst, final) => push(peer, peerDst, final),
    async prepareFinal(peer: string, peerDst: string): Promise<PreparedPush> {
      const dir = await makeFifos(serviceVarDir(ctx.paths, ctx.svcname), ctx.rid);
      const h = holdTransport([...transportOptions(true), '--held', '--fifo', dir, peer], PREOPEN_MS);
      const drop = (): void => {
        h.cancel();
        fs.rmSync(dir, { recursive: true, force: true });
      };
      return preparedPush(h, drop, () => push(peer, peerDst, true, { h, dir }));
    },
  };

  const transportOptions = (final: boolean): string[] => transportArgs(ctx.svcname, ctx.rid, timeoutMs, final);

  /** the held transport's remote shell, written where only the daemon writes */
  function shimFile(): string {
    const f = path.join(serviceVarDir(ctx.paths, ctx.svcname), 'rsync-held-shim.sh');
    const cur = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined;
    if (cur !== HELD_SHIM) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(`${f}.tmp`, HELD_SHIM, { mode: 0o600 });
      fs.renameSync(`${f}.tmp`, f);
    }
    return f;
  }

  async function push(peer: string, peerDst: string, final: boolean, held?: { h: HeldTransport; dir: string }): Promise<PushResult> {
      const at = Date.now();
      const transport = [process.execPath, transportScript(), ...transportOptions(final)].join(' ');
      const extra = shlexSplit(ctx.kw.string('options') ?? '');
      const args = [...BASE_OPTIONS, '--stats', `--timeout=${Math.max(30, Math.ceil(timeoutMs / 1000))}`, '-e', transport, ...extra, '--', `${src.replace(/\/+$/, '')}/`, `${peer}:${peerDst.replace(/\/+$/, '')}/`];
      ctx.log.info({ event: 'rsync_push', peer, src, dst: peerDst, final, preopened: held !== undefined }, `rsync ${src} to ${peer}:${peerDst}${final ? ' (final)' : ''}`);
      const r = held ? await runHeld(args, held.h, shimFile(), held.dir, timeoutMs) : await run('rsync', args, { timeout: timeoutMs });
      // 24: files vanished while copying (the service writes): the pass is still complete for the rest
      if (!r.ok && r.exitCode !== 24) {
        const why = (r.stderr.trim().split('\n').filter((l) => l.trim()).pop() ?? '').slice(0, 300);
        ctx.log.error({ event: 'rsync_failed', peer, code: r.exitCode, timedOut: r.timedOut, why }, `rsync to ${peer} failed`);
        throw new Error(`rsync to ${peer} failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode ?? r.signal}`}): ${why}`);
      }
      const st = parseStats(r.stdout);
      const res: PushResult = { peer, at, ms: Date.now() - at, ...st };
      updateRecord(file, (rec) => {
        rec.sent[peer] = { at, bytes: st.bytes, ms: res.ms, final };
        if (final) rec.handedOver = { to: peer, at };
      });
      ctx.log.info({ event: 'rsync_done', peer, final, bytes: st.bytes, fileBytes: st.fileBytes, ms: res.ms }, `rsync to ${peer} done`);
      return res;
  }

  return {
    rid: ctx.rid,
    kind: 'sync',
    data,
    // sync resources are not started by service actions; the service layer marks the copy
    // here as the truth when the service starts (src/service/data.ts)
    async start() {},
    async stop() {},
    async status(): Promise<StatusReport> {
      const rec = readRecord(file);
      return syncStatus(RSYNC, src, dst, targets, rec, copyState(rec, origin, Date.now()), maxDelayMs);
    },
  };
}

/** The status of a data sync resource (rsync, btrfs) from its record: how old each copy is. */
export function syncStatus(kind: string, src: string, dst: string, targets: readonly string[], rec: RsyncRecord, c: CopyState, maxDelayMs: number, now = Date.now()): StatusReport {
  if (c.current) {
    // the copy here is the truth: show how old each peer's copy is
    if (c.why.startsWith('final sync')) return { status: 'up', label: `${kind} ${dst} from ${rec.received!.from}: final copy ${ageText(now - rec.received!.at)} ago`, messages: [] };
    const msgs: string[] = [];
    let status: StatusReport['status'] = 'up';
    for (const p of targets) {
      const s = rec.sent[p];
      if (!s) {
        msgs.push(`${p}: never synced`);
        status = 'warn';
      } else {
        const age = now - s.at;
        if (age > maxDelayMs) status = 'warn';
        msgs.push(`${p}: last sync ${ageText(age)} ago${age > maxDelayMs ? ` (over max_delay ${ageText(maxDelayMs)})` : ''}`);
      }
    }
    return { status, label: `${kind} ${src} to ${targets.join(', ') || 'no target'}`, messages: msgs };
  }
  if (c.age === undefined) return { status: 'warn', label: `${kind} ${dst}: no copy`, messages: [c.why] };
  const status = c.age > maxDelayMs ? 'warn' : 'up';
  const from = rec.received && c.why.startsWith('last sync') ? ` from ${rec.received.from}` : '';
  return { status, label: `${kind} ${dst}${from}: last sync ${ageText(c.age)} ago`, messages: status === 'warn' ? [`${c.why}: older than max_delay ${ageText(maxDelayMs)}`] : [] };
}
