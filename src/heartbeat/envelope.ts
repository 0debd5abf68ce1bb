// The heartbeat message: a small clear header authenticated as AAD, then the node state
// sealed with AES-256-GCM. The key is derived from the cluster secret by HKDF with the
// cluster name as salt, so two clusters sharing a secret by mistake still cannot read or
// forge each other's messages. Replays are refused by (incarnation, seq) per sender.
//
// Layout (big endian):
//   0  magic "FYHB"          4
//   4  version (1)           1
//   5  kind (0 beat, 1 leaving) 1
//   6  cluster id            8   sha256("ferry-cluster:" + name)[0..8]: cheap "foreign" test
//  14  incarnation           8   per process start, see newIncarnation()
//  22  seq                   8   per sender process, strictly increasing across all heartbeats
//  30  sender length n       1
//  31  sender                n   utf8 node name
//      hb length m           1
//      hb id                 m   "hb#1": a message is only valid on the heartbeat it was sealed for
//      nonce                12   random
//      ciphertext            *
//      tag                  16
import crypto from 'node:crypto';

export const MAGIC = Buffer.from('FYHB', 'latin1');
export const VERSION = 1;
export type MessageKind = 'beat' | 'leaving';
export type DropReason = 'malformed' | 'foreign' | 'forged' | 'replayed' | 'unknown';
export const DROP_REASONS: readonly DropReason[] = ['malformed', 'foreign', 'forged', 'replayed', 'unknown'];

const NONCE = 12;
const TAG = 16;

/** A JSON value: what the daemon publishes as this node's state. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface Header {
  kind: MessageKind;
  clusterId: Buffer;
  incarnation: bigint;
  seq: bigint;
  sender: string;
  hb: string;
}

export interface KeyContext {
  clusterName: string;
  clusterId: Buffer;
  key: Buffer;
}

export function clusterIdOf(name: string): Buffer {
  return crypto.createHash('sha256').update(`ferry-cluster:${name}`).digest().subarray(0, 8);
}

export function deriveKey(secretHex: string, clusterName: string): KeyContext {
  const ikm = Buffer.from(secretHex, 'hex');
  const key = Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.from(`ferry-hb-v1:${clusterName}`, 'utf8'), 'ferry heartbeat aes-256-gcm', 32));
  return { clusterName, clusterId: clusterIdOf(clusterName), key };
}

/**
 * A fresh incarnation: milliseconds since the epoch shifted left 16 bits, plus 16 random
 * bits. A restarted node gets a larger one (unless the clock went back), so peers accept it
 * while refusing the previous run's messages.
 */
export function newIncarnation(floor: bigint = 0n): bigint {
  const now = (BigInt(Date.now()) << 16n) | BigInt(crypto.randomInt(0, 0x10000));
  return now > floor ? now : floor + 1n;
}

function encodeHeader(h: Header): Buffer {
  const sender = Buffer.from(h.sender, 'utf8');
  const hb = Buffer.from(h.hb, 'utf8');
  if (sender.length > 255 || hb.length > 255) throw new Error('node name or heartbeat id too long');
  const b = Buffer.alloc(31 + sender.length + 1 + hb.length);
  MAGIC.copy(b, 0);
  b[4] = VERSION;
  b[5] = h.kind === 'leaving' ? 1 : 0;
  h.clusterId.copy(b, 6);
  b.writeBigUInt64BE(h.incarnation, 14);
  b.writeBigUInt64BE(h.seq, 22);
  b[30] = sender.length;
  sender.copy(b, 31);
  b[31 + sender.length] = hb.length;
  hb.copy(b, 32 + sender.length);
  return b;
}

/** Parse the clear header; undefined when the bytes are not one of our messages. */
export function decodeHeader(buf: Buffer): { header: Header; headerLen: number } | undefined {
  if (buf.length < 32 + NONCE + TAG) return undefined;
  if (!buf.subarray(0, 4).equals(MAGIC) || buf[4] !== VERSION) return undefined;
  const kindByte = buf[5];
  if (kindByte !== 0 && kindByte !== 1) return undefined;
  const sl = buf[30]!;
  if (31 + sl + 1 > buf.length) return undefined;
  const hl = buf[31 + sl]!;
  const headerLen = 32 + sl + hl;
  if (headerLen + NONCE + TAG > buf.length) return undefined;
  return {
    header: {
      kind: kindByte === 1 ? 'leaving' : 'beat',
      clusterId: Buffer.from(buf.subarray(6, 14)),
      incarnation: buf.readBigUInt64BE(14),
      seq: buf.readBigUInt64BE(22),
      sender: buf.toString('utf8', 31, 31 + sl),
      hb: buf.toString('utf8', 32 + sl, headerLen),
    },
    headerLen,
  };
}

export function seal(ctx: KeyContext, h: Omit<Header, 'clusterId'>, payload: Buffer): Buffer {
  const header = encodeHeader({ ...h, clusterId: ctx.clusterId });
  const nonce = crypto.randomBytes(NONCE);
  const c = crypto.createCipheriv('aes-256-gcm', ctx.key, nonce);
  c.setAAD(header);
  const body = Buffer.concat([c.update(payload), c.final()]);
  return Buffer.concat([header, nonce, body, c.getAuthTag()]);
}

export type OpenResult =
  | { ok: true; header: Header; payload: Buffer }
  | { ok: false; reason: DropReason; header?: Header };

export interface OpenContext {
  /** this node: its own messages (looped back) are not peers' */
  self: string;
  nodes: readonly string[];
  /** the heartbeat this message arrived on */
  hb: string;
}

/**
 * Authenticate and decrypt. Checks the cheap clear-header facts first, then the tag; replay
 * is the caller's job (ReplayGuard) because it needs per-sender state and must only be
 * updated by authentic messages.
 */
export function open(ctx: KeyContext, o: OpenContext, buf: Buffer): OpenResult {
  const d = decodeHeader(buf);
  if (!d) return { ok: false, reason: 'malformed' };
  const { header, headerLen } = d;
  if (!header.clusterId.equals(ctx.clusterId)) return { ok: false, reason: 'foreign', header };
  if (header.sender === o.self || !o.nodes.includes(header.sender)) return { ok: false, reason: 'unknown', header };
  const nonce = buf.subarray(headerLen, headerLen + NONCE);
  const body = buf.subarray(headerLen + NONCE, buf.length - TAG);
  const tag = buf.subarray(buf.length - TAG);
  let payload: Buffer;
  try {
    const d2 = crypto.createDecipheriv('aes-256-gcm', ctx.key, nonce);
    d2.setAAD(buf.subarray(0, headerLen));
    d2.setAuthTag(tag);
    payload = Buffer.concat([d2.update(body), d2.final()]);
  } catch {
    return { ok: false, reason: 'forged', header };
  }
  // authentic, but sealed for another heartbeat: a cross-channel replay
  if (header.hb !== o.hb) return { ok: false, reason: 'replayed', header };
  return { ok: true, header, payload };
}

/** Highest (incarnation, seq) accepted per sender, on one heartbeat. */
export class ReplayGuard {
  private readonly last = new Map<string, { incarnation: bigint; seq: bigint }>();

  /** true, and remembered, when the message is newer than anything accepted from its sender */
  accept(h: Header): boolean {
    const prev = this.last.get(h.sender);
    if (prev) {
      if (h.incarnation < prev.incarnation) return false;
      if (h.incarnation === prev.incarnation && h.seq <= prev.seq) return false;
    }
    this.last.set(h.sender, { incarnation: h.incarnation, seq: h.seq });
    return true;
  }
}
