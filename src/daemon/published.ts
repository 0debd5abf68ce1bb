// What this node last published on the state channel, and the change list of a new publish:
// the services, intents and config generations that differ from it. The daemon publishes
// after every refresh and every action step; with thousands of services, handing the whole
// state over each time cost the main thread tens of ms per publish (issue 9). A service whose
// refresh stamp (`updated`) alone moved is not a change (the state channel's identity rule,
// src/statechan/facts.ts). Values handed over are copies: the daemon edits its states in place.
import type { ConfigDigest, Intent, NodeState, ServiceState } from '../cluster/node-state.js';
import type { StateChanges } from '../statechan/facts.js';

/** JSON equality: a key whose value is undefined counts as absent (JSON.stringify drops it). */
export function sameJson(a: unknown, b: unknown, skip?: string): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x ?? null, bb[i] ?? null));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => k !== skip && o[k] !== undefined);
  const ka = keys(ao);
  if (ka.length !== keys(bo).length) return false;
  return ka.every((k) => Object.hasOwn(bo, k) && sameJson(ao[k], bo[k]));
}

const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** the part of the change list for one kind of item (services, intents, configs) */
function diff<T>(last: Map<string, T>, now: ReadonlyMap<string, T> | Readonly<Record<string, T>>, skip?: string): Record<string, T | null> | undefined {
  const entries = now instanceof Map ? (now as ReadonlyMap<string, T>) : new Map(Object.entries(now));
  const out: Record<string, T | null> = {};
  let any = false;
  for (const [k, v] of entries) {
    const prev = last.get(k);
    if (prev !== undefined && sameJson(prev, v, skip)) continue;
    const c = copy(v);
    last.set(k, c);
    out[k] = c;
    any = true;
  }
  for (const k of [...last.keys()]) {
    if (entries.has(k)) continue;
    last.delete(k);
    out[k] = null;
    any = true;
  }
  return any ? out : undefined;
}

export interface Publishable {
  facts: StateChanges['facts'];
  services: ReadonlyMap<string, ServiceState>;
  intents: Readonly<Record<string, Intent>>;
  configs?: Readonly<Record<string, ConfigDigest>>;
}

export class PublishedState {
  private readonly services = new Map<string, ServiceState>();
  private readonly intents = new Map<string, Intent>();
  private readonly configs = new Map<string, ConfigDigest>();

  /** The whole state published first (the channel's initial payload): remembered as published. */
  prime(state: NodeState): void {
    for (const m of [this.services, this.intents, this.configs]) m.clear();
    for (const [k, v] of Object.entries(state.services)) this.services.set(k, copy(v));
    for (const [k, v] of Object.entries(state.intents)) this.intents.set(k, copy(v));
    for (const [k, v] of Object.entries(state.configs ?? {})) this.configs.set(k, copy(v));
  }

  /** What changed since the last call (or prime), remembered as published from now on. */
  changes(now: Publishable): StateChanges {
    const services = diff(this.services, now.services, 'updated');
    const intents = diff(this.intents, now.intents);
    const configs = now.configs ? diff(this.configs, now.configs) : undefined;
    return { facts: now.facts, ...(services ? { services } : {}), ...(intents ? { intents } : {}), ...(configs ? { configs } : {}) };
  }
}
