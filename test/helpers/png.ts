// A small PNG decoder (node:zlib) for tests that check screenshots: 8-bit RGB or RGBA,
// non-interlaced (what Chromium writes). Throws on anything else or a bad CRC-less structure.
import zlib from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel */
  rgba: Buffer;
}

const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodePng(buf: Buffer): Image {
  if (!buf.subarray(0, 8).equals(SIG)) throw new Error('not a PNG (signature)');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    off += 12 + len;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const color = data[9];
      if (depth !== 8 || (color !== 2 && color !== 6) || data[12] !== 0) throw new Error(`unsupported PNG: depth ${depth} color ${color} interlace ${data[12]}`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (!width || !height) throw new Error('PNG without IHDR');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`PNG data ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels]! : 0;
      const b = prev[x]!;
      const c = x >= channels ? prev[x - channels]! : 0;
      let add: number;
      if (f === 0) add = 0;
      else if (f === 1) add = a;
      else if (f === 2) add = b;
      else if (f === 3) add = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else throw new Error(`bad PNG filter ${f} on row ${y}`);
      line[x] = (line[x]! + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 4] = line[x * channels]!;
      out[(y * width + x) * 4 + 1] = line[x * channels + 1]!;
      out[(y * width + x) * 4 + 2] = line[x * channels + 2]!;
      out[(y * width + x) * 4 + 3] = channels === 4 ? line[x * channels + 3]! : 255;
    }
    prev = line;
  }
  return { width, height, rgba: out };
}

/** Pixels of exactly this colour (±tol per channel). */
export function countColor(img: Image, [r, g, b]: [number, number, number], tol = 2): number {
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) if (Math.abs(img.rgba[i]! - r) <= tol && Math.abs(img.rgba[i + 1]! - g) <= tol && Math.abs(img.rgba[i + 2]! - b) <= tol) n++;
  return n;
}

/** Number of distinct colours (a blank screenshot has one). */
export function distinctColors(img: Image): number {
  const s = new Set<number>();
  for (let i = 0; i < img.rgba.length; i += 4) s.add(img.rgba.readUInt32BE(i));
  return s.size;
}
