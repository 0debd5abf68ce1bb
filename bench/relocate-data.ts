// Relocation of a service whose data lives on each node's own disk (docs/benchmarks.md,
// "Relocation with data"; docs/data-mobility.md), three variants in the same run, each in its
// own 2-node lab (real agents, no shared disk):
//   - rsync: [sync#1] type = rsync, `svcmgr relocate --to` (two-phase: copy while running,
//     stop, final delta, start on the target);
//   - btrfs: [sync#1] type = btrfs, each node its own btrfs on a loop device, the same relocate
//     (snapshot sent while running, stop, incremental send, start from the received snapshot);
//   - naive: no sync resource, orchestrate = no: `svcmgr stop` on the owner, a full copy of the
//     volume with a plain `rsync -a --stats` over the lab network (rsync protocol over TCP to an
//     rsync daemon in the target node, into an empty directory), `svcmgr start` on the target.
// The service: a busybox container (the local test image) with the volume at /data:
//   /data/f/<k>, k = 0..FILES-1: FILES files of 1 MiB (+ a header line: the record number
//   that last wrote it), pre-filled (records 1..FILES); /data/records: one line per record.
// While it runs the container writes record n = last + 1 every 0.1 s: 1 MiB of new random data
// into /data/f/<n mod FILES> (written to a temp file, renamed), then appends n to
// /data/records: 10 MiB/s (10.5 MB/s) of writes, the volume stays FILES MiB.
// Per relocation:
//   - the command's own report (`svcmgr relocate --format json`: phase 1 passes/bytes/ms,
//     phase 2 bytes/ms, stop, downtime from the stop's start to the service up on the target;
//     naive: the stop, copy and start commands, timed by the bench);
//   - client-visible gap, measured independently: the bench stats both nodes' records files
//     every 5 ms; gap = mtime of the first record appended on the target − mtime of the last
//     record appended on the old owner (the writer's own cadence, ~0.1 s, is in it);
//   - correctness: the target's records begin with every record of the old owner (after its
//     stop), go on from the last one, and every data file on the target is byte-identical to
//     the old owner's copy (or was rewritten since by the target's writer: header > last record).
// Runs alternate n1 → n2, n2 → n1; the first relocation of a two-phase variant copies the whole
// volume in phase 1 (no copy on the target yet), the next ones start from the copy left by the
// previous one (warm). The naive target is emptied before each stop (a full copy every time).
//
//   npm run build && flock /tmp/ferry-heavy.lock node dist/bench/run.js relocate-data
//   RELOC_FILES=n (1 MiB files, default 1024 = 1 GiB), RELOC_RUNS=n (per variant, default 3),
//   RELOC_VARIANTS=rsync,btrfs,naive, RELOC_SETTLE_S=s (run time before each relocation, default 5),
//   RELOC_UNTIL=<epoch ms> (no new relocation after it, at least one per variant), RELOC_TIMELINE=1
//   RELOC_BWLIMIT=<rsync --bwlimit, e.g. 110m>: a modelled link (1 Gbit/s ≈ 110m: MiB/s of
//   payload), the same for every variant: the naive copy and every rsync push of the rsync
//   variant (phase 1 and phase 2, `options = --bwlimit=...`), and every btrfs send of the btrfs
//   variant (`bwlimit = <KiB/s>`: ferry's pipe from btrfs send into the transport). Off by
//   default: the default figures are at loopback speed (memory to memory, ~1 GB/s here).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../src/lab/lab.js';
import { parseStats } from '../src/resources/sync-rsync.js';
import type { RelocateResult } from '../src/cli/relocate.js';
import { cli, median, sh, sleep, waitFor } from './common.js';

