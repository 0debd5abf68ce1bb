// A service's data sync resources (sync type rsync) as the service layer offers them to the
// daemon and the CLI: pushes to peers, the two-phase relocation (phase 1 while the service
// runs, stop, phase 2 the final delta), the records of what each node holds, the takeover
// gate built on them, and the checks of an incoming push. docs/data-mobility.md.
import { loadServiceConfig, locateService } from '../config/load.js';
import type { PreparedPush, PushResult } from '../resources/types.js';
import type { CopyState, GateVerdict } from '../resources/sync-rsync-state.js';
import { anotherPass, copyState, readRecord, takeoverGate, updateRecord } from '../resources/sync-rsync-state.js';
import { checkServerArgs } from '../resources/sync-rsync.js';
import { isDue } from '../resources/schedule.js';
import { BTRFS, snapDir } from '../resources/sync-btrfs-state.js';
import type { ActionReport } from './actions.js';
import type { ServiceResource } from './resources.js';
import type { Service } from './service.js';
import { drivers } from '../resources/registry.js';

export function dataResources(svc: Service): ServiceResource[] {
  return svc.resources.filter((r) => r.impl.data !== undefined && !r.disabled);
}

export const hasData = (svc: Service): boolean => dataResources(svc).length > 0;

/** The `dst` of resource `rid` as `peer` resolves it (dst, else src): where peer receives. */
export function peerDst(svc: Service, rid: string, peer: string): string {
  const { file } = locateService(svc.paths, svc.svcname);
  const cfg = loadServiceConfig(file, svc.svcname, peer, drivers);
  const rs = cfg.resources.find((r) => r.rid === rid);
  const src = rs?.kw.string('src');
  const dst = rs?.type === BTRFS ? src && snapDir(src, rs.kw.string('dst')) : rs?.kw.string('dst') || src;
  if (!dst) throw new Error(`${svc.svcname}: ${rid} has no dst for ${peer}`);
  return dst;
}

export interface PassReport {
  bytes: number;
  fileBytes: number;
  ms: number;
  pushes: PushResult[];
}

/**
 * Push every data resource to `peers` (each filtered by the resource's targets), one after the
 * other. `dsts`: the peers' dst already resolved (peerDst, keyed rid\0peer), filled as it goes:
 * a relocation resolves them in phase 1, not again while the service is down.
 */
export async function pushAll(svc: Service, peers: readonly string[], final: boolean, dsts = new Map<string, string>(), prepared = new Map<string, PreparedPush>()): Promise<PassReport> {
  const t0 = Date.now();
  const pushes: PushResult[] = [];
  for (const r of dataResources(svc)) {
    const d = r.impl.data!;
    for (const p of d.targets.filter((x) => peers.includes(x))) {
      const k = `${r.rid}\0${p}`;
      const dst = dsts.get(k) ?? peerDst(svc, r.rid, p);
      dsts.set(k, dst);
      const pre = final ? prepared.get(k) : undefined;
      prepared.delete(k);
      pushes.push(await (pre ? pre.push() : d.push(p, dst, final)));
    }
  }
  return { bytes: pushes.reduce((a, p) => a + p.bytes, 0), fileBytes: pushes.reduce((a, p) => a + p.fileBytes, 0), ms: Date.now() - t0, pushes };
}

/** The report of a two-phase relocation, published with the service's state (svcmon json). */
export interface TransferReport {
  intent: string;
  target: string;
  ok: boolean;
  error?: string;
  phase1: { passes: number; bytes: number; fileBytes: number; ms: number };
  /** epoch ms: the service began to stop here (the downtime starts) */
  stoppedAt?: number;
  stopMs?: number;
  phase2?: { bytes: number; fileBytes: number; ms: number };
  /** epoch ms: the final delta is on the target */
  finalAt?: number;
}

/**
 * Two-phase relocation of the service to `target`: phase-1 passes while it runs (until the
 * delta is small: anotherPass), stop, phase 2 (the final delta, marked final on the target),
 * so the target starts from a current copy. A phase-1 failure leaves the service running; a
 * phase-2 failure starts it here again (its copy on the target is not current).
 */
