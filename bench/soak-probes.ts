// What the scale soak measures from outside the daemons, on the real objects: the UDP
// datagrams a node sends (tcpdump in its namespace), the disk heartbeat slots (read from the
// shared device with O_DIRECT), a namespace's veth byte counters, a process's CPU time.
import fs from 'node:fs';
import { execa } from 'execa';
import type { Lab } from '../src/lab/lab.js';
import { sh } from './common.js';

/** tcpdump of the UDP datagrams node sends on eth0; sizes read from its output file. */
export class DatagramCapture {
  private readonly file: string;
  private readonly pid: number;

  constructor(lab: Lab, private readonly node: string) {
    this.file = `${lab.dir}/tcpdump-${node}.txt`;
    // -Q out: sent only; -l line-buffered; -nn -q: "IP a.p > b.p: UDP, length N"
    this.pid = lab.spawn(node, 'tcpdump', ['-i', 'eth0', '-Q', 'out', '-l', '-nn', '-q', 'udp'], { logFile: this.file }).pid;
  }

  /** datagrams seen so far and the largest UDP payload, bytes */
  sizes(): { count: number; max: number } {
    let count = 0;
    let max = 0;
    const text = fs.existsSync(this.file) ? fs.readFileSync(this.file, 'utf8') : '';
    for (const m of text.matchAll(/ UDP, length (\d+)$/gm)) {
      count++;
      max = Math.max(max, Number(m[1]));
    }
    return { count, max };
  }

  stop(): void {
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }

  get label(): string {
    return this.node;
  }
}

/** The disk heartbeat slots as written: "FYDS" | u32 length | crc | reserved | envelope. */
export class SlotSampler {
  maxEnvelope = 0;
  samples = 0;
  written = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly dev: string, private readonly slotSize: number, private readonly nodes: number) {}

  start(everyMs: number): void {
    const tick = async (): Promise<void> => {
      await this.sample().catch(() => undefined);
      this.timer = setTimeout(() => void tick(), everyMs);
    };
    void tick();
  }

  /** one O_DIRECT read of every slot (the daemons write with O_DIRECT: no stale page cache) */
  async sample(): Promise<void> {
    const r = await execa('dd', [`if=${this.dev}`, 'iflag=direct', `bs=${this.slotSize}`, `count=${this.nodes}`, 'status=none'], { encoding: 'buffer', stdin: 'ignore' });
    const all = Buffer.from(r.stdout);
    this.samples++;
    for (let i = 0; i < this.nodes; i++) {
      const slot = all.subarray(i * this.slotSize, (i + 1) * this.slotSize);
      if (slot.subarray(0, 4).toString('latin1') !== 'FYDS') continue;
      this.written++;
      this.maxEnvelope = Math.max(this.maxEnvelope, slot.readUInt32BE(4));
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/** tx and rx bytes of eth0 in a node's network namespace (everything: beats, TCP, ARP) */
export async function linkBytes(netns: string): Promise<{ tx: number; rx: number }> {
  const j = JSON.parse(await sh('ip', ['-n', netns, '-s', '-j', 'link', 'show', 'eth0'])) as { stats64: { tx: { bytes: number }; rx: { bytes: number } } }[];
  return { tx: j[0]!.stats64.tx.bytes, rx: j[0]!.stats64.rx.bytes };
}

/** CPU time (user + system) of a process, ms */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** resident memory of a process, MiB */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
