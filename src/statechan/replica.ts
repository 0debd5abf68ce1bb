// The pulling side: a peer's items as last pulled, with the generation they stand for.
// Chunks of one answer are applied together, so the replica never mixes two generations.
import type { JsonValue } from '../heartbeat/envelope.js';
import { itemHash, XorDigest } from './digest.js';
import { identityOf } from './facts.js';
import type { ChannelMark } from './facts.js';
import type { StateChunk } from './protocol.js';

export class Replica {
  inc: string | null = null;
  gen = 0;
  private items = new Map<string, { value: JsonValue; hash: Buffer }>();
  private digest = new XorDigest();
  private pending: StateChunk[] = [];

  get values(): ReadonlyMap<string, JsonValue> {
    return new Map([...this.items].map(([k, v]) => [k, v.value]));
  }

  get digestHex(): string {
    return this.digest.hex;
  }

  get size(): number {
    return this.items.size;
  }

  /** Does the replica stand for (at least) the state the beat announced? */
  matches(m: ChannelMark): boolean {
    if (this.inc !== m.inc) return false;
    if (this.gen > m.gen) return true;
    return this.gen === m.gen && this.digest.hex === m.digest;
  }

  /** Forget everything: the next pull is a snapshot. */
  reset(): void {
    this.inc = null;
    this.gen = 0;
    this.items = new Map();
    this.digest = new XorDigest();
    this.pending = [];
  }

  /** a connection closed in the middle of an answer: its chunks are worthless */
  dropPending(): void {
    this.pending = [];
  }

  /**
   * Take one chunk. Returns 'more' until the last chunk of an answer, then 'applied', or
   * 'refused' when the answer does not fit what we hold (the caller resets and asks again).
   */
  take(c: StateChunk): 'more' | 'applied' | 'refused' {
    const first = this.pending[0];
    if (first && (first.inc !== c.inc || first.gen !== c.gen || first.from !== c.from)) {
      this.pending = [];
      return 'refused';
    }
    this.pending.push(c);
    if (!c.last) return 'more';
    const chunks = this.pending;
    this.pending = [];
    if (c.from !== null && (c.inc !== this.inc || c.from !== this.gen)) return 'refused';
    if (c.from === null) {
      this.items = new Map();
      this.digest = new XorDigest();
    }
    for (const ch of chunks) {
      for (const [k, value] of ch.set) {
        const prev = this.items.get(k);
        if (prev) this.digest.toggle(prev.hash);
        const hash = itemHash(k, identityOf(k, value));
        this.digest.toggle(hash);
        this.items.set(k, { value, hash });
      }
      for (const k of ch.del) {
        const prev = this.items.get(k);
        if (!prev) continue;
        this.digest.toggle(prev.hash);
        this.items.delete(k);
      }
    }
    this.inc = c.inc;
    this.gen = c.gen;
    if (this.digest.hex !== c.digest) return 'refused';
    return 'applied';
  }
}
