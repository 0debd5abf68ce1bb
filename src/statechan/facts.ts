// The split of a NodeState between the heartbeat and the state channel. A beat carries the
// facts a peer needs every interval and that stay small whatever the number of services:
// node frozen, quorum, fencing, and the generation and digest of everything else. Services
// and intents (one per service, so as many as services) are items of the state channel.
//
// Bound: the JSON of the facts is at most BEAT_FACTS_MAX bytes. Free texts are truncated and,
// should a very large cluster still not fit, details are shed in a fixed order down to a
// floor of fixed-size fields (see compact()). Sealed, a beat is BEAT_FACTS_MAX + 60 bytes of
// envelope + the sender name + the heartbeat id: under 1 KiB for names up to 96 bytes.
//
// One exception to "services travel on the state channel": the release of a relocation this
// node hands over right now (`ho`, normally absent) rides in the beat too, so the target reads
// it with the beat instead of a pull that the owner's main thread, busy with its stop, serves
// later (src/cluster/handover.ts beatReleaseVerdict). It only takes the room the other facts
// leave: it never displaces them, and an entry left out is learnt over the channel as before.
import type { BeatRelease, ConfigDigest, FenceInfo, HandoverProgress, Intent, NodeState, QuorumInfo, ServiceState } from '../cluster/node-state.js';
import type { JsonValue } from '../heartbeat/envelope.js';

export const BEAT_FACTS_MAX = 800;
const WHY_MAX = 160;
/** hex characters of the cluster file digest in a beat */
export const CLUSTER_SUM_CHARS = 12;
const ERROR_MAX = 80;

/** Where the channel's items of a node stand: peers compare it with what they pulled. */
export interface ChannelMark {
  /** the publishing process (its heartbeat incarnation, decimal): a restart starts over */
  inc: string;
  /** bumped when a service or intent changes in a way a peer would act on */
  gen: number;
  /** 128-bit XOR of the items' hashes, hex: detects a replica gone astray */
  digest: string;
  /** number of items */
  n: number;
}

export interface BeatFacts {
  v: 1;
  frozen: boolean;
  sc: ChannelMark;
  /** truncated digest of the node's cluster file (CLUSTER_SUM_CHARS hex): peers compare it with theirs */
  cf?: string;
  quorum?: QuorumInfo;
  fence?: Record<string, FenceInfo>;
  /** the releases of the relocations this node hands over now, per service (normally absent) */
  ho?: Record<string, BeatRelease>;
}

/** What the beat facts are made of: the node's facts, and the handovers it runs now. */
export type FactsSource = Pick<NodeState, 'frozen' | 'quorum' | 'fence' | 'cluster_sum'> & {
  /** per service: the progress of its relocation stop under way here (src/cluster/handover.ts handingOverNow) */
  handovers?: Readonly<Record<string, HandoverProgress>>;
};

export function isBeatFacts(x: unknown): x is BeatFacts {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as { v?: unknown; sc?: { inc?: unknown; gen?: unknown; digest?: unknown } };
  return o.v === 1 && typeof o.sc === 'object' && o.sc !== null && typeof o.sc.inc === 'string' && typeof o.sc.gen === 'number' && typeof o.sc.digest === 'string';
}

/** bounds of a beat's releases, on both ends (a peer's beat is checked against them: src/statechan/index.ts) */
export const RELEASES_MAX = 64;
const RELEASE_NAME_MAX = 255;
const INTENT_ID_MAX = 64;
const GROUPS_MAX = 8;
const GROUP_MAX = 16;

const okString = (x: unknown, max: number): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;
const okGroups = (x: unknown): x is string[] => Array.isArray(x) && x.length <= GROUPS_MAX && x.every((g) => okString(g, GROUP_MAX));

function isBeatRelease(x: unknown): x is BeatRelease {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return okString(o['i'], INTENT_ID_MAX) && okGroups(o['r']) && (o['d'] === undefined || o['d'] === 1) && (o['h'] === undefined || okGroups(o['h']));
}

/**
 * The releases of a peer's beat, checked like anything from the network: a malformed entry is
 * left out, a field that is no object or has more than RELEASES_MAX entries is dropped whole
 * (undefined: none to take). Only the known fields are kept.
 */