const FILES = Number(process.env.RELOC_FILES ?? 1024);
const RUNS = Number(process.env.RELOC_RUNS ?? 3);
const SETTLE_MS = Number(process.env.RELOC_SETTLE_S ?? 5) * 1000;
const VARIANTS = (process.env.RELOC_VARIANTS ?? 'rsync,btrfs,naive').split(',') as Variant[];
const UNTIL = Number(process.env.RELOC_UNTIL ?? 0);
const BWLIMIT = process.env.RELOC_BWLIMIT ?? '';
if (BWLIMIT && !/^\d+[kmg]?$/i.test(BWLIMIT)) throw new Error(`RELOC_BWLIMIT=${BWLIMIT}: an rsync --bwlimit rate (e.g. 110m)`);
const BW_ARGS = BWLIMIT ? [`--bwlimit=${BWLIMIT}`] : [];
/** the same rate in KiB/s, for the btrfs resource's bwlimit (rsync: a bare number is KiB/s, k/m/g multiply by 1024) */
const BW_KIB = BWLIMIT ? Math.round(Number(BWLIMIT.replace(/[kmg]$/i, '')) * ({ k: 1, m: 1024, g: 1024 * 1024 }[BWLIMIT.slice(-1).toLowerCase()] ?? 1)) : 0;
const IMAGE = process.env.FERRY_TEST_IMAGE ?? 'ferry/busybox:latest';
const MIB = 1048576;
const RSYNCD_PORT = 8730;
const PAIR = ['n1', 'n2'] as const;
type Variant = 'rsync' | 'btrfs' | 'naive';

const other = (n: string) => (n === 'n1' ? 'n2' : 'n1');

// the writer: braces are config references ({env.data}), so a subshell and no `%`
const WRITER = `/bin/sh -c "trap 'exit 0' TERM; n=$(wc -l < /data/records); while :; do sleep 0.1 & n=$((n+1)); k=$((n - n / ${FILES} * ${FILES})); (echo $n; head -c ${MIB} /dev/urandom) > /data/f/.w; mv /data/f/.w /data/f/$k; echo $n >> /data/records; wait; done"`;

function serviceFile(v: Variant, root: string): string {
  const data = `${root}/{nodename}/data`;
  return [
    '[DEFAULT]', `nodes = ${PAIR.join(' ')}`, `orchestrate = ${v === 'naive' ? 'no' : 'ha'}`, '',
    '[env]', `data = ${data}`, '',
    '[container#1]', 'type = docker', `run_image = ${IMAGE}`, 'run_args = --network none -v {env.data}:/data', `run_command = ${WRITER}`, 'stop_timeout = 5s', '',
    ...(v === 'rsync' ? ['[sync#1]', 'type = rsync', 'src = {env.data}', ...BW_ARGS.map((a) => `options = ${a}`), ''] : []),
    ...(v === 'btrfs' ? ['[sync#1]', 'type = btrfs', 'src = {env.data}', 'keep = 2', ...(BW_KIB ? [`bwlimit = ${BW_KIB}`] : []), ''] : []),
  ].join('\n');
}

/** FILES files of 1 MiB of random data (header: the record that wrote it) and the records 1..FILES. */
function prefill(dir: string): void {
  fs.mkdirSync(path.join(dir, 'f'), { recursive: true });
  const rec: string[] = [];
  for (let n = 1; n <= FILES; n++) {
    fs.writeFileSync(path.join(dir, 'f', String(n % FILES)), Buffer.concat([Buffer.from(`${n}\n`), crypto.randomBytes(MIB)]));
    rec.push(String(n));
  }
  fs.writeFileSync(path.join(dir, 'records'), rec.join('\n') + '\n');
}

function readRecords(dir: string): number[] {
  const f = path.join(dir, 'records');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter((l) => l).map(Number);
}

const header = (b: Buffer): number => Number(b.subarray(0, b.indexOf(10)).toString());

/** Every record of the old owner on the target, continued from; every file identical or rewritten since by the target. */
function verify(from: string, to: string): { records: number; identical: number; rewritten: number } {
  const src = readRecords(from);
  const dst = readRecords(to);
  const last = src.length;
  if (!src.every((v, i) => v === i + 1)) throw new Error(`records of the old owner not 1..n (${from})`);
  for (let i = 0; i < last; i++) if (dst[i] !== src[i]) throw new Error(`record ${i + 1} missing or different on the target (${to}: ${dst[i]})`);
  if (!dst.every((v, i) => v === i + 1)) throw new Error(`records on the target not 1..n (${to})`);
  let identical = 0;
  let rewritten = 0;
  for (let k = 0; k < FILES; k++) {
    const a = fs.readFileSync(path.join(from, 'f', String(k)));
    const b = fs.readFileSync(path.join(to, 'f', String(k)));
    if (a.equals(b)) identical++;
    else if (header(b) > last) rewritten++;
    else throw new Error(`f/${k} differs on the target: header ${header(b)}, old owner's ${header(a)} (last record ${last})`);
  }
  return { records: last, identical, rewritten };
}

