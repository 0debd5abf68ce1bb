// Byte-, token- and line-level mutators. Each takes an input and returns a new one; they never
// look at what the input means, so one set serves every target. Token-level ones use a
// dictionary: the target's own tokens (INI punctuation, `{env.`, `@n1`...) plus the words
// found in its seeds.
import type { Rng } from './rng.js';

export interface MutationContext {
  rng: Rng;
  /** every seed of the target, for splicing */
  seeds: readonly Buffer[];
  /** tokens to insert or overwrite with */
  dictionary: readonly Buffer[];
}

export type Mutator = (input: Buffer, m: MutationContext) => Buffer;

// boundary values of 8/16/32/64-bit integers, as in AFL's "interesting values"
const INTERESTING: readonly bigint[] = [
  0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn,
];

const NL = 0x0a;

/** a position in [0, len] */
const pos = (m: MutationContext, len: number): number => m.rng.int(len + 1);

/** a chunk length, mostly short: 1-8 bytes often, up to 1/4 of the input sometimes */
function chunkLen(m: MutationContext, len: number): number {
  if (len <= 1) return len;
  return m.rng.chance(0.75) ? 1 + m.rng.int(Math.min(8, len)) : 1 + m.rng.int(Math.max(1, len >> 2));
}

const insertAt = (b: Buffer, at: number, piece: Buffer): Buffer => Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);

function flipBit(b: Buffer, m: MutationContext): Buffer {
  if (b.length === 0) return Buffer.from([m.rng.int(256)]);
  const out = Buffer.from(b);
  const i = m.rng.int(out.length);
  out[i] = out[i]! ^ (1 << m.rng.int(8));
  return out;
}

function setByte(b: Buffer, m: MutationContext): Buffer {
  if (b.length === 0) return Buffer.from([m.rng.int(256)]);
  const out = Buffer.from(b);
  out[m.rng.int(out.length)] = m.rng.int(256);
  return out;
}

function addToByte(b: Buffer, m: MutationContext): Buffer {
  if (b.length === 0) return b;
  const out = Buffer.from(b);
  const i = m.rng.int(out.length);
  out[i] = (out[i]! + (m.rng.chance(0.5) ? 1 : -1) * (1 + m.rng.int(16))) & 0xff;
  return out;
}

function insertBytes(b: Buffer, m: MutationContext): Buffer {
  const n = 1 + m.rng.int(4);
  const piece = Buffer.alloc(n);
  // printable ASCII more often than not: these are mostly text formats
  for (let i = 0; i < n; i++) piece[i] = m.rng.chance(0.7) ? 0x20 + m.rng.int(95) : m.rng.int(256);
  return insertAt(b, pos(m, b.length), piece);
}

function deleteRange(b: Buffer, m: MutationContext): Buffer {
  if (b.length === 0) return b;
  const n = chunkLen(m, b.length);
  const at = m.rng.int(b.length - n + 1);
  return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
}

