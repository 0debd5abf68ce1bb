// decide(): a service frozen on a peer, as last heard from it, is not failed over; an
// operator's takeover still moves it. (The lab scenarios are in cluster-monitor.test.ts.)
import test from 'ava';
import { decide, type DecisionInput, type PeerInfo } from '../../src/cluster/orchestrator.js';
import type { Intent, NodeState, ServiceState } from '../../src/cluster/node-state.js';

const na = 'n/a' as const;
function svc(over: Partial<ServiceState> = {}): ServiceState {
  return {
    avail: 'down', overall: 'down', frozen: false, orchestrate: 'ha', service_type: '', nodes: ['n1', 'n2'], monitor: 'idle',
    groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: 0, ...over,
  };
}
const peer = (state: PeerInfo['state'], s: ServiceState, frozenNode = false): PeerInfo => ({
  state,
  payload: { v: 1, frozen: frozenNode, services: { web: s }, intents: {} } satisfies NodeState,
});
const input = (peers: Record<string, PeerInfo>, intents: Record<string, Intent> = {}): DecisionInput => ({
  self: 'n2', svc: 'web', local: svc(), nodeFrozen: false, peers, intents, now: 1_000_000, bootPhase: false, quorum: { ok: true, why: 'quorum' },
});

test('owner died unfrozen: the peer takes over', (t) => {
  const d = decide(input({ n1: peer('down', svc({ avail: 'up' })) }));
  t.is(d.action, 'start');
});

test('owner died with the service frozen there: nothing moves', (t) => {
  const d = decide(input({ n1: peer('down', svc({ avail: 'up', frozen: true })) }));
  t.deepEqual(d, { action: 'none', why: 'service frozen on n1' });
});

test('frozen and stopped on a live peer (freezestop): not started here', (t) => {
  const d = decide(input({ n1: peer('up', svc({ avail: 'down', frozen: true })) }));
  t.deepEqual(d, { action: 'none', why: 'service frozen on n1' });
});

test('an operator takeover moves a service frozen on its dead owner', (t) => {
  const intent: Intent = { id: 'i1', svc: 'web', target: 'n2', by: 'n2', at: 999_000, done: false };
  const d = decide(input({ n1: peer('down', svc({ avail: 'up', frozen: true })) }, { web: intent }));
  t.is(d.action, 'start');
});
