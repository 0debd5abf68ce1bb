// The publishing side: this node's items with the generation each last changed at, and the
// removals (tombstones), so a peer holding generation G gets only what changed since G. The
// generation moves only when an item's identity changes (a refresh stamp alone does not).
import type { JsonValue } from '../heartbeat/envelope.js';
import { itemHash, XorDigest } from './digest.js';
import type { NodeState } from '../cluster/node-state.js';
import type { BeatFacts, ChannelMark, Item, StateChanges } from './facts.js';
import { beatFacts, changeItems, stateItems } from './facts.js';
import { handoversNow } from '../cluster/handover.js';
import type { StateChunk } from './protocol.js';
import { CHUNK_BYTES } from './protocol.js';

interface Stored {
  value: JsonValue;
  identity: string;
  hash: Buffer;
  gen: number;
}

/** Tombstones kept for deltas; a peer further behind gets a snapshot. */
export const TOMBSTONES_MAX = 100_000;

export class StateStore {
  private readonly items = new Map<string, Stored>();
  /** removed key → generation of the removal, oldest first */
  private readonly tombs = new Map<string, number>();
  /** a delta from a generation below this would miss removals: snapshot instead */
  private floor = 0;
  private readonly digest = new XorDigest();
  gen = 0;

  constructor(readonly inc: string) {}

  get mark(): ChannelMark {
    return { inc: this.inc, gen: this.gen, digest: this.digest.hex, n: this.items.size };
  }

  /** Replace the whole item set; returns true when the generation moved. */
  update(next: readonly Item[]): boolean {
    const keep = new Set(next.map((it) => it.key));
    return this.apply(next, [...this.items.keys()].filter((k) => !keep.has(k)));
  }

  /** Set these items and remove these keys, the others untouched; returns true when the generation moved. */
  apply(set: readonly Item[], del: readonly string[]): boolean {
    const gen = this.gen + 1;
    let changed = false;
    for (const it of set) {
      const cur = this.items.get(it.key);
      if (cur && cur.identity === it.identity) continue;
      const hash = itemHash(it.key, it.identity);
      if (cur) this.digest.toggle(cur.hash);
      this.digest.toggle(hash);
      this.items.set(it.key, { value: it.value, identity: it.identity, hash, gen });
      this.tombs.delete(it.key);
      changed = true;
    }
    for (const key of del) {
      const cur = this.items.get(key);
      if (!cur) continue;
      this.digest.toggle(cur.hash);
      this.items.delete(key);
      this.tombs.set(key, gen);
      changed = true;
    }
    while (this.tombs.size > TOMBSTONES_MAX) {
      const [oldest, g] = this.tombs.entries().next().value as [string, number];
      this.tombs.delete(oldest);
      this.floor = Math.max(this.floor, g);
    }
    if (changed) this.gen = gen;
    return changed;
  }

  /** The answer to a peer holding (inc, gen): a delta when possible, else a snapshot; in chunks. */
  answer(inc: string | null, since: number): StateChunk[] {
    const delta = inc === this.inc && since <= this.gen && since >= this.floor;
    const set: [string, JsonValue][] = [];
    const del: string[] = [];
    for (const [k, s] of this.items) if (!delta || s.gen > since) set.push([k, s.value]);
    if (delta) for (const [k, g] of this.tombs) if (g > since) del.push(k);
    const head = { inc: this.inc, gen: this.gen, digest: this.digest.hex, from: delta ? since : null };
    const chunks: StateChunk[] = [];
    let cur: [string, JsonValue][] = [];
    let bytes = 0;
    for (const e of set) {
      const n = JSON.stringify(e).length;
      if (cur.length && bytes + n > CHUNK_BYTES) {
        chunks.push({ ...head, set: cur, del: [], last: false });
        cur = [];
        bytes = 0;
      }
      cur.push(e);
      bytes += n;
    }
    chunks.push({ ...head, set: cur, del, last: true });
    return chunks;
  }
}

/** Publish a change list: the changed items into the store, and the facts for the beats. */
export function publishChanges(store: StateStore, c: StateChanges): BeatFacts {
  const { set, del } = changeItems(c);
  store.apply(set, del);
  return beatFacts(c.facts, store.mark);
}

/** Publish a node's whole state: its items into the store, and the facts for the beats (with the handovers it runs now). */
export function publishState(store: StateStore, state: NodeState): BeatFacts {
  store.update(stateItems(state));
  const handovers = handoversNow(Object.entries(state.services));
  return beatFacts(handovers ? { ...state, handovers } : state, store.mark);
}