export function beatReleases(x: unknown): Record<string, BeatRelease> | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
  const entries = Object.entries(x as Record<string, unknown>);
  if (entries.length > RELEASES_MAX) return undefined;
  const out: Record<string, BeatRelease> = {};
  let n = 0;
  for (const [svc, v] of entries) {
    if (svc.length > RELEASE_NAME_MAX || svc.length === 0 || !isBeatRelease(v)) continue;
    out[svc] = { i: v.i, r: [...v.r], ...(v.d === 1 ? { d: 1 as const } : {}), ...(v.h ? { h: [...v.h] } : {}) };
    n++;
  }
  return n ? out : undefined;
}

/** A peer's beat facts, checked (undefined: not beat facts); a bad `ho` is dropped, never a reason to refuse the beat. */
export function readBeatFacts(x: unknown): BeatFacts | undefined {
  if (!isBeatFacts(x)) return undefined;
  const { ho, ...rest } = x;
  const releases = ho === undefined ? undefined : beatReleases(ho);
  return releases ? { ...rest, ho: releases } : rest;
}

/** The compact form of a handover's progress for the beat. */
export function beatReleaseOf(p: HandoverProgress): BeatRelease {
  return { i: p.intent, r: [...p.released], ...(p.done ? { d: 1 as const } : {}), ...(p.held?.length ? { h: [...p.held] } : {}) };
}

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The facts of `state`, within BEAT_FACTS_MAX bytes of JSON. */
export function beatFacts(state: FactsSource, mark: ChannelMark): BeatFacts {
  const q = state.quorum;
  const full: BeatFacts = {
    v: 1,
    frozen: state.frozen,
    sc: mark,
    ...(state.cluster_sum ? { cf: state.cluster_sum.slice(0, CLUSTER_SUM_CHARS) } : {}),
    ...(q
      ? {
          quorum: {
            state: q.state, votes: q.votes, total: q.total, needed: q.needed, why: cut(q.why, WHY_MAX),
            ...(q.arbitrators ? { arbitrators: Object.fromEntries(Object.entries(q.arbitrators).map(([k, a]) => [k, { granted: a.granted, ...(a.error ? { error: cut(a.error, ERROR_MAX) } : {}) }])) } : {}),
          },
        }
      : {}),
    ...(state.fence ? { fence: Object.fromEntries(Object.entries(state.fence).map(([k, f]) => [k, { ...f, ...(f.error ? { error: cut(f.error, ERROR_MAX) } : {}) }])) } : {}),
  };
  return withReleases(compact(full), state.handovers);
}

const size = (f: BeatFacts): number => Buffer.byteLength(JSON.stringify(f), 'utf8');
const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * The facts plus the releases of the handovers under way, in the room the facts leave within
 * BEAT_FACTS_MAX: whole entries, by service name (UTF-16 order), up to the first that does not
 * fit; the rest are shed (their targets read them over the state channel, as before). An entry
 * the receiver would refuse (bounds above) is not sent.
 */
function withReleases(f: BeatFacts, handovers: FactsSource['handovers']): BeatFacts {
  if (!handovers) return f;
  // `,"ho":{}` and, between entries, a comma
  let room = BEAT_FACTS_MAX - size(f) - bytes(',"ho":{}');
  const ho: Record<string, BeatRelease> = {};
  let n = 0;
  for (const svc of Object.keys(handovers).sort()) {
    if (n >= RELEASES_MAX) break;
    const r = beatReleaseOf(handovers[svc]!);
    if (svc.length > RELEASE_NAME_MAX || !isBeatRelease(r)) continue;
    const cost = bytes(`${JSON.stringify(svc)}:${JSON.stringify(r)}`) + (n ? 1 : 0);
    if (cost > room) break;
    room -= cost;
    ho[svc] = r;
    n++;
  }
  return n ? { ...f, ho } : f;
}

/**
 * Shed details until the facts fit: error texts, then arbitrator detail, then fencing detail
 * (state only), then fencing, then the quorum's reason. The floor ({v, frozen, sc, quorum
 * numbers}) is ~250 bytes whatever the cluster.
 */
function compact(f: BeatFacts): BeatFacts {
  const steps: ((x: BeatFacts) => BeatFacts)[] = [
    (x) => (x.quorum?.arbitrators ? { ...x, quorum: { ...x.quorum, arbitrators: Object.fromEntries(Object.entries(x.quorum.arbitrators).map(([k, a]) => [k, { granted: a.granted }])) } } : x),
    (x) => (x.fence ? { ...x, fence: Object.fromEntries(Object.entries(x.fence).map(([k, v]) => [k, { state: v.state, at: v.at }])) } : x),
    (x) => {
      if (!x.quorum?.arbitrators) return x;
      const { arbitrators: _dropped, ...rest } = x.quorum;
      return { ...x, quorum: rest };
    },
    (x) => {
      const { fence: _dropped, ...rest } = x;
      return rest;
    },
    (x) => (x.quorum ? { ...x, quorum: { ...x.quorum, why: cut(x.quorum.why, 40) } } : x),
  ];
  let cur = f;
  for (const step of steps) {
    if (size(cur) <= BEAT_FACTS_MAX) return cur;
    cur = step(cur);
  }
  return cur;
}

