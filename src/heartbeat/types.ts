// Shapes shared by the heartbeat engine (worker thread) and its main-thread handle. All plain
// data: they cross the worker boundary by structured clone.
import type { ClusterConfig, HbConfig } from '../cluster/config.js';
import type { DropReason } from './envelope.js';
import type { PeerState } from '../vocab/peer-state.js';

/**
 * unknown: not heard yet and the start is more recent than the timeout;
 * up: heard within the timeout; down: not heard for longer than the timeout;
 * left: said goodbye (graceful stop) and not heard since.
 */
export type RxState = 'unknown' | 'up' | 'down' | 'left';
/** up: the last send/write worked; error: it failed (see txError); stalled: the previous disk write has not returned yet */
export type TxState = 'up' | 'error' | 'stalled' | 'stopped';

export type DropCounts = Record<DropReason, number>;

export interface HbPeerStats {
  rxState: RxState;
  /** epoch ms of the last accepted message, null if none */
  lastSeen: number | null;
  rx: number;
  /** drops of messages claiming to come from this peer */
  drops: DropCounts;
}

export interface HbStats {
  id: string;
  type: HbConfig['type'];
  txState: TxState;
  txError: string | undefined;
  tx: number;
  /** epoch ms of the last successful send/write */
  lastSent: number | null;
  /** size of the largest message sealed for this heartbeat, bytes */
  maxBytes?: number;
  /** every drop on this heartbeat, attributable to a peer or not (garbage, foreign...) */
  drops: DropCounts;
  peers: Record<string, HbPeerStats>;
}

/** The state channel's counters (src/statechan), added to the snapshot on the main thread. */
export interface StateChanStats {
  /** this node's state generation and number of items */
  gen: number;
  items: number;
  /** addresses listened on */
  listening: number;
  /** answers served */
  served: number;
  /** connections dropped, by reason (both ends) */
  drops: Record<'malformed' | 'foreign' | 'unknown' | 'forged' | 'timeout' | 'oversize' | 'busy', number>;
  peers: Record<string, { synced: boolean; gen: number; items: number; pulls: number; failures: number }>;
}

export interface HbSnapshot {
  /** epoch ms the worker took it */
  at: number;
  nodename: string;
  incarnation: string;
  heartbeats: HbStats[];
  /** with the state channel (the daemon): its counters */
  statechan?: StateChanStats;
}

export interface PeerView {
  state: PeerState;
  /** epoch ms of the last state change */
  since: number;
  /** the peer's latest published state, undefined before the first */
  payload: unknown;
}

export interface WorkerInit {
  cluster: ClusterConfig;
  nodename: string;
  /** decimal string: bigint does not survive every transport of workerData equally */
  incarnation: string;
  /** initial payload, JSON text */
  payload: string;
}

export type ToWorker = { t: 'payload'; json: string; urgent?: boolean } | { t: 'stop'; graceful: boolean };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'peer'; peer: string; state: PeerState; prev: PeerState; at: number }
  | { t: 'payload'; peer: string; json: string; at: number }
  /**
   * the peer, still up, has been silent on every heartbeat past its suspect threshold
   * (suspect: true), or was heard again before its timeout (false); its going down is a
   * 'peer' message, not a 'suspect' one (src/heartbeat/liveness.ts)
   */
  | { t: 'suspect'; peer: string; suspect: boolean; at: number }
  /** the address a peer's authentic beats come from on a network heartbeat, when it changes */
  | { t: 'route'; peer: string; hb: string; addr: string }
  | { t: 'snapshot'; snap: HbSnapshot }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; data: Record<string, unknown> }
  | { t: 'stopped' };

export const emptyDrops = (): DropCounts => ({ malformed: 0, foreign: 0, forged: 0, replayed: 0, unknown: 0 });
