// The stable names of the structured log records (`event` field) the agent writes for every
// state change: what scripts, tests and `nodemgr events` match on. A name never changes once
// released; docs/events.md is generated from this table (`npm run docs`) and a unit test
// checks that every `event:` literal in src/ is in it. Leaf module (a type from log.ts only).
import type { Logger } from './log.js';

export interface EventDoc {
  /** pino level name it is logged at (the usual one; some are logged at two levels) */
  level: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** who writes it */
  from: 'daemon' | 'service' | 'control' | 'statechan' | 'arbitrator' | 'util';
  /** the fields besides time, level, node, msg */
  fields: string;
  description: string;
}

export const EVENT = {
  daemonStarted: 'daemon.started',
  daemonStopped: 'daemon.stopped',
  heartbeatLost: 'heartbeat.lost',
  peerUp: 'peer.up',
  peerDown: 'peer.down',
  peerLeft: 'peer.left',
  peerUnknown: 'peer.unknown',
  quorumGained: 'quorum.gained',
  quorumLost: 'quorum.lost',
  quorumChanged: 'quorum.changed',
  quorumVote: 'quorum.vote',
  fenceDelay: 'fence.delay',
  fenceSkipped: 'fence.skipped',
  fenceBegin: 'fence.begin',
  fenceEnd: 'fence.end',
  selfFence: 'node.self-fence',
  decision: 'service.decision',
  startBlocked: 'service.start-blocked',
  serviceStatus: 'service.status',
  splitFreeze: 'service.split-freeze',
  relocate: 'service.relocate',
  multipleActive: 'service.multiple-active',
  multipleActiveEnded: 'service.multiple-active-ended',
  daemonActionBegin: 'daemon.action.begin',
  daemonActionEnd: 'daemon.action.end',
  actionBegin: 'action.begin',
  actionEnd: 'action.end',
  resourceBegin: 'resource.begin',
  resourceEnd: 'resource.end',
  rollback: 'action.rollback',
  frozen: 'service.frozen',
  thawed: 'service.thawed',
  configReceived: 'config.received',
  configConflict: 'config.conflict',
  monitorRestart: 'monitor_restart',
  monitorExhausted: 'monitor_exhausted',
  monitorAction: 'monitor_action',
  monitorActionHeld: 'monitor_action_held',
  monitorActionReleased: 'monitor_action_released',
  monitorActionDropped: 'monitor_action_dropped',
  controlDrop: 'control-drop',
  controlServerError: 'control-server-error',
  fileLockStaleBroken: 'file-lock-stale-broken',
  fileLockLost: 'file-lock-lost',
  statechanConnected: 'statechan_connected',
  statechanResync: 'statechan_resync',
  statechanDrop: 'statechan_drop',
  statechanUnreachable: 'statechan_unreachable',
  statechanClosed: 'statechan_closed',
  statechanListenFailed: 'statechan_listen_failed',
  statechanListenError: 'statechan_listen_error',
  statechanListening: 'statechan_listening',
  statechanPeerConnected: 'statechan_peer_connected',
  statechanSynced: 'statechan_synced',
  statechanBehind: 'statechan_behind',
  arbitratorLeaseExpired: 'arbitrator.lease_expired',
  arbitratorRestartHold: 'arbitrator.restart_hold',
  arbitratorHeldByOther: 'arbitrator.held_by_other',
  arbitratorRenewed: 'arbitrator.renewed',
  arbitratorGranted: 'arbitrator.granted',
  arbitratorServerError: 'arbitrator.server_error',
  arbitratorListening: 'arbitrator.listening',
  arbitratorStopped: 'arbitrator.stopped',
  arbitratorDrop: 'arbitrator.drop',
  arbitratorDrops: 'arbitrator.drops',
} as const;

export type EventName = (typeof EVENT)[keyof typeof EVENT];

