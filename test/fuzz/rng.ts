// A small seeded PRNG for the fuzzer (no Math.random: a run must be replayable from its
// seed). SplitMix64 to spread a (seed, index) pair into a state, xorshift128+ to draw from it.

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 step: a well-mixed 64-bit value from any 64-bit input. */
export function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * xoshiro128** over four 32-bit words (plain numbers: a BigInt per draw would cost more than
 * some targets under test). One instance per input, so input N is reproducible on its own.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** the stream for input `index` of a run seeded with `seed` */
  constructor(seed: bigint, index = 0n) {
    const a = splitmix64((seed & MASK64) ^ splitmix64(index));
    const b = splitmix64(a);
    this.s0 = Number(a >> 32n) | 0;
    this.s1 = Number(a & 0xffffffffn) | 0;
    this.s2 = Number(b >> 32n) | 0;
    this.s3 = Number(b & 0xffffffffn) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1;
  }

  /** 32 random bits as an unsigned number */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** integer in [0, n) (n >= 1) */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x100000000) * n);
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[this.int(list.length)]!;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
