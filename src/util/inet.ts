// Pure IP address arithmetic for the ip driver: netmask parsing, subnet membership and
// address equality. Addresses are compared as integers so "2001:db8::1" and
// "2001:0db8:0:0::1" are the same address, as the kernel sees them.
import net from 'node:net';

export type Family = 4 | 6;

/** Address as an unsigned integer (BigInt), or undefined if it is not an IP literal. */
export function addressToBigInt(addr: string): bigint | undefined {
  const family = net.isIP(addr);
  if (family === 4) {
    let n = 0n;
    for (const part of addr.split('.')) n = (n << 8n) | BigInt(Number(part));
    return n;
  }
  if (family === 6) {
    let text = addr;
    // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4) {
      const n4 = addressToBigInt(v4[1]!)!;
      text = text.slice(0, v4.index) + `${(n4 >> 16n).toString(16)}:${(n4 & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.split('::') as [string, string | undefined];
    const h = head.length ? head.split(':') : [];
    const t = tail !== undefined && tail.length ? tail.split(':') : [];
    const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
    const groups = [...h, ...Array<string>(zeros).fill('0'), ...t];
    let n = 0n;
    for (const g of groups) n = (n << 16n) | BigInt(Number.parseInt(g, 16));
    return n;
  }
  return undefined;
}

export function familyOf(addr: string): Family | undefined {
  const f = net.isIP(addr);
  return f === 4 || f === 6 ? f : undefined;
}

export function sameAddress(a: string, b: string): boolean {
  if (familyOf(a) !== familyOf(b)) return false;
  const x = addressToBigInt(a);
  return x !== undefined && x === addressToBigInt(b);
}

/**
 * Netmask keyword value to a prefix length: "24", "/24", "255.255.255.0" (IPv4), "64" (IPv6).
 * Returns undefined for anything else, including non-contiguous dotted masks.
 */
export function parseNetmask(value: string, family: Family): number | undefined {
  const v = value.trim().replace(/^\//, '');
  const max = family === 4 ? 32 : 128;
  if (/^\d{1,3}$/.test(v)) {
    const n = Number(v);
    return n <= max ? n : undefined;
  }
  if (family === 4 && net.isIPv4(v)) {
    const bits = addressToBigInt(v)!.toString(2).padStart(32, '0');
    if (!/^1*0*$/.test(bits)) return undefined;
    return bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
  }
  return undefined;
}

/** Is `addr` inside network `base/prefix`? */
export function inSubnet(addr: string, base: string, prefix: number): boolean {
  const family = familyOf(addr);
  if (family === undefined || family !== familyOf(base)) return false;
  const width = family === 4 ? 32n : 128n;
  const shift = width - BigInt(prefix);
  return addressToBigInt(addr)! >> shift === addressToBigInt(base)! >> shift;
}