export async function relocateWithData(svc: Service, intent: string, target: string, stop: () => Promise<ActionReport>): Promise<{ report: ActionReport | undefined; transfer: TransferReport }> {
  const tr: TransferReport = { intent, target, ok: false, phase1: { passes: 0, bytes: 0, fileBytes: 0, ms: 0 } };
  const log = svc.log.child({ intent, target });
  const t1 = Date.now();
  let prev: number | undefined;
  const dsts = new Map<string, string>();
  try {
    for (;;) {
      const p = await pushAll(svc, [target], false, dsts);
      tr.phase1.passes++;
      tr.phase1.bytes += p.bytes;
      tr.phase1.fileBytes += p.fileBytes;
      log.info({ event: 'relocate_phase1_pass', pass: tr.phase1.passes, bytes: p.bytes, fileBytes: p.fileBytes, ms: p.ms }, `phase 1 pass ${tr.phase1.passes} to ${target}`);
      if (!anotherPass(tr.phase1.passes, p.fileBytes, p.ms, prev)) break;
      prev = p.fileBytes;
    }
  } catch (e) {
    tr.phase1.ms = Date.now() - t1;
    tr.error = `phase 1 to ${target} failed, the service keeps running here: ${(e as Error).message.split('\n')[0]}`;
    log.error({ event: 'relocate_phase1_failed', err: tr.error }, tr.error);
    throw Object.assign(new Error(tr.error), { transfer: tr });
  }
  tr.phase1.ms = Date.now() - t1;
  // the final pushes' streams opened while the service runs: after the stop only the data flows
  const prepared = await preopenFinals(svc, target, dsts);
  const cancel = (why: string): void => {
    if (!prepared.size) return;
    for (const p of prepared.values()) p.cancel();
    log.info({ event: 'relocate_final_cancelled', streams: prepared.size, why }, `pre-opened final stream to ${target} closed: ${why}`);
    prepared.clear();
  };
  tr.stoppedAt = Date.now();
  let report: ActionReport;
  try {
    report = await stop();
  } catch (e) {
    cancel('the stop failed');
    throw e;
  }
  tr.stopMs = Date.now() - tr.stoppedAt;
  if (!report.ok) {
    cancel('the stop failed');
    tr.error = `stop failed at ${report.failed?.rid}: ${report.failed?.error}`;
    return { report, transfer: tr };
  }
  const t2 = Date.now();
  try {
    const p = await pushAll(svc, [target], true, dsts, prepared);
    tr.phase2 = { bytes: p.bytes, fileBytes: p.fileBytes, ms: Date.now() - t2 };
    tr.finalAt = Date.now();
    tr.ok = true;
    log.info({ event: 'relocate_phase2_done', ...tr.phase2, downtimeSoFar: tr.finalAt - tr.stoppedAt }, `phase 2 to ${target} done`);
    return { report, transfer: tr };
  } catch (e) {
    cancel('phase 2 failed');
    tr.phase2 = { bytes: 0, fileBytes: 0, ms: Date.now() - t2 };
    tr.error = `phase 2 to ${target} failed, starting again here: ${(e as Error).message.split('\n')[0]}`;
    log.error({ event: 'relocate_phase2_failed', err: tr.error }, tr.error);
    const again = await svc.start({ operator: false, force: true });
    throw Object.assign(new Error(again.ok ? tr.error : `${tr.error}; the start here failed too: ${again.failed?.error ?? ''}`), { transfer: tr });
  }
}

/**
 * Open the stream of each final push to `target` (resources that can: prepareFinal), keyed
 * rid\0peer as pushAll's dsts. One that cannot be opened is pushed the ordinary way.
 */
async function preopenFinals(svc: Service, target: string, dsts: Map<string, string>): Promise<Map<string, PreparedPush>> {
  const out = new Map<string, PreparedPush>();
  for (const r of dataResources(svc)) {
    const d = r.impl.data!;
    if (!d.prepareFinal || !d.targets.includes(target)) continue;
    const k = `${r.rid}\0${target}`;
    const t0 = Date.now();
    try {
      const dst = dsts.get(k) ?? peerDst(svc, r.rid, target);
      dsts.set(k, dst);
      out.set(k, await d.prepareFinal(target, dst));
      svc.log.info({ event: 'relocate_final_preopened', rid: r.rid, target, ms: Date.now() - t0 }, `${r.rid}: final stream to ${target} open`);
    } catch (e) {
      svc.log.warn({ event: 'relocate_final_preopen_failed', rid: r.rid, target, err: (e as Error).message.split('\n')[0] }, `${r.rid}: final stream to ${target} not pre-opened, pushed after the stop`);
    }
  }
  return out;
}