export const EVENT_DOCS: Record<EventName, EventDoc> = {
  'daemon.started': { level: 'info', from: 'daemon', fields: 'cluster, nodes', description: 'The daemon runs: heartbeats and the control socket are up.' },
  'daemon.stopped': { level: 'info', from: 'daemon', fields: 'graceful', description: 'The daemon stopped (graceful: peers were told it leaves).' },
  'heartbeat.lost': { level: 'fatal', from: 'daemon', fields: 'err', description: 'The heartbeat worker died: local services are stopped before peers take them over, then the daemon exits.' },
  'peer.up': { level: 'info', from: 'daemon', fields: 'peer, state, prev', description: 'A peer is heard (again) on a heartbeat.' },
  'peer.down': { level: 'info', from: 'daemon', fields: 'peer, state, prev', description: 'A peer was declared dead: every heartbeat timed out.' },
  'peer.left': { level: 'info', from: 'daemon', fields: 'peer, state, prev', description: 'A peer said it leaves (its daemon stopped gracefully).' },
  'peer.unknown': { level: 'info', from: 'daemon', fields: 'peer, state, prev', description: 'A peer is not known yet.' },
  'quorum.gained': { level: 'info', from: 'daemon', fields: 'quorum, votes, total, needed', description: 'This node may start services again (quorate, or quorum off); msg says why.' },
  'quorum.lost': { level: 'warn', from: 'daemon', fields: 'quorum, votes, total, needed', description: 'This node may no longer start services (lost, tie); msg says why.' },
  'quorum.changed': { level: 'info', from: 'daemon', fields: 'quorum, votes, total, needed', description: 'The reason of the quorum state changed, not whether services may start.' },
  'quorum.vote': { level: 'warn', from: 'daemon', fields: 'arbitrator, members, granted, holder, err', description: 'An arbitrator gave its vote to this partition, or refused it (a change only).' },
  'fence.delay': { level: 'warn', from: 'daemon', fields: 'target, delayMs', description: 'Waiting before fencing a peer (two-node fence race: the first node of `nodes` wins).' },
  'fence.skipped': { level: 'info', from: 'daemon', fields: 'target', description: 'The peer came back during the fence delay: not fenced.' },
  'fence.begin': { level: 'warn', from: 'daemon', fields: 'target', description: 'Fencing a peer with its [stonith#node] agent.' },
  'fence.end': { level: 'warn', from: 'daemon', fields: 'target, ok, ms, err, retryMs', description: 'The fence ended: ok (confirmed off) or failed (retried after retryMs).' },
  'node.self-fence': { level: 'fatal', from: 'daemon', fields: 'kind, cmd, why', description: 'This node crashes or reboots itself (monitor_action, split_action).' },
  'service.decision': { level: 'info', from: 'daemon', fields: 'svc, action, why', description: 'The orchestrator\'s decision for a service changed (start, stop, none and why).' },
  'service.start-blocked': { level: 'warn', from: 'daemon', fields: 'svc, why', description: 'A start was decided but waits for a fence or a split grace.' },
  'service.status': { level: 'info', from: 'daemon', fields: 'svc, avail, prev, overall', description: 'A refresh saw the avail status of a local instance change (also what an operator\'s svcmgr did).' },
  'service.split-freeze': { level: 'warn', from: 'daemon', fields: 'svc', description: 'Quorum lost with split_action = freeze: the service is frozen here.' },
  'service.relocate': { level: 'info', from: 'daemon', fields: 'svc, to, id', description: 'A relocation was asked on this node (svcmgr relocate/switch/takeover/giveback).' },
  'service.multiple-active': { level: 'error', from: 'daemon', fields: 'svc, nodes, policy, confirmed, keep, why', description: 'A failover service is up on more than one live node (multiple_active keyword: docs/monitoring.md).' },
  'service.multiple-active-ended': { level: 'info', from: 'daemon', fields: 'svc, nodes', description: 'The service is no longer seen up on more than one live node.' },
  'daemon.action.begin': { level: 'info', from: 'daemon', fields: 'svc, kind, why', description: 'The daemon starts an action on a local instance (start, stop, switch, restart-rid).' },
  'daemon.action.end': { level: 'info', from: 'daemon', fields: 'svc, kind, why, ok, ms, err', description: 'That action ended.' },
  'action.begin': { level: 'info', from: 'service', fields: 'svc, action, rids, force', description: 'A start or stop of the service\'s resources begins (daemon or svcmgr).' },
  'action.end': { level: 'info', from: 'service', fields: 'svc, action, ok', description: 'The start or stop ended.' },
  'action.rollback': { level: 'warn', from: 'service', fields: 'svc, rid, rollback', description: 'A start failed at rid: what it started is stopped again.' },
  'resource.begin': { level: 'info', from: 'service', fields: 'svc, rid, action', description: 'A resource start or stop begins.' },
  'resource.end': { level: 'info', from: 'service', fields: 'svc, rid, action, ok, changed, ms, err', description: 'A resource start or stop ended (changed: false when it already was in that state).' },
  'service.frozen': { level: 'info', from: 'service', fields: 'svc, action', description: 'The service was frozen on this node.' },
  'service.thawed': { level: 'info', from: 'service', fields: 'svc, action', description: 'The service was thawed on this node.' },
  'config.received': { level: 'info', from: 'daemon', fields: 'svc, from, generation', description: 'A service configuration was received from a peer and installed (logConfigReceived).' },
  'config.conflict': { level: 'warn', from: 'daemon', fields: 'svc, nodes, kept, why', description: 'Two nodes hold different configurations of a service of the same age (logConfigConflict).' },
  monitor_restart: { level: 'warn', from: 'daemon', fields: 'svc, rid, attempt, of', description: 'A monitored resource failed: restarting it.' },
  monitor_exhausted: { level: 'error', from: 'daemon', fields: 'svc, rid, action', description: 'A monitored resource failed and its restarts are exhausted.' },
  monitor_action: { level: 'info', from: 'daemon', fields: 'svc, rid, action, candidates', description: 'The monitor_action runs.' },
  monitor_action_held: { level: 'warn', from: 'daemon', fields: 'svc, rid, action, why', description: 'The monitor_action is held: no peer could take the service over.' },
  monitor_action_released: { level: 'info', from: 'daemon', fields: 'svc, rid, action, candidates', description: 'A held monitor_action may run now.' },
  monitor_action_dropped: { level: 'info', from: 'daemon', fields: 'svc, key, why', description: 'A held monitor_action is no longer needed.' },
  'control-drop': { level: 'warn', from: 'control', fields: 'reason, count, …', description: 'The control socket dropped a client (throttled: first of a reason, then one per window).' },
  'control-server-error': { level: 'error', from: 'control', fields: 'err', description: 'The control socket failed (e.g. EMFILE on accept).' },
  'file-lock-stale-broken': { level: 'warn', from: 'util', fields: 'lock, holder', description: 'A dead holder\'s file lock was broken.' },
  'file-lock-lost': { level: 'warn', from: 'util', fields: 'lock', description: 'A file lock was no longer ours at release.' },
  statechan_connected: { level: 'info', from: 'statechan', fields: 'peer, hb, addr, port', description: 'State channel to a peer open.' },
  statechan_resync: { level: 'warn', from: 'statechan', fields: 'peer, gen', description: 'A peer\'s state does not match its digest: pulling a snapshot.' },
  statechan_drop: { level: 'warn', from: 'statechan', fields: 'peer, hb, reason, detail', description: 'A state channel connection was dropped (first of a reason).' },
  statechan_unreachable: { level: 'warn', from: 'statechan', fields: 'peer, hb, addr, port, reason, attempts', description: 'The state channel to a peer fails.' },
  statechan_closed: { level: 'debug', from: 'statechan', fields: 'peer, hb, reason', description: 'State channel to a peer closed.' },
  statechan_listen_failed: { level: 'warn', from: 'statechan', fields: 'addr, port, error', description: 'The state channel cannot listen (retried).' },
  statechan_listen_error: { level: 'warn', from: 'statechan', fields: 'addr, port, error', description: 'The state channel listener failed.' },
  statechan_listening: { level: 'info', from: 'statechan', fields: 'addr, port', description: 'The state channel listens.' },
  statechan_peer_connected: { level: 'debug', from: 'statechan', fields: 'peer, from', description: 'A peer connected to the state channel.' },
  statechan_synced: { level: 'debug', from: 'statechan', fields: 'peer, gen, items', description: 'A peer\'s state is pulled for its current generation.' },
  statechan_behind: { level: 'debug', from: 'statechan', fields: 'peer, gen, items', description: 'A peer announced a generation not pulled yet.' },
  'arbitrator.lease_expired': { level: 'info', from: 'arbitrator', fields: 'cluster, holder, expired', description: 'A vote lease expired.' },
  'arbitrator.restart_hold': { level: 'info', from: 'arbitrator', fields: 'members, holdUntil', description: 'A vote refused during the restart hold.' },
  'arbitrator.held_by_other': { level: 'debug', from: 'arbitrator', fields: 'members, holder', description: 'A vote refused: another partition holds it.' },
  'arbitrator.renewed': { level: 'debug', from: 'arbitrator', fields: 'members, expires', description: 'A vote lease renewed.' },
  'arbitrator.granted': { level: 'info', from: 'arbitrator', fields: 'members, ttl, expires', description: 'A vote granted.' },
  'arbitrator.server_error': { level: 'error', from: 'arbitrator', fields: 'err', description: 'The arbitrator server failed.' },
  'arbitrator.listening': { level: 'info', from: 'arbitrator', fields: 'host, port, path, restartHoldMs', description: 'The arbitrator listens.' },
  'arbitrator.stopped': { level: 'info', from: 'arbitrator', fields: '', description: 'The arbitrator stopped.' },
  'arbitrator.drop': { level: 'warn', from: 'arbitrator', fields: 'reason, count', description: 'The arbitrator dropped a request.' },
  'arbitrator.drops': { level: 'info', from: 'arbitrator', fields: 'counters', description: 'The arbitrator\'s counters, when they changed.' },
};

