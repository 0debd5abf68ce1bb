// The disk heartbeat's I/O on a real block device (loop): O_DIRECT reads see writes made
// behind this host's page cache (as a peer on another host would), a device holding foreign
// data is never overwritten, and what a beat costs.
import fs from 'node:fs';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { DiskHbConfig } from '../../src/cluster/config.js';
import { DiskTransport, encodeSlot } from '../../src/heartbeat/disk.js';
import { deriveKey, seal } from '../../src/heartbeat/envelope.js';
import type { Inbound, TransportHost } from '../../src/heartbeat/transport.js';
import { requireRoot } from '../helpers/env.js';
import { createLoop } from '../helpers/loop-dev.js';

const SLOT = 65536;
const nodes = ['n1', 'n2', 'n3'];
const key = deriveKey('3c'.repeat(32), 'lab');
const cfg = (dev: string): DiskHbConfig => ({ id: 'hb#2', type: 'disk', interval: 1000, timeout: 3000, dev, slotSize: SLOT });
const msg = (sender: string, seq: bigint) => seal(key, { kind: 'beat', incarnation: 1n, seq, sender, hb: 'hb#2' }, Buffer.from(`{"seq":${seq}}`));

function recorder() {
  const got: { buf: Buffer; info: Inbound }[] = [];
  const errors: (string | undefined)[] = [];
  const host: TransportHost = {
    receive: (buf, info) => void got.push({ buf: Buffer.from(buf), info }),
    sent: (e) => void errors.push(e),
    log: () => undefined,
  };
  return { got, errors, host };
}

/** what a peer on another host does: write its slot into the shared storage, not through our block device */
function writeBehind(file: string, index: number, envelope: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, encodeSlot(envelope, SLOT), 0, undefined, index * SLOT);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

/** n1's disk transport, started on a fresh 4 MiB loop device; both go in teardown. */
async function startedOnLoop(t: ExecutionContext) {
  requireRoot();
  const loop = await createLoop('ferry-hbdio', 4);
  t.teardown(() => loop.detach());
  const r = recorder();
  const tr = new DiskTransport(cfg(loop.dev), 'n1', nodes, r.host);
  await tr.start();
  t.teardown(() => tr.stop());
  return { loop, tr, r };
}

test.serial('O_DIRECT reads see a peer write made behind our page cache', async (t) => {
  const { loop, tr, r } = await startedOnLoop(t);

  writeBehind(loop.file, 1, msg('n2', 1n));
  // a buffered reader of the block device now caches n2's slot...
  const cached = Buffer.alloc(16);
  const bfd = fs.openSync(loop.dev, 'r');
  fs.readSync(bfd, cached, 0, 16, SLOT);
  await tr.beat(msg('n1', 1n));
  t.is(r.got.length, 1);
  t.true(r.got[0]!.info.baseline, 'first sight of a slot is a baseline, not a sign of life');

  // ...and the peer writes again, behind it
  writeBehind(loop.file, 1, msg('n2', 2n));
  const stale = Buffer.alloc(SLOT);
  fs.readSync(bfd, stale, 0, SLOT, SLOT);
  fs.closeSync(bfd);
  const staleSeq = stale.subarray(16).readBigUInt64BE(22);
  t.log(`buffered read of ${loop.dev} after the write behind it: seq ${staleSeq} (${staleSeq === 1n ? 'stale page cache' : 'fresh'})`);

  await tr.beat(msg('n1', 2n));
  t.is(r.got.length, 2, 'the direct read saw the new slot content');
  t.is(r.got[1]!.buf.readBigUInt64BE(22), 2n);
  t.is(r.got[1]!.info.owner, 'n2');
  t.false(r.got[1]!.info.baseline);
  t.deepEqual(r.errors, [undefined, undefined]);
  // and our own slot really is on the device
  const own = Buffer.alloc(4);
  const fd = fs.openSync(loop.file, 'r');
  fs.readSync(fd, own, 0, 4, 0);
  fs.closeSync(fd);
  t.is(own.toString('latin1'), 'FYDS');
});

test.serial('a device with foreign data in our slot is never written', async (t) => {
  requireRoot();
  const loop = await createLoop('ferry-hbdio', 4);
  t.teardown(() => loop.detach());
  const fd = fs.openSync(loop.file, 'r+');
  fs.writeSync(fd, Buffer.from('\x53\xef ext4 superblock or whatever lives here'), 0, undefined, SLOT);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const r = recorder();
  const tr = new DiskTransport(cfg(loop.dev), 'n2', nodes, r.host);
  await tr.start();
  await tr.beat(msg('n2', 1n));
  await tr.stop();
  t.regex(r.errors[0] ?? '', /holds foreign data: refusing to overwrite/);
  const after = Buffer.alloc(32);
  const fd2 = fs.openSync(loop.file, 'r');
  fs.readSync(fd2, after, 0, 32, SLOT);
  fs.closeSync(fd2);
  t.true(after.toString('latin1').includes(' ext4 superblock'), 'untouched');
});

test.serial('cost of one disk beat (write own slot O_DIRECT|O_DSYNC, read 3 slots O_DIRECT)', async (t) => {
  const { loop, tr, r } = await startedOnLoop(t);
  const N = 200;
  const t0 = process.hrtime.bigint();
  for (let i = 1; i <= N; i++) await tr.beat(msg('n1', BigInt(i)));
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  t.log(`disk beat on ${loop.dev}: ${us.toFixed(0)} us per beat (${N} beats)`);
  t.true(r.errors.every((e) => e === undefined));
  t.true(us < 50_000);
});

test.serial('regular file (lab): created and sized on first use, peers see each other advance', async (t) => {
  const dir = fs.mkdtempSync('/tmp/ferry-hbfile-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = `${dir}/hb.img`;
  const a = recorder();
  const b = recorder();
  const ta = new DiskTransport(cfg(file), 'n1', nodes, a.host);
  const tb = new DiskTransport(cfg(file), 'n3', nodes, b.host);
  await ta.start();
  await tb.start();
  t.teardown(async () => {
    await ta.stop();
    await tb.stop();
  });
  t.is(fs.statSync(file).size, nodes.length * SLOT);
  for (let i = 1n; i <= 3n; i++) {
    await ta.beat(msg('n1', i));
    await tb.beat(msg('n3', i));
  }
  // n3 saw n1's slot at seq 1 (baseline), 2 and 3; n1 saw n3's first write as a change from empty
  t.deepEqual(b.got.map((g) => [g.info.owner, g.info.baseline ?? false, g.buf.readBigUInt64BE(22)]), [['n1', true, 1n], ['n1', false, 2n], ['n1', false, 3n]]);
  t.deepEqual(a.got.map((g) => [g.info.owner, g.info.baseline ?? false, g.buf.readBigUInt64BE(22)]), [['n3', false, 1n], ['n3', false, 2n]]);
});
