// An order-independent digest of a set of items, kept up to date in O(1) per change: the
// XOR of a 128-bit hash of each (key, identity). Two sides holding the same items agree on
// it; it is a consistency check between honest daemons, not an authenticator (the channel's
// AES-GCM is that).
import crypto from 'node:crypto';

export const itemHash = (key: string, identity: string): Buffer => crypto.createHash('sha256').update(key).update('\0').update(identity).digest().subarray(0, 16);

export class XorDigest {
  private readonly acc = Buffer.alloc(16);

  toggle(h: Buffer): void {
    for (let i = 0; i < 16; i++) this.acc[i] = this.acc[i]! ^ h[i]!;
  }

  get hex(): string {
    return this.acc.toString('hex');
  }
}
