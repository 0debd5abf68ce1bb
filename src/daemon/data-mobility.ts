// The daemon's data mobility: scheduled pushes of data sync resources from the node running a
// service, the two-phase stop of a relocation, the takeover gate on the copies held here, the
// receiving side of pushes (sync-receiver.ts), and what of it the node publishes. All service
// work goes through the service layer (src/service/data.ts).
import type { DataCopyInfo } from '../cluster/node-state.js';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import type { ActionReport } from '../service/actions.js';
import type { TransferReport } from '../service/data.js';
import { dataGate, dataView, duePeers, hasData, pushAll, relocateWithData } from '../service/data.js';
import type { Service } from '../service/service.js';
import type { GateVerdict } from '../resources/sync-rsync-state.js';
import type { StreamServer } from '../statechan/stream-server.js';
import { syncReceiver } from './sync-receiver.js';

export interface DataMobilityDeps {
  paths: FerryPaths;
  nodename: string;
  log: Logger;
  runsHere: (svc: string) => boolean;
  /** a copy here changed (push received): refresh the service and re-evaluate */
  changed: (svc: string) => void;
}

export class DataMobility {
  readonly receiver: StreamServer;
  private readonly transfers = new Map<string, TransferReport>();
  private readonly gates = new Map<string, { takeover: GateVerdict; relocation: GateVerdict }>();
  private readonly copies = new Map<string, Record<string, DataCopyInfo>>();
  private readonly syncing = new Map<string, Promise<void>>();

  constructor(private readonly d: DataMobilityDeps) {
    this.receiver = syncReceiver({ paths: d.paths, nodename: d.nodename, log: d.log.child({ part: 'sync' }), runsHere: d.runsHere, received: d.changed });
  }

  /** After a status refresh of `svc`: remember its copies and gate, start a scheduled push if due. */
  observe(svc: Service, running: boolean, peersUp: readonly string[]): void {
    const name = svc.svcname;
    if (!hasData(svc)) {
      this.gates.delete(name);
      this.copies.delete(name);
      return;
    }
    const now = Date.now();
    this.gates.set(name, { takeover: dataGate(svc, false, now), relocation: dataGate(svc, true, now) });
    const view = dataView(svc, now);
    const out: Record<string, DataCopyInfo> = {};
    for (const [rid, v] of Object.entries(view)) {
      out[rid] = {
        current: v.copy.current, why: v.copy.why, maxDelayMs: v.maxDelayMs, sent: v.sent,
        // an epoch, not an age: the published state must not change at every refresh
        ...(!v.copy.current && v.copy.age !== undefined ? { asOf: now - v.copy.age } : {}),
        ...(v.received ? { received: v.received } : {}),
        ...(v.started !== undefined ? { started: v.started } : {}),
      };
    }
    this.copies.set(name, out);
    if (!running || this.syncing.has(name)) return;
    const due = duePeers(svc, now).filter((p) => peersUp.includes(p));
    if (due.length) this.track(name, this.scheduled(svc, due));
  }

  private track(name: string, p: Promise<void>): void {
    const q = p.finally(() => this.syncing.delete(name));
    this.syncing.set(name, q);
  }

  private async scheduled(svc: Service, peers: string[]): Promise<void> {
    try {
      const r = await pushAll(svc, peers, false);
      this.d.log.info({ event: 'sync_scheduled_done', svc: svc.svcname, peers, bytes: r.bytes, ms: r.ms }, `${svc.svcname}: scheduled sync to ${peers.join(', ')} done`);
    } catch (e) {
      this.d.log.warn({ event: 'sync_scheduled_failed', svc: svc.svcname, peers, err: (e as Error).message.split('\n')[0] }, `${svc.svcname}: scheduled sync failed`);
    }
    this.d.changed(svc.svcname);
  }

  /** The fields this node publishes for the service (svcmon json). */
  stateFields(name: string): { data?: Record<string, DataCopyInfo>; transfer?: TransferReport } {
    const data = this.copies.get(name);
    const transfer = this.transfers.get(name);
    return { ...(data ? { data } : {}), ...(transfer ? { transfer } : {}) };
  }

  /** Both verdicts of the gate (undefined: the service has no data sync resource): an input of the orchestrator's decide(). */
  gateVerdicts(name: string): { takeover: GateVerdict; relocation: GateVerdict } | undefined {
    return this.gates.get(name);
  }

  has(name: string): boolean {
    return this.gates.has(name);
  }

  /** The stop of a relocation to `target`, two-phase; throws (with the service running here) when the copy could not be made current. */
  async relocateStop(svc: Service, intent: string, target: string, stop: () => Promise<ActionReport>): Promise<ActionReport> {
    const name = svc.svcname;
    // a scheduled push in flight holds the receiver's one stream for the service: let it end
    await this.syncing.get(name);
    let release!: () => void;
    this.syncing.set(name, new Promise<void>((r) => (release = r)));
    try {
      const { report, transfer } = await relocateWithData(svc, intent, target, stop);
      this.transfers.set(name, transfer);
      return report!;
    } catch (e) {
      const tr = (e as { transfer?: TransferReport }).transfer;
      if (tr) this.transfers.set(name, tr);
      throw e;
    } finally {
      this.syncing.delete(name);
      release();
    }
  }
}
