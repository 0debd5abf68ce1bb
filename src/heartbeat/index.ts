// Main-thread handle on the heartbeats. The work happens in a worker thread (worker.ts);
// this side mirrors what the worker reports so snapshot() and peers() answer synchronously,
// and turns the worker's messages into events for the daemon.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ClusterConfig } from '../cluster/config.js';
import type { Logger } from '../log.js';
import { newIncarnation } from './envelope.js';
import type { JsonValue } from './envelope.js';
import type { FromWorker, HbSnapshot, PeerView, ToWorker, WorkerInit } from './types.js';
import type { PeerState } from '../vocab/peer-state.js';

export type { HbSnapshot, HbStats, HbPeerStats, PeerView, RxState, StateChanStats, TxState } from './types.js';
export type { JsonValue, DropReason } from './envelope.js';

export interface HeartbeatEvents {
  /** a peer changed state: up, down (every heartbeat timed out), left (graceful stop) */
  peer: [peer: string, state: PeerState, prev: PeerState];
  'peer-up': [peer: string];
  'peer-down': [peer: string];
  'peer-left': [peer: string];
  /** a peer, still up, is silent on every heartbeat past its suspect threshold (true), or heard again (false): src/heartbeat/liveness.ts */
  suspect: [peer: string, suspect: boolean];
  /** a peer published a new state */
  payload: [peer: string, payload: unknown];
  /**
   * (the state layer, src/statechan, only) a peer's beat carried new handover releases: its
   * state in peers() has them (beat_handovers) though its services may still be pulling
   */
  handover: [peer: string];
  /** network heartbeat `hb` hears `peer` from `addr` (first time, or the address changed) */
  route: [peer: string, hb: string, addr: string];
  /** the worker died: heartbeats are no longer sent */
  error: [error: Error];
}

export interface StartOptions {
  cluster: ClusterConfig;
  nodename: string;
  log?: Logger;
  /** initial state to publish */
  payload?: JsonValue;
  /** override (tests, or a daemon persisting the last one to survive clock steps back) */
  incarnation?: bigint;
}

export interface Heartbeats extends EventEmitter<HeartbeatEvents> {
  readonly incarnation: bigint;
  /** urgent: send it on every heartbeat now, not at the next interval */
  setPayload(payload: JsonValue, urgent?: boolean): void;
  snapshot(): HbSnapshot;
  peers(): Record<string, PeerView>;
  stop(graceful: boolean): Promise<void>;
}

class HeartbeatHandle extends EventEmitter<HeartbeatEvents> implements Heartbeats {
  private snap: HbSnapshot;
  private readonly view = new Map<string, PeerView>();
  private stopped: Promise<void> | undefined;
  private exited = false;

  constructor(
    private readonly worker: Worker,
    readonly incarnation: bigint,
    private readonly opts: StartOptions,
  ) {
    super();
    const now = Date.now();
    for (const n of opts.cluster.nodes) if (n !== opts.nodename) this.view.set(n, { state: 'unknown', since: now, payload: undefined });
    this.snap = { at: now, nodename: opts.nodename, incarnation: incarnation.toString(), heartbeats: [] };
    worker.on('exit', () => {
      this.exited = true;
    });
  }

  handle(m: FromWorker): void {
    switch (m.t) {
      case 'snapshot':
        this.snap = m.snap;
        break;
      case 'peer': {
        const v = this.view.get(m.peer);
        if (v) {
          v.state = m.state;
          v.since = m.at;
        }
        this.emit('peer', m.peer, m.state, m.prev);
        if (m.state === 'up') this.emit('peer-up', m.peer);
        else if (m.state === 'down') this.emit('peer-down', m.peer);
        else if (m.state === 'left') this.emit('peer-left', m.peer);
        break;
      }
      case 'payload': {
        const v = this.view.get(m.peer);
        let payload: unknown;
        try {
          payload = JSON.parse(m.json);
        } catch {
          // authentic but not JSON: a peer bug, not an attack; keep the previous state
          this.opts.log?.warn({ peer: m.peer }, 'peer payload is not JSON');
          break;
        }
        if (v) v.payload = payload;
        this.emit('payload', m.peer, payload);
        break;
      }
      case 'suspect':
        this.emit('suspect', m.peer, m.suspect);
        break;
      case 'route':
        this.emit('route', m.peer, m.hb, m.addr);
        break;
      case 'log':
        this.opts.log?.[m.level](m.data, m.msg);
        break;
      default:
        break;
    }
  }

  setPayload(payload: JsonValue, urgent = false): void {
    const m: ToWorker = { t: 'payload', json: JSON.stringify(payload), ...(urgent ? { urgent } : {}) };
    if (!this.exited) this.worker.postMessage(m);
  }

  snapshot(): HbSnapshot {
    return structuredClone(this.snap);
  }

  peers(): Record<string, PeerView> {
    const out: Record<string, PeerView> = {};
    for (const [n, v] of this.view) out[n] = { ...v };
    return out;
  }

  /** graceful: peers are told we leave and mark us `left`, not dead */
  stop(graceful: boolean): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      const timer = setTimeout(() => void this.worker.terminate(), 5000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      const m: ToWorker = { t: 'stop', graceful };
      this.worker.postMessage(m);
    });
    return this.stopped;
  }
}

/** Start the heartbeats of `cluster` for `nodename`; resolves once every transport tried to open. */
export function startHeartbeats(opts: StartOptions): Promise<Heartbeats> {
  const incarnation = opts.incarnation ?? newIncarnation();
  const init: WorkerInit = {
    cluster: opts.cluster,
    nodename: opts.nodename,
    incarnation: incarnation.toString(),
    payload: JSON.stringify(opts.payload ?? {}),
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  const handle = new HeartbeatHandle(worker, incarnation, opts);
  return new Promise<Heartbeats>((resolve, reject) => {
    let ready = false;
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready' && !ready) {
        ready = true;
        resolve(handle);
      }
      handle.handle(m);
    });
    worker.on('error', (e) => {
      opts.log?.error({ error: e.message }, 'heartbeat worker failed');
      if (!ready) reject(e);
      else handle.emit('error', e);
    });
    worker.on('exit', (code) => {
      if (!ready) reject(new Error(`heartbeat worker exited with code ${code} before it was ready`));
    });
  });
}