/**
 * stat the target's records file every 5 ms, keeping each change (size, mtime): after the
 * fact, the first change past the old owner's final size is the target's first record, and
 * its mtime is when it was written (appends come every ~0.1 s, far slower than the polling).
 */
class GapProbe {
  private readonly timer: NodeJS.Timeout;
  private readonly changes: { size: number; mtime: number }[] = [];
  private last = -1;
  constructor(private readonly fromRec: string, private readonly toRec: string) {
    this.timer = setInterval(() => this.poll(), 5);
  }
  private poll(): void {
    try {
      const st = fs.statSync(this.toRec);
      if (st.size !== this.last) {
        this.last = st.size;
        this.changes.push({ size: st.size, mtime: st.mtimeMs });
      }
    } catch {
      // replaced (btrfs prepare) or not there yet
    }
  }
  /** after the old owner stopped: its records file no longer changes */
  async result(timeoutMs: number): Promise<{ gapMs: number; lastWrite: number; firstWrite: number }> {
    const st = fs.statSync(this.fromRec);
    const f = await waitFor('the target to write', () => this.changes.find((c) => c.size > st.size), timeoutMs, 20);
    return { gapMs: Math.round(f.mtime - st.mtimeMs), lastWrite: st.mtimeMs, firstWrite: f.mtime };
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

interface Run {
  dir: string;
  cold: boolean;
  /** the command's own figures */
  phase1_passes?: number;
  phase1_bytes?: number;
  phase1_ms?: number;
  phase2_bytes?: number;
  phase2_ms?: number;
  stop_ms: number;
  copy_bytes?: number;
  copy_ms?: number;
  start_ms?: number;
  reported_downtime_ms: number;
  /** the command's upMs: the stop's start to the target publishing up (start_settle and the status read in it) */
  reported_up_ms?: number;
  cmd_ms: number;
  /** independent: records files */
  client_gap_ms: number;
  bytes_total: number;
  records: number;
  files_identical: number;
  files_rewritten: number;
}

class VariantBench {
  readonly root: string;
  private loops: string[] = [];
  private lab!: Lab;
  private svc = '';
  private owner = 'n1';
  private rsyncd: number[] = [];

  constructor(readonly v: Variant, base: string) {
    this.root = path.join(base, v);
  }
  dataDir(n: string): string {
    return path.join(this.root, n, 'data');
  }

  async setup(): Promise<void> {
    for (const n of PAIR) fs.mkdirSync(path.join(this.root, n), { recursive: true });
    if (this.v === 'btrfs') {
      for (const n of PAIR) {
        const img = path.join(this.root, `${n}.img`);
        fs.writeFileSync(img, '');
        fs.truncateSync(img, Math.max(2 * 1024, FILES * 4) * MIB);
        const dev = (await sh('losetup', ['--find', '--show', img])).trim();
        this.loops.push(dev);
        await sh('mkfs.btrfs', ['-q', '-f', dev]);
        await sh('mount', [dev, path.join(this.root, n)]);
      }
      await sh('btrfs', ['subvolume', 'create', this.dataDir('n1')]);
    }
    prefill(this.dataDir('n1'));
    if (this.v === 'naive') fs.mkdirSync(this.dataDir('n2'), { recursive: true });
    this.lab = await Lab.create({ nodes: 2, links: 1, disks: { heartbeat: 8, data: 0 } });
    this.svc = `r${this.lab.id}`;
    this.lab.writeClusterConf({ cluster: ['quorum = false'] });
    for (const n of PAIR) fs.writeFileSync(path.join(this.lab.root(n), 'etc', 'services', `${this.svc}.env`), serviceFile(this.v, this.root));
    for (const n of PAIR) this.lab.startAgent(n);
    if (this.v === 'naive') {
      for (const n of PAIR) {
        const conf = path.join(this.lab.root(n), 'etc', 'rsyncd.conf');
        fs.writeFileSync(conf, `use chroot = no\n[data]\npath = ${this.dataDir(n)}\nread only = false\nuid = 0\ngid = 0\n`);
        this.rsyncd.push(this.lab.spawn(n, 'rsync', ['--daemon', '--no-detach', `--config=${conf}`, `--address=${this.lab.address(n)}`, `--port=${RSYNCD_PORT}`], { logFile: path.join(this.lab.root(n), 'log', 'rsyncd.out') }).pid);
      }
      await waitFor('cluster up', () => this.svcState('n1').then((s) => s !== undefined), 30_000, 200);
      const r = await this.svcmgr('n1', ['start']);
      if (!r.ok) throw new Error(`start on n1: ${r.stderr}`);
    }
    await waitFor(`${this.svc} up on n1`, async () => (await this.svcState('n1')) === 'up', 60_000, 200);
    await waitFor('the writer to write', () => readRecords(this.dataDir('n1')).length > FILES + 5, 30_000, 100);
  }

  private svcmgr(n: string, args: string[], timeout = 600_000) {
    return this.lab.exec(n, process.execPath, [cli('svcmgr'), '-s', this.svc, ...args], { timeout });
  }

  private async svcState(n: string): Promise<string | undefined> {
    const r = await this.lab.exec(n, process.execPath, [cli('svcmon'), '--format', 'json'], { timeout: 15_000 });
    if (!r.ok) return undefined;
    try {
      const v = JSON.parse(r.stdout) as { nodes: Record<string, { payload?: { services: Record<string, { avail: string; monitor: string }> } }> };
      const s = v.nodes[n]?.payload?.services[this.svc];
      return s ? (s.avail === 'up' && s.monitor === 'idle' ? 'up' : s.avail) : 'none';
    } catch {
      return undefined;
    }
  }

  async relocate(cold: boolean): Promise<Run> {
    const from = this.owner;
    const to = other(from);
    await sleep(SETTLE_MS);
    const logs = PAIR.flatMap((n) => [path.join(this.lab.root(n), 'log', 'daemon.log'), path.join(this.lab.root(n), 'log', `${this.svc}.log`)]);
    const offsets = logs.map((f) => (fs.existsSync(f) ? fs.statSync(f).size : 0));
    const tStart = Date.now();
    const probe = new GapProbe(path.join(this.dataDir(from), 'records'), path.join(this.dataDir(to), 'records'));
    try {
      let run: Omit<Run, 'client_gap_ms' | 'records' | 'files_identical' | 'files_rewritten' | 'dir' | 'cold'>;
      if (this.v === 'naive') {
        // a full copy: the target's directory emptied first (not in the downtime)
        fs.rmSync(this.dataDir(to), { recursive: true, force: true });
        fs.mkdirSync(this.dataDir(to));
        const t0 = Date.now();
        const st = await this.svcmgr(from, ['stop']);
        const t1 = Date.now();
        if (!st.ok) throw new Error(`stop on ${from}: ${st.stderr}`);
        const cp = await this.lab.exec(from, 'rsync', ['-a', '--stats', ...BW_ARGS, `${this.dataDir(from)}/`, `rsync://${this.lab.address(to)}:${RSYNCD_PORT}/data/`], { timeout: 600_000 });
        const t2 = Date.now();
        if (!cp.ok) throw new Error(`rsync ${from} -> ${to}: ${cp.stderr}`);
        const sr = await this.svcmgr(to, ['start']);
        const t3 = Date.now();
        if (!sr.ok) throw new Error(`start on ${to}: ${sr.stderr}`);
        const stats = parseStats(cp.stdout);
        // the same bounds as the relocate command's downtime, from the service logs: the stop
        // action begins on the owner → the container runs on the target (its start_settle
        // check after it not counted); the commands' own time (CLI start-ups) is cmd_ms
        const svcLog = (n: string) => path.join(this.lab.root(n), 'log', `${this.svc}.log`);
        const stopAt = logTime(svcLog(from), offsets[logs.indexOf(svcLog(from))]!, (e) => e.event === 'action.begin' && e.action === 'stop');
        const runAt = logTime(svcLog(to), offsets[logs.indexOf(svcLog(to))]!, (e) => e.msg === 'container running');
        const down = stopAt !== undefined && runAt !== undefined ? runAt - stopAt : t3 - t0;
        run = { stop_ms: t1 - t0, copy_bytes: stats.bytes, copy_ms: t2 - t1, start_ms: t3 - t2, reported_downtime_ms: down, reported_up_ms: t3 - (stopAt ?? t0), cmd_ms: t3 - t0, bytes_total: stats.bytes };
      } else {
        const t0 = Date.now();
        const r = await this.svcmgr(from, ['--format', 'json', 'relocate', '--to', to, '--wait', '600'], 700_000);
        const cmdMs = Date.now() - t0;
        if (!r.ok) throw new Error(`relocate ${from} -> ${to}: exit ${r.exitCode}: ${r.stderr.trim()}`);
        const res = JSON.parse(r.stdout) as RelocateResult;
        const x = res.transfer;
        if (!x) throw new Error(`relocate ${from} -> ${to}: no transfer in the report: ${r.stdout}`);
        run = {
          phase1_passes: x.phase1.passes, phase1_bytes: x.phase1.bytes, phase1_ms: x.phase1.ms, phase2_bytes: x.phase2.bytes, phase2_ms: x.phase2.ms,
          stop_ms: x.stopMs, reported_downtime_ms: x.downtimeMs, reported_up_ms: x.upMs, cmd_ms: cmdMs, bytes_total: x.phase1.bytes + x.phase2.bytes,
        };
      }
      const gap = await probe.result(60_000);
      // the target writes on while the files are compared: records/f rewritten since are newer
      const ok = verify(this.dataDir(from), this.dataDir(to));
      this.owner = to;
      const out: Run = { dir: `${from}->${to}`, cold, ...run, client_gap_ms: gap.gapMs, records: ok.records, files_identical: ok.identical, files_rewritten: ok.rewritten };
      console.error(JSON.stringify({ variant: this.v, ...out }));
      if (process.env.RELOC_TIMELINE) console.error(timeline(logs, offsets, tStart, gap));
      return out;
    } finally {
      probe.stop();
    }
  }

  async teardown(): Promise<void> {
    for (const pid of this.rsyncd) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    if (this.lab) {
      const problems = await this.lab.destroy();
      if (problems.length) console.error(`lab ${this.lab.id} teardown: ${problems.join('; ')}`);
    }
    if (this.v === 'btrfs') {
      for (const n of PAIR) await sh('umount', ['-l', path.join(this.root, n)]).catch(() => undefined);
      for (const d of this.loops) await sh('losetup', ['-d', d]).catch(() => undefined);
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

const r0 = (x: number) => Math.round(x);

/** epoch ms of the first JSON log line of `file` past `offset` that `pred` accepts */
function logTime(file: string, offset: number, pred: (e: { time: number; msg?: string; event?: string; action?: string }) => boolean): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  for (const l of fs.readFileSync(file).subarray(offset).toString('utf8').split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const e = JSON.parse(l) as { time: number; msg?: string; event?: string; action?: string };
      if (pred(e)) return e.time;
    } catch {
      // a line being written
    }
  }
  return undefined;
}

/** RELOC_TIMELINE=1: both nodes' daemon and service log lines of one relocation, ms from its start (health checks left out) */
function timeline(logs: string[], offsets: number[], t0: number, gap: { lastWrite: number; firstWrite: number }): string {
  const lines: { time: number; text: string }[] = [
    { time: gap.lastWrite, text: 'bench: last record on the old owner' },
    { time: gap.firstWrite, text: 'bench: first record on the target' },
  ];
  logs.forEach((f, i) => {
    if (!fs.existsSync(f)) return;
    const who = `${f.split('/').at(-3)} ${path.basename(f, '.log')}`;
    for (const l of fs.readFileSync(f).subarray(offsets[i]).toString('utf8').split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        const e = JSON.parse(l) as { time: number; msg: string; event?: string; [k: string]: unknown };
        if (/check|status/.test(e.msg) && !e.event?.startsWith('relocate')) continue;
        const extra = ['rid', 'bytes', 'ms', 'final'].filter((k) => e[k] !== undefined).map((k) => `${k}=${String(e[k])}`).join(' ');
        lines.push({ time: e.time, text: `${who}: ${e.msg}${e.event ? ` [${e.event}]` : ''} ${extra}` });
      } catch {
        // a line being written
      }
    }
  });
  return lines.sort((a, b) => a.time - b.time).map((l) => `  ${Math.round(l.time - t0)} ${l.text}`).join('\n');
}

export async function relocateData(): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) throw new Error('the relocate-data bench needs root (lab namespaces, loop devices)');
  const base = fs.mkdtempSync('/var/tmp/ferry-relbench-');
  const load0 = os.loadavg();
  const results: Partial<Record<Variant, Run[]>> = {};
  try {
    for (const v of VARIANTS) {
      const b = new VariantBench(v, base);
      try {
        await b.setup();
        const runs: Run[] = [];
        for (let i = 0; i < RUNS; i++) {
          // RELOC_UNTIL (epoch ms): no new relocation past it (a bounded run on a shared machine)
          if (i > 0 && UNTIL && Date.now() > UNTIL) {
            console.error(`relocate-data: RELOC_UNTIL passed, ${v}: ${i} run(s) of ${RUNS}`);
            break;
          }
          runs.push(await b.relocate(i === 0));
        }
        results[v] = runs;
      } finally {
        await b.teardown();
      }
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  const load1 = os.loadavg();
  const out: Record<string, number> = { files_mib: FILES, write_mib_s: 10, runs: RUNS };
  // the modelled link (RELOC_BWLIMIT), MiB/s; 0: loopback, no limit
  out.bwlimit_mib_s = BWLIMIT ? Number(BWLIMIT.replace(/[kmg]$/i, '')) * ({ k: 1 / 1024, m: 1, g: 1024 }[BWLIMIT.slice(-1).toLowerCase()] ?? 1 / 1024) : 0;
  const med = (rs: Run[], k: keyof Run) => median(rs.map((r) => r[k]).filter((x): x is number => typeof x === 'number'));
  for (const [v, rs] of Object.entries(results)) {
    const warm = rs.filter((r) => !r.cold);
    for (const k of ['reported_downtime_ms', 'reported_up_ms', 'client_gap_ms', 'stop_ms', 'phase2_ms', 'phase2_bytes', 'phase1_bytes', 'phase1_ms', 'phase1_passes', 'copy_ms', 'copy_bytes', 'start_ms', 'bytes_total', 'cmd_ms'] as const) {
      const xs = rs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
      if (!xs.length) continue;
      out[`${v}_${k}_median`] = r0(med(rs, k));
      out[`${v}_${k}_max`] = r0(Math.max(...xs));
      if (warm.length && v !== 'naive') out[`${v}_${k}_warm_median`] = r0(med(warm, k));
    }
    out[`${v}_records_checked`] = rs.reduce((a, r) => a + r.records, 0);
  }
  const naive = results.naive;
  for (const v of ['rsync', 'btrfs'] as const) {
    const rs = results[v];
    if (!rs || !naive) continue;
    const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
    out[`ratio_naive_over_${v}_client_gap`] = ratio(med(naive, 'client_gap_ms'), med(rs, 'client_gap_ms'));
    out[`ratio_naive_over_${v}_reported_downtime`] = ratio(med(naive, 'reported_downtime_ms'), med(rs, 'reported_downtime_ms'));
    // bytes moved while the service is down: the naive copy against phase 2
    out[`ratio_naive_over_${v}_bytes_while_down`] = ratio(med(naive, 'copy_bytes'), med(rs, 'phase2_bytes'));
    out[`ratio_naive_over_${v}_bytes_total`] = ratio(med(naive, 'bytes_total'), med(rs, 'bytes_total'));
  }
  out.loadavg1_start = Math.round(load0[0]! * 100) / 100;
  out.loadavg1_end = Math.round(load1[0]! * 100) / 100;
  console.error(JSON.stringify({ bench: 'relocate-data', raw: results }));
  return out;
}