/** An item of the channel: key, value, and the part of it a change is judged on. */
export interface Item {
  key: string;
  value: JsonValue;
  /** canonical text of what a peer acts on: a service's `updated` stamp is left out */
  identity: string;
}

const SVC = 's:';
const INTENT = 'i:';
const CONFIG = 'c:';
/** present when the node announces its configs at all (even none): a node of an earlier version does not */
const CONFIGS_MARK = 'c';

export function identityOf(key: string, value: JsonValue): string {
  if (key.startsWith(SVC) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { updated: _stamp, ...rest } = value;
    return JSON.stringify(rest);
  }
  return JSON.stringify(value);
}

/** The channel items of a state: one per service, one per intent, one per service config generation. */
export function stateItems(state: Pick<NodeState, 'services' | 'intents' | 'configs'>): Item[] {
  const out: Item[] = [];
  const add = (key: string, v: unknown): void => {
    const value = v as JsonValue;
    out.push({ key, value, identity: identityOf(key, value) });
  };
  for (const [name, s] of Object.entries(state.services)) add(SVC + name, s);
  for (const [name, i] of Object.entries(state.intents)) add(INTENT + name, i);
  if (state.configs) add(CONFIGS_MARK, 1);
  for (const [name, c] of Object.entries(state.configs ?? {})) add(CONFIG + name, c);
  return out;
}

/** A publish as a change list: the facts (every beat), and the items that changed since the last publish. */
export interface StateChanges {
  facts: FactsSource;
  /** changed services: the new state, null when gone */
  services?: Record<string, ServiceState | null>;
  intents?: Record<string, Intent | null>;
  configs?: Record<string, ConfigDigest | null>;
}

/** The channel items a change list sets and the keys it removes (the keys of stateItems). */
export function changeItems(c: Omit<StateChanges, 'facts'>): { set: Item[]; del: string[] } {
  const set: Item[] = [];
  const del: string[] = [];
  const add = (prefix: string, changed: Record<string, unknown> | undefined): void => {
    for (const [name, v] of Object.entries(changed ?? {})) {
      const key = prefix + name;
      if (v === null) del.push(key);
      else set.push({ key, value: v as JsonValue, identity: identityOf(key, v as JsonValue) });
    }
  };
  add(SVC, c.services);
  add(INTENT, c.intents);
  add(CONFIG, c.configs);
  return { set, del };
}

/**
 * A peer's NodeState from its beat facts and the items pulled (complete: they match the beat);
 * pulledInc: the incarnation the items were pulled from (with the beat's releases: src/cluster/handover.ts).
 */
export function assemble(facts: BeatFacts, items: ReadonlyMap<string, JsonValue>, complete: boolean, pulledInc?: string | null): NodeState {
  const services: Record<string, ServiceState> = {};
  const intents: Record<string, Intent> = {};
  const configs: Record<string, ConfigDigest> = {};
  let withConfigs = false;
  for (const [k, v] of items) {
    if (k.startsWith(SVC)) services[k.slice(SVC.length)] = v as unknown as ServiceState;
    else if (k.startsWith(INTENT)) intents[k.slice(INTENT.length)] = v as unknown as Intent;
    else if (k.startsWith(CONFIG)) {
      configs[k.slice(CONFIG.length)] = v as unknown as ConfigDigest;
      withConfigs = true;
    }
  }
  // a node of this version announces its configs (an empty set is an item too: see stateItems)
  if (items.has(CONFIGS_MARK)) withConfigs = true;
  return {
    v: 1, frozen: facts.frozen, services, intents, complete,
    ...(withConfigs ? { configs } : {}),
    ...(facts.cf ? { cluster_sum: facts.cf } : {}),
    ...(facts.quorum ? { quorum: facts.quorum } : {}),
    ...(facts.fence ? { fence: facts.fence } : {}),
    ...(facts.ho ? { beat_handovers: { inc: facts.sc.inc, pulledInc: pulledInc ?? undefined, releases: facts.ho } } : {}),
  };
}
