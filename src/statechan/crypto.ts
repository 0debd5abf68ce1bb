// Keys and the handshake of the state channel. Everything derives from the cluster secret:
//
//   master  = HKDF-SHA256(secret, salt = "ferry-statechan-v1:" + cluster name, info = "ferry statechan master")
//   T       = SHA-256(cluster id | client name | client nonce | server name | server nonce)
//   proofS  = HMAC-SHA256(master, "server" | T)      proves the server knows the secret
//   proofC  = HMAC-SHA256(master, "client" | T)      proves the client knows the secret
//   session = HKDF-SHA256(master, salt = client nonce | server nonce, info = "ferry statechan session" | T), 64 bytes:
//             first half client→server key, second half server→client key
//
// Both nonces are 32 fresh random bytes, so every connection has its own keys and a recorded
// handshake or frame is worthless on another connection. Frames are AES-256-GCM with a
// 96-bit nonce = 4-byte direction | 8-byte frame counter, never sent: the receiver uses its
// own count, so a replayed, dropped, reordered or altered frame fails the tag.
import crypto from 'node:crypto';
import { clusterIdOf } from '../heartbeat/envelope.js';

export const NONCE_BYTES = 32;
const TAG = 16;

export interface ChannelKeys {
  clusterId: Buffer;
  master: Buffer;
}

export function deriveChannelKeys(secretHex: string, clusterName: string): ChannelKeys {
  const ikm = Buffer.from(secretHex, 'hex');
  const master = Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.from(`ferry-statechan-v1:${clusterName}`, 'utf8'), 'ferry statechan master', 32));
  return { clusterId: clusterIdOf(clusterName), master };
}

export interface Transcript {
  client: string;
  clientNonce: Buffer;
  server: string;
  serverNonce: Buffer;
}

function lv(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const l = Buffer.alloc(2);
  l.writeUInt16BE(b.length, 0);
  return Buffer.concat([l, b]);
}

export function transcriptHash(keys: ChannelKeys, t: Transcript): Buffer {
  return crypto.createHash('sha256').update(keys.clusterId).update(lv(t.client)).update(t.clientNonce).update(lv(t.server)).update(t.serverNonce).digest();
}

export function proof(keys: ChannelKeys, role: 'server' | 'client', th: Buffer): Buffer {
  return crypto.createHmac('sha256', keys.master).update(role).update(th).digest();
}

export function proofOk(keys: ChannelKeys, role: 'server' | 'client', th: Buffer, got: Buffer): boolean {
  const want = proof(keys, role, th);
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

export function sessionKeys(keys: ChannelKeys, t: Transcript, th: Buffer): { c2s: Buffer; s2c: Buffer } {
  const okm = Buffer.from(crypto.hkdfSync('sha256', keys.master, Buffer.concat([t.clientNonce, t.serverNonce]), Buffer.concat([Buffer.from('ferry statechan session'), th]), 64));
  return { c2s: okm.subarray(0, 32), s2c: okm.subarray(32) };
}

/** One direction of a connection: seals (or opens) frames in order, counting them. */
export class FrameCipher {
  private counter = 0n;

  constructor(
    private readonly key: Buffer,
    /** 1: client→server, 2: server→client */
    private readonly direction: 1 | 2,
  ) {}

  private nonce(): Buffer {
    const n = Buffer.alloc(12);
    n.writeUInt32BE(this.direction, 0);
    n.writeBigUInt64BE(this.counter, 4);
    this.counter++;
    return n;
  }

  seal(plain: Buffer): Buffer {
    const c = crypto.createCipheriv('aes-256-gcm', this.key, this.nonce());
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  }

  /** undefined when the frame is not the next authentic one of this direction */
  open(frame: Buffer): Buffer | undefined {
    if (frame.length < TAG) return undefined;
    const d = crypto.createDecipheriv('aes-256-gcm', this.key, this.nonce());
    d.setAuthTag(frame.subarray(frame.length - TAG));
    try {
      return Buffer.concat([d.update(frame.subarray(0, frame.length - TAG)), d.final()]);
    } catch {
      return undefined;
    }
  }
}
