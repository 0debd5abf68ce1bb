// Disk heartbeat: one fixed-size slot per node, in `nodes` order. Each beat writes this
// node's slot, then reads every slot; a peer is alive on disk while its slot keeps changing
// to newer authentic messages (the first read of a slot is a baseline: it may be years old).
//
// Slot: "FYDS" | u32 length | u32 crc32(envelope) | u32 reserved | sealed envelope | zeros.
// The crc catches torn reads (sectors of a write landing separately); crypto catches the rest.
import zlib from 'node:zlib';
import type { DiskHbConfig } from '../cluster/config.js';
import { ALIGN, openSlotDevice } from './disk-io.js';
import type { SlotDevice } from './disk-io.js';
import type { Transport, TransportHost } from './transport.js';

export const SLOT_MAGIC = Buffer.from('FYDS', 'latin1');
const SLOT_HEADER = 16;

export function encodeSlot(envelope: Buffer, slotSize: number): Buffer {
  const need = SLOT_HEADER + envelope.length;
  if (need > slotSize) throw new Error(`state too large for the disk slot: ${need} > slot_size ${slotSize}`);
  const out = Buffer.alloc(Math.ceil(need / ALIGN) * ALIGN);
  SLOT_MAGIC.copy(out, 0);
  out.writeUInt32BE(envelope.length, 4);
  out.writeUInt32BE(zlib.crc32(envelope), 8);
  envelope.copy(out, SLOT_HEADER);
  return out;
}

export type SlotContent = { kind: 'empty' } | { kind: 'bad'; why: string } | { kind: 'message'; envelope: Buffer };

export function decodeSlot(slot: Buffer): SlotContent {
  if (!slot.subarray(0, 4).equals(SLOT_MAGIC)) {
    return slot.subarray(0, SLOT_HEADER).every((b) => b === 0) ? { kind: 'empty' } : { kind: 'bad', why: 'no slot magic' };
  }
  const len = slot.readUInt32BE(4);
  if (len > slot.length - SLOT_HEADER) return { kind: 'bad', why: 'length beyond the slot' };
  const envelope = slot.subarray(SLOT_HEADER, SLOT_HEADER + len);
  if (zlib.crc32(envelope) !== slot.readUInt32BE(8)) return { kind: 'bad', why: 'checksum mismatch (torn write?)' };
  return { kind: 'message', envelope };
}

export class DiskTransport implements Transport {
  private dev: SlotDevice | undefined;
  private readonly index: number;
  /** last raw bytes seen per slot: unchanged slots are not re-examined */
  private readonly last = new Map<number, Buffer>();
  private poller: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly cfg: DiskHbConfig,
    nodename: string,
    private readonly nodes: readonly string[],
    private readonly host: TransportHost,
  ) {
    this.index = nodes.indexOf(nodename);
  }

  private get total(): number {
    return this.nodes.length * this.cfg.slotSize;
  }

  async start(): Promise<void> {
    await this.ensureOpen();
    // Peers' slots are read more often than ours is written: reading only after our own
    // write made disk liveness outlast the network's by up to one interval, and a peer is
    // dead only when every heartbeat expired (measured: +0.75 s of detection at 1s/3s).
    // A slot's new message is dated by the read that finds it, so the last beat of a dead peer
    // is seen up to one period late, and the peer declared down as much later (down = every
    // heartbeat silent): at 100 ms / 300 ms a 50 ms period made ~25 ms of the ~50 ms by which
    // detection came late (docs/benchmarks.md). A tenth of the interval, at least 10 ms.
    const period = Math.max(10, Math.floor(this.cfg.interval / 10));
    this.poller = setInterval(() => {
      if (this.dev && !this.reading) void this.readPeers(this.dev);
    }, period);
  }

  private async ensureOpen(): Promise<SlotDevice | undefined> {
    if (this.dev) return this.dev;
    let dev: SlotDevice | undefined;
    try {
      dev = openSlotDevice(this.cfg.dev, this.total, this.cfg.slotSize);
      const all = await dev.readAll(this.total);
      // never overwrite what is not ours: a wrong `dev` must not destroy a filesystem
      const own = decodeSlot(all.subarray(this.index * this.cfg.slotSize, (this.index + 1) * this.cfg.slotSize));
      if (own.kind === 'bad' && own.why === 'no slot magic') {
        throw new Error(`slot ${this.index} of ${this.cfg.dev} holds foreign data: refusing to overwrite it (zero the heartbeat area if this device is meant for it)`);
      }
      this.dev = dev;
      this.host.log('info', 'disk heartbeat opened', { dev: this.cfg.dev, direct: dev.direct, slot: this.index, slotSize: this.cfg.slotSize });
      return dev;
    } catch (e) {
      if (dev) await dev.close();
      this.host.sent(`${this.cfg.dev}: ${(e as Error).message}`);
      return undefined;
    }
  }

  async beat(message: Buffer): Promise<void> {
    const dev = await this.ensureOpen();
    if (!dev) return;
    try {
      await dev.write(this.index * this.cfg.slotSize, encodeSlot(message, this.cfg.slotSize));
      this.host.sent(undefined);
    } catch (e) {
      this.host.sent(`write ${this.cfg.dev}: ${(e as Error).message}`);
    }
    if (!this.reading) await this.readPeers(dev);
  }

  /** Read every slot and hand the changed ones over. One read at a time. */
  private async readPeers(dev: SlotDevice): Promise<void> {
    this.reading = true;
    let all: Buffer;
    try {
      all = await dev.readAll(this.total);
    } catch (e) {
      this.host.log('warn', 'disk heartbeat read failed', { dev: this.cfg.dev, error: (e as Error).message });
      return;
    } finally {
      this.reading = false;
    }
    this.nodes.forEach((owner, i) => {
      if (i === this.index) return;
      const slot = all.subarray(i * this.cfg.slotSize, (i + 1) * this.cfg.slotSize);
      const prev = this.last.get(i);
      if (prev && prev.equals(slot)) return;
      this.last.set(i, Buffer.from(slot));
      const c = decodeSlot(slot);
      if (c.kind === 'empty') return;
      if (c.kind === 'bad') {
        // same accounting as a garbage datagram
        this.host.receive(Buffer.alloc(0), { owner });
        return;
      }
      this.host.receive(c.envelope, { owner, baseline: prev === undefined });
    });
  }

  async stop(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    const dev = this.dev;
    this.dev = undefined;
    if (dev) await dev.close();
  }
}