function interestingValue(b: Buffer, m: MutationContext): Buffer {
  const width = m.rng.pick([1, 2, 4, 8]);
  if (b.length < width) return b;
  const out = Buffer.from(b);
  const at = m.rng.int(out.length - width + 1);
  let v = m.rng.pick(INTERESTING) & ((1n << BigInt(width * 8)) - 1n);
  const bigEndian = m.rng.chance(0.5);
  for (let i = 0; i < width; i++) {
    out[bigEndian ? at + width - 1 - i : at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** a chunk of the input copied elsewhere in it */
function duplicateChunk(b: Buffer, m: MutationContext): Buffer {
  if (b.length === 0) return b;
  const n = chunkLen(m, b.length);
  const from = m.rng.int(b.length - n + 1);
  return insertAt(b, pos(m, b.length), Buffer.from(b.subarray(from, from + n)));
}

/** a chunk repeated several times in place (grows lists, references, nesting) */
function repeatChunk(b: Buffer, m: MutationContext): Buffer {
  if (b.length === 0) return b;
  const n = 1 + m.rng.int(Math.min(16, b.length));
  const from = m.rng.int(b.length - n + 1);
  const times = 2 + m.rng.int(15);
  const chunk = b.subarray(from, from + n);
  return insertAt(b, from, Buffer.concat(Array.from({ length: times - 1 }, () => chunk)));
}

/** a chunk of another seed inserted or written over this input */
function spliceSeed(b: Buffer, m: MutationContext): Buffer {
  const other = m.rng.pick(m.seeds);
  if (other.length === 0) return b;
  const n = chunkLen(m, other.length);
  const from = m.rng.int(other.length - n + 1);
  const chunk = other.subarray(from, from + n);
  const at = pos(m, b.length);
  if (m.rng.chance(0.5)) return insertAt(b, at, chunk);
  return Buffer.concat([b.subarray(0, at), chunk, b.subarray(Math.min(b.length, at + chunk.length))]);
}

/** the head of this input joined to the tail of another seed */
function crossover(b: Buffer, m: MutationContext): Buffer {
  const other = m.rng.pick(m.seeds);
  return Buffer.concat([b.subarray(0, pos(m, b.length)), other.subarray(pos(m, other.length))]);
}

function dictInsert(b: Buffer, m: MutationContext): Buffer {
  if (m.dictionary.length === 0) return insertBytes(b, m);
  return insertAt(b, pos(m, b.length), m.rng.pick(m.dictionary));
}

function dictOverwrite(b: Buffer, m: MutationContext): Buffer {
  if (m.dictionary.length === 0) return setByte(b, m);
  const tok = m.rng.pick(m.dictionary);
  const at = pos(m, b.length);
  return Buffer.concat([b.subarray(0, at), tok, b.subarray(Math.min(b.length, at + tok.length))]);
}

/** [start, end) of each line, the newline excluded */
function lines(b: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === NL) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  out.push([start, b.length]);
  return out;
}

function lineDuplicate(b: Buffer, m: MutationContext): Buffer {
  const ls = lines(b);
  const [s, e] = m.rng.pick(ls);
  const [at] = m.rng.pick(ls);
  return insertAt(b, at, Buffer.concat([b.subarray(s, e), Buffer.from([NL])]));
}

function lineDelete(b: Buffer, m: MutationContext): Buffer {
  const ls = lines(b);
  if (ls.length < 2) return b;
  const [s, e] = m.rng.pick(ls);
  return Buffer.concat([b.subarray(0, s), b.subarray(Math.min(b.length, e + 1))]);
}

function lineSwap(b: Buffer, m: MutationContext): Buffer {
  const ls = lines(b);
  if (ls.length < 2) return b;
  let i = m.rng.int(ls.length);
  let j = m.rng.int(ls.length);
  if (i === j) return b;
  if (i > j) [i, j] = [j, i];
  const [si, ei] = ls[i]!;
  const [sj, ej] = ls[j]!;
  return Buffer.concat([b.subarray(0, si), b.subarray(sj, ej), b.subarray(ei, sj), b.subarray(si, ei), b.subarray(ej)]);
}

/** a whole line of another seed inserted at a line start */
function lineFromSeed(b: Buffer, m: MutationContext): Buffer {
  const other = m.rng.pick(m.seeds);
  const [s, e] = m.rng.pick(lines(other));
  const [at] = m.rng.pick(lines(b));
  return insertAt(b, at, Buffer.concat([other.subarray(s, e), Buffer.from([NL])]));
}

function truncate(b: Buffer, m: MutationContext): Buffer {
  return b.subarray(0, m.rng.int(b.length + 1));
}

/** weighted: the structure-aware ones (dictionary, lines, splicing) a little more often */
export const MUTATORS: ReadonlyArray<readonly [Mutator, number]> = [
  [flipBit, 2], [setByte, 1], [addToByte, 1], [insertBytes, 2], [deleteRange, 2], [interestingValue, 1],
  [duplicateChunk, 2], [repeatChunk, 1], [spliceSeed, 2], [crossover, 1], [dictInsert, 4], [dictOverwrite, 2],
  [lineDuplicate, 2], [lineDelete, 2], [lineSwap, 1], [lineFromSeed, 2], [truncate, 1],
];

const TOTAL_WEIGHT = MUTATORS.reduce((s, [, w]) => s + w, 0);

export function pickMutator(rng: Rng): Mutator {
  let r = rng.int(TOTAL_WEIGHT);
  for (const [fn, w] of MUTATORS) {
    if (r < w) return fn;
    r -= w;
  }
  return MUTATORS[0]![0];
}

/**
 * Tokens of the seeds worth inserting elsewhere: words, `{...}` groups, `key@scope` pieces,
 * punctuation runs. Text formats get most of their structure this way without a per-target list.
 */
export function seedTokens(seeds: readonly Buffer[], limit = 512): Buffer[] {
  const found = new Set<string>();
  const re = /\{[^{}\n]{0,40}\}|@[A-Za-z0-9_.-]{1,20}|[A-Za-z0-9_#.-]{2,24}|[^A-Za-z0-9_\s]{1,3}/g;
  for (const s of seeds) {
    const text = s.toString('latin1');
    for (const m of text.matchAll(re)) {
      found.add(m[0]);
      if (found.size >= limit) break;
    }
  }
  return [...found].sort().map((t) => Buffer.from(t, 'latin1'));
}
