// Raw slot I/O for the disk heartbeat.
//
// Block devices are opened O_DIRECT|O_DSYNC: the page cache of this host must not answer a
// read of a peer's slot (a peer on another host writes the device behind our back), and a
// write must have reached the device when it returns. O_DIRECT needs the offset, the length
// and the *memory address* aligned to the device's logical block size; offsets and lengths
// are multiples of 4096 here, but Node gives no aligned allocation (a large Buffer sits at
// malloc's page+16). The kernel answers a misaligned buffer with EINVAL and nothing else, and
// an ArrayBuffer's backing store never moves, so we allocate 4 KiB extra and probe once, in
// 16-byte steps, for the offset inside it at which a direct read succeeds: from then on that
// window is aligned for this device. Async fs.read/fs.write hand the pointer to the libuv
// threadpool unchanged (no copy), so the I/O stays direct and never blocks the worker loop.
//
// Regular files (lab set-ups) use plain I/O and fdatasync after each write.
import fs from 'node:fs';
import { promisify } from 'node:util';

const read = promisify(fs.read);
const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);

export const ALIGN = 4096;

/** A buffer of `size` bytes at an address the device accepts for O_DIRECT. */
export function alignedBuffer(fd: number, size: number): Buffer {
  const raw = Buffer.alloc(size + ALIGN);
  for (let off = 0; off < ALIGN; off += 16) {
    try {
      fs.readSync(fd, raw, off, ALIGN, 0);
      return raw.subarray(off, off + size);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  }
  throw new Error('no O_DIRECT-aligned window found in the buffer (device alignment above 4096?)');
}

export interface SlotDevice {
  readonly direct: boolean;
  /** read [0, length) into an internal buffer and return a view of it, valid until the next read */
  readAll(length: number): Promise<Buffer>;
  /** write `data` (a multiple of 4096 bytes) at `offset` */
  write(offset: number, data: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Open a block device (direct) or a regular file (created and sized if needed). */
export function openSlotDevice(dev: string, totalSize: number, maxWrite: number): SlotDevice {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dev);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (st?.isBlockDevice()) return new DirectDevice(dev, totalSize, maxWrite);
  if (st && !st.isFile()) throw new Error(`${dev} is neither a block device nor a regular file`);
  return new FileDevice(dev, totalSize);
}

class DirectDevice implements SlotDevice {
  readonly direct = true;
  private readonly fd: number;
  private readonly rbuf: Buffer;
  private readonly wbuf: Buffer;

  constructor(dev: string, totalSize: number, maxWrite: number) {
    const c = fs.constants;
    this.fd = fs.openSync(dev, c.O_RDWR | c.O_DIRECT | c.O_DSYNC);
    try {
      this.rbuf = alignedBuffer(this.fd, totalSize);
      this.wbuf = alignedBuffer(this.fd, maxWrite);
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
  }

  async readAll(length: number): Promise<Buffer> {
    const { bytesRead } = await read(this.fd, this.rbuf, 0, length, 0);
    if (bytesRead < length) throw new Error(`device too small: read ${bytesRead} of ${length} bytes`);
    return this.rbuf.subarray(0, length);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    // copy into the aligned window: the caller's buffer has no alignment guarantee
    data.copy(this.wbuf, 0);
    await write(this.fd, this.wbuf, 0, data.length, offset);
  }

  async close(): Promise<void> {
    fs.closeSync(this.fd);
  }
}

class FileDevice implements SlotDevice {
  readonly direct = false;
  private readonly fd: number;
  private readonly rbuf: Buffer;

  constructor(file: string, totalSize: number) {
    this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    if (fs.fstatSync(this.fd).size < totalSize) fs.ftruncateSync(this.fd, totalSize);
    this.rbuf = Buffer.alloc(totalSize);
  }

  async readAll(length: number): Promise<Buffer> {
    const { bytesRead } = await read(this.fd, this.rbuf, 0, length, 0);
    if (bytesRead < length) throw new Error(`file too small: read ${bytesRead} of ${length} bytes`);
    return this.rbuf.subarray(0, length);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    await write(this.fd, data, 0, data.length, offset);
    await fdatasync(this.fd);
  }

  async close(): Promise<void> {
    fs.closeSync(this.fd);
  }
}
