// NodeState builders for heartbeat and state channel tests.
import type { Intent, NodeState, ServiceState } from '../../src/cluster/node-state.js';

export function serviceState(over: Partial<ServiceState> = {}): ServiceState {
  const na = 'n/a' as const;
  return {
    avail: 'up', overall: 'up', frozen: false, orchestrate: 'ha', service_type: 'failover', nodes: ['n1', 'n2', 'n3'], monitor: 'idle',
    groups: { container: 'up', ip: 'up', disk: na, fs: 'up', share: na, app: 'up', sync: na }, updated: Date.now(), ...over,
  };
}

/** `n` services svc00000.., each with an intent too when `intents` */
export function bigState(n: number, o: { intents?: boolean; error?: string } = {}): NodeState {
  const services: Record<string, ServiceState> = {};
  const intents: Record<string, Intent> = {};
  for (let i = 0; i < n; i++) {
    const name = `svc${String(i).padStart(5, '0')}`;
    services[name] = serviceState(o.error ? { error: o.error } : {});
    if (o.intents) intents[name] = { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, svc: name, target: 'n2', by: 'n1', at: Date.now(), done: false };
  }
  return { v: 1, frozen: false, services, intents };
}
