// Shared memory between a fuzz worker and the thread watching it: which input runs, since
// when, and its bytes, so an input that hangs or kills the worker is still reported with its
// input. Written by the worker before each input, read by the watchdog when it gives up.

// layout: Int32 [0] busy, [1] input length; Float64 [1] index, [2] start (epoch ms),
// [3..6] counts so far (inputs, crashes, slow, retimed); the input's bytes from byte 64
const HEAD = 64;

export interface Counts {
  inputs: number;
  crashes: number;
  slow: number;
  retimed: number;
}

export class InputSlot {
  readonly buffer: SharedArrayBuffer;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly bytes: Uint8Array;

  constructor(bufferOrCapacity: SharedArrayBuffer | number) {
    this.buffer = typeof bufferOrCapacity === 'number' ? new SharedArrayBuffer(HEAD + bufferOrCapacity) : bufferOrCapacity;
    this.ints = new Int32Array(this.buffer, 0, 2);
    this.floats = new Float64Array(this.buffer, 0, 7);
    this.bytes = new Uint8Array(this.buffer, HEAD);
  }

  /** worker: input `index` starts now */
  begin(index: number, input: Buffer): void {
    const n = Math.min(input.length, this.bytes.length);
    this.bytes.set(input.subarray(0, n));
    this.ints[1] = n;
    this.floats[1] = index;
    this.floats[2] = Date.now();
    Atomics.store(this.ints, 0, 1);
  }

  /** worker: the counts after the last input */
  count(c: Counts): void {
    this.floats[3] = c.inputs;
    this.floats[4] = c.crashes;
    this.floats[5] = c.slow;
    this.floats[6] = c.retimed;
  }

  /** watchdog: the counts the worker last wrote */
  counts(): Counts {
    const f = this.floats;
    return { inputs: f[3] ?? 0, crashes: f[4] ?? 0, slow: f[5] ?? 0, retimed: f[6] ?? 0 };
  }

  /** worker: no input running (done) */
  end(): void {
    Atomics.store(this.ints, 0, 0);
  }

  /** watchdog: the running input and for how long it has run, if any */
  current(): { index: number; runningMs: number; input: Buffer } | undefined {
    if (Atomics.load(this.ints, 0) !== 1) return undefined;
    const n = this.ints[1] ?? 0;
    return { index: this.floats[1] ?? -1, runningMs: Date.now() - (this.floats[2] ?? 0), input: Buffer.from(this.bytes.subarray(0, n)) };
  }
}