/**
 * Before the service starts here: each data resource whose copy here was received makes it
 * the live data (btrfs: the received snapshot becomes the writable subvolume at src).
 */
export async function prepareStart(svc: Service): Promise<{ rid: string; error: string } | undefined> {
  for (const r of dataResources(svc)) {
    try {
      await r.impl.data!.prepare?.();
    } catch (e) {
      return { rid: r.rid, error: (e as Error).message.split('\n')[0] ?? 'error' };
    }
  }
  return undefined;
}

/** The service started here (at: when it began to serve): this node's copy of every data resource is the truth from now on. */
export function markStarted(svc: Service, at = Date.now()): void {
  for (const r of dataResources(svc)) updateRecord(r.impl.data!.recordFile, (rec) => (rec.started = at));
}

export interface DataView {
  /** the resource's copy here */
  copy: CopyState;
  /** epoch ms of the last completed sync into here, and from whom */
  received?: { from: string; at: number; final: boolean };
  /** epoch ms of the last completed sync from here, per peer */
  sent: Record<string, number>;
  maxDelayMs: number;
  /** epoch ms the service last began to serve here (its start) */
  started?: number;
}

/** What each data resource holds on this node (published with the service's state). */
export function dataView(svc: Service, now = Date.now()): Record<string, DataView> {
  const out: Record<string, DataView> = {};
  const origin = svc.config.defaults.list('nodes')[0] === svc.config.nodename;
  for (const r of dataResources(svc)) {
    const d = r.impl.data!;
    const rec = readRecord(d.recordFile);
    out[r.rid] = {
      copy: copyState(rec, origin, now), sent: Object.fromEntries(Object.entries(rec.sent).map(([p, s]) => [p, s.at])), maxDelayMs: d.maxDelayMs,
      ...(rec.received ? { received: rec.received } : {}),
      ...(rec.started !== undefined ? { started: rec.started } : {}),
    };
  }
  return out;
}

/**
 * May the daemon start the service here from the copies it holds? `relocation`: the start
 * is a relocation's (the owner is alive and sends a final delta): only a current copy will do.
 */
export function dataGate(svc: Service, relocation: boolean, now = Date.now()): GateVerdict {
  const origin = svc.config.defaults.list('nodes')[0] === svc.config.nodename;
  for (const r of dataResources(svc)) {
    const d = r.impl.data!;
    const c = copyState(readRecord(d.recordFile), origin, now);
    if (relocation && !c.current) return { ok: false, why: `${r.rid}: waiting for the final sync of the relocation (${c.why})` };
    const g = takeoverGate(c, d.maxDelayMs, d.staleTakeover);
    if (!g.ok) return { ok: false, why: `${r.rid}: ${g.why}` };
  }
  return { ok: true };
}

/** Scheduled pushes due now, per peer (the node running the service calls it). */
export function duePeers(svc: Service, now = Date.now()): string[] {
  const out = new Set<string>();
  for (const r of dataResources(svc)) {
    const d = r.impl.data!;
    if (d.schedule === undefined) continue;
    const rec = readRecord(d.recordFile);
    for (const p of d.targets) if (isDue(d.schedule, rec.sent[p]?.at, now)) out.add(p);
  }
  return [...out];
}

export type ReceiveGrant = { ok: true; file: string; args: string[]; dst: string; timeoutMs: number; record: (at: number, final: boolean) => void } | { ok: false; error: string };

/**
 * Checks of a push from `peer` into this node (the daemon adds whether the service runs
 * here): the peer is in the service's nodes and among the resource's... senders (this node
 * in its targets as the peer resolves them is implied by `nodes`), the path is this node's dst.
 */
export function receiveCheck(svc: Service, rid: string, peer: string, argv: readonly string[]): ReceiveGrant {
  const nodes = svc.config.defaults.list('nodes');
  if (!nodes.includes(peer)) return { ok: false, error: `${peer} is not in the nodes of ${svc.svcname}` };
  const r = dataResources(svc).find((x) => x.rid === rid);
  if (!r) return { ok: false, error: `${svc.svcname} has no data sync resource ${rid.slice(0, 64)}` };
  const d = r.impl.data!;
  const c = d.receive(argv);
  if (!c.ok) return c;
  return { ok: true, file: c.file, args: c.args, dst: d.dst, timeoutMs: d.timeoutMs, record: (at, final) => d.received(peer, at, final) };
}