export const EVENT_NAMES: readonly EventName[] = Object.values(EVENT);

/** `peer.<state>` for a heartbeat state change. */
export function peerEvent(state: 'up' | 'down' | 'left' | 'unknown'): EventName {
  return state === 'up' ? EVENT.peerUp : state === 'down' ? EVENT.peerDown : state === 'left' ? EVENT.peerLeft : EVENT.peerUnknown;
}

/**
 * For configuration replication: a service configuration received from a peer was installed
 * here. generation: the file's generation as the replication defines it (stamp, checksum).
 */
export function logConfigReceived(log: Logger, f: { svc: string; from: string; generation: string | number | Record<string, unknown> }): void {
  log.info({ event: EVENT.configReceived, svc: f.svc, from: f.from, generation: f.generation }, `${f.svc}: configuration received from ${f.from}`);
}

/**
 * For configuration replication: nodes hold different configurations of a service that the
 * newest-wins rule cannot order (same stamp, different checksums; or edits on both sides of
 * a partition). kept: the node whose file wins by the documented rule; why: that rule.
 */
export function logConfigConflict(log: Logger, f: { svc: string; nodes: string[]; kept: string; why: string }): void {
  log.warn({ event: EVENT.configConflict, svc: f.svc, nodes: f.nodes, kept: f.kept, why: f.why }, `${f.svc}: configuration conflict between ${f.nodes.join(', ')}: keeping ${f.kept}'s (${f.why})`);
}
