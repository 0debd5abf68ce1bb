// The daemon's control socket speaks one JSON request line, answered by one JSON line.
import path from 'node:path';
import type { FerryPaths } from '../paths.js';
import type { HbSnapshot, PeerState } from '../heartbeat/index.js';
import type { Intent, NodeState } from '../cluster/node-state.js';

export function controlSocketPath(paths: FerryPaths): string {
  return path.join(paths.run, 'nodemgr.sock');
}

export type Request =
  | { op: 'ping' }
  | { op: 'view' }
  | { op: 'relocate'; svc: string; to: string }
  | { op: 'freeze-node' }
  | { op: 'thaw-node' }
  | { op: 'shutdown' };

export interface NodeView {
  state: PeerState | 'self';
  /** what the node last published (for self: the current state) */
  payload: NodeState | undefined;
}

export interface ClusterView {
  nodename: string;
  cluster: string;
  nodes: Record<string, NodeView>;
  hb: HbSnapshot;
  intents: Record<string, Intent>;
}

export type Response =
  | { ok: true; nodename?: string; view?: ClusterView; intent?: Intent }
  | { ok: false; error: string };
