// Scale soak (issue 9, acceptance "Scale"): 3 lab nodes running real agents (`nodemgr daemon
// run`, 1 s tick), 5000 services each (`orchestrate = ha`, no resources: a start only records
// the expected state, so placing them is cheap), one unicast heartbeat and one disk heartbeat
// at 1 s / 3 s. Times the formation of a quorate cluster and the placement of every service,
// then holds the cluster SOAK_MINUTES (default 10) and counts `peer.down` events in the
// daemon logs. Measured on the real objects: every UDP datagram each node sends (tcpdump in
// its namespace), the disk slots (read from the device), each node's eth0 byte counters idle
// and while 100 services change state (svcmgr freeze/thaw/stop/start in a loop), the
// daemons' CPU, and svcmon's latency inside a node. Root; ~15 min at the default.
// Run: flock /tmp/ferry-heavy.lock node dist/bench/run.js soak-scale. Figures: docs/benchmarks.md.
import fs from 'node:fs';
import os from 'node:os';
import { Lab } from '../src/lab/lab.js';
import { cli } from '../test/helpers/cluster-lab.js';
import type { SvcmonModel } from '../src/daemon/svcmon-model.js';
import { median, sleep } from './common.js';
import { DatagramCapture, SlotSampler, cpuMs, linkBytes, rssMiB } from './soak-probes.js';

const NODES = ['n1', 'n2', 'n3'];
const SERVICES = Number(process.env.SOAK_SERVICES ?? 5000);
const SOAK_MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
/** seconds of each traffic window (idle, busy) */
const WINDOW_S = Number(process.env.SOAK_WINDOW_S ?? 60);
const CHANGING = 100;
const SLOT_SIZE = 4096;
const SVCMON_RUNS = 7;
const TARGET = { beatBytes: 1024, slotBytes: SLOT_SIZE, idleBytesPerS: 20_000, svcmonMs: 500, peerDown: 0 };

const say = (s: string) => process.stderr.write(`[soak-scale ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);
const svcName = (i: number) => `sc${String(i).padStart(4, '0')}`;

/** service i's nodes: rotated so that each node is the first of a third of them */
function nodesOf(i: number): string[] {
  const k = i % NODES.length;
  return [...NODES.slice(k), ...NODES.slice(0, k)];
}

async function model(lab: Lab, node: string, timeout = 60_000): Promise<SvcmonModel> {
  const r = await cli(lab, node, 'svcmon', ['--format', 'json'], timeout);
  if (!r.ok) throw new Error(`svcmon on ${node}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as SvcmonModel;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number, stepMs = 3000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** records of a daemon log with this event, at or after `since` */
type LogRecord = { time: number; event: string; peer?: string; svc?: string; kind?: string; ok?: boolean; max_ms?: number };
function logEvents(lab: Lab, node: string, event: string, since: number): LogRecord[] {
  const f = `${lab.root(node)}/log/daemon.log`;
  if (!fs.existsSync(f)) return [];
  const out: LogRecord[] = [];
  const needle = `"event":"${event}"`;
  for (const l of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!l.includes(needle)) continue;
    try {
      const e = JSON.parse(l) as LogRecord;
      if (e.event === event && e.time >= since) out.push(e);
    } catch {
      // a line being written
    }
  }
  return out;
}

async function timedExec(lab: Lab, node: string, args: string[]): Promise<{ ms: number; bytes: number; ok: boolean }> {
  const t0 = process.hrtime.bigint();
  const r = await cli(lab, node, 'svcmon', args, 60_000);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!r.ok) say(`svcmon ${args.join(' ')} on ${node} failed after ${Math.round(ms)} ms: exit ${r.exitCode}: ${r.stderr.trim().split('\n')[0]}`);
  return { ms, bytes: r.stdout.length, ok: r.ok };
}

/** eth0 tx bytes/s of every node over `seconds`, and the agents' CPU share over it */
async function window(lab: Lab, seconds: number, during?: (until: number) => Promise<number>): Promise<{ tx: number[]; rx: number[]; cpu: number[]; changes: number }> {
  const pids = NODES.map((n) => lab.agentPid(n)!);
  const before = await Promise.all(NODES.map((n) => linkBytes(lab.netns(n))));
  const cpu0 = pids.map(cpuMs);
  const t0 = Date.now();
  const until = t0 + seconds * 1000;
  const changes = during ? await during(until) : 0;
  const left = until - Date.now();
  if (left > 0) await sleep(left);
  const s = (Date.now() - t0) / 1000;
  const after = await Promise.all(NODES.map((n) => linkBytes(lab.netns(n))));
  return {
    tx: after.map((a, i) => Math.round((a.tx - before[i]!.tx) / s)),
    rx: after.map((a, i) => Math.round((a.rx - before[i]!.rx) / s)),
    cpu: pids.map((p, i) => Math.round(((cpuMs(p) - cpu0[i]!) / (s * 1000)) * 1000) / 10),
    changes: Math.round(changes / s),
  };
}

export async function soakScale(): Promise<Record<string, number>> {
  const lab = await Lab.create({ nodes: NODES.length, links: 1, prefix: 'fysk', disks: { heartbeat: 8, data: 0 } });
  const captures: DatagramCapture[] = [];
  let slots: SlotSampler | undefined;
  // stopped (timeout, ^C): the agents must not outlive the bench
  const onSignal = (sig: NodeJS.Signals) => {
    say(`${sig}: tearing the lab down`);
    for (const c of captures) c.stop();
    void lab.destroy().finally(() => process.exit(130));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const dev = lab.heartbeatDisk!;
    lab.writeClusterConf({
      interval: '1s', timeout: '3s', disk: false,
      extra: ['[hb#2]', 'type = disk', `dev = ${dev}`, 'interval = 1s', 'timeout = 3s', `slot_size = ${SLOT_SIZE}`].join('\n'),
    });
    for (const n of NODES) {
      const dir = `${lab.root(n)}/etc/services`;
      for (let i = 1; i <= SERVICES; i++) fs.writeFileSync(`${dir}/${svcName(i)}.env`, ['[DEFAULT]', `nodes = ${nodesOf(i).join(' ')}`, 'orchestrate = ha', ''].join('\n'));
    }
    say(`lab ${lab.id}: ${SERVICES} services written on ${NODES.join(' ')}; load ${load().join(' ')}`);
    for (const n of NODES) captures.push(new DatagramCapture(lab, n));
    slots = new SlotSampler(dev, SLOT_SIZE, NODES.length);
    slots.start(2000);
    await sleep(1000);
    const t0 = Date.now();
    for (const n of NODES) lab.startAgent(n);
    // formation, from the daemons' logs (svcmon's view of 15000 instances is slow to ask for
    // while the agents start): every node saw both peers up and its last quorum event is gained
    await waitFor('a quorate cluster', async () => {
      for (const n of NODES) {
        const ups = new Set(logEvents(lab, n, 'peer.up', t0).map((e) => e.peer));
        if (NODES.some((p) => p !== n && !ups.has(p))) return undefined;
        const q = ['quorum.gained', 'quorum.lost'].flatMap((ev) => logEvents(lab, n, ev, t0).map((e) => ({ ...e, ev }))).sort((a, b) => a.time - b.time);
        if (q.at(-1)?.ev !== 'quorum.gained') return undefined;
      }
      return true;
    }, 15 * 60_000);
    const formedMs = Date.now() - t0;
    say(`quorate after ${formedMs} ms; load ${load().join(' ')}`);
    // placement: every service started once, on its first node (the daemons' action records)
    let lastCount = -1;
    const placed = await waitFor('every service placed', async () => {
      const per = NODES.map((n) => new Set(logEvents(lab, n, 'daemon.action.end', t0).filter((e) => e.kind === 'start' && e.ok === true).map((e) => e.svc)).size);
      const ok = per.reduce((a, b) => a + b, 0);
      if (ok !== lastCount) say(`started ${ok}/${SERVICES} (${per.join('/')})`);
      lastCount = ok;
      return ok >= SERVICES ? per : undefined;
    }, 20 * 60_000, 5000);
    const placedMs = Date.now() - t0;
    say(`all ${SERVICES} placed after ${placedMs} ms (${placed.join('/')}); load ${load().join(' ')}`);
    // the main threads' worst delay (daemon.loop-lag, logged per 30 s window past 250 ms) and the state channel's failures
    const lagMax = (since: number, until = Infinity) => NODES.map((n) => Math.max(0, ...logEvents(lab, n, 'daemon.loop-lag', since).filter((e) => e.time <= until).map((e) => e.max_ms ?? 0)));
    const placeLag = lagMax(t0);
    const chanCount = (ev: string, since: number) => NODES.reduce((a, n) => a + logEvents(lab, n, ev, since).length, 0);
    say(`placement: main thread delay max ms ${placeLag.join(' ')}; statechan_unreachable ${chanCount('statechan_unreachable', t0)}, statechan_recovered ${chanCount('statechan_recovered', t0)}`);
    await sleep(10_000);
    const soakStart = Date.now();
    const soakEnd = soakStart + SOAK_MINUTES * 60_000;
    const loads: number[][] = [load()];
    // idle traffic
    const idle = await window(lab, WINDOW_S);
    loads.push(load());
    say(`idle: tx B/s ${idle.tx.join(' ')}, agents' CPU % ${idle.cpu.join(' ')}; load ${load().join(' ')}`);
    // 100 services of n1 changing state: freeze, thaw, stop, start, again
    const mine = Array.from({ length: SERVICES }, (_, i) => i + 1).filter((i) => nodesOf(i)[0] === 'n1').slice(0, CHANGING).map(svcName);
    const steps = ['freeze', 'thaw', 'stop', 'start'];
    const stepMs: Record<string, number[]> = Object.fromEntries(steps.map((s) => [s, []]));
    const busy = await window(lab, WINDOW_S, async (until) => {
      let changed = 0;
      for (let k = 0; Date.now() < until || k % steps.length !== 0; k++) {
        const step = steps[k % steps.length]!;
        const t = Date.now();
        const r = await cli(lab, 'n1', 'svcmgr', ['-s', mine.join(','), step], 120_000);
        if (!r.ok) throw new Error(`svcmgr ${step} on n1: exit ${r.exitCode}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
        stepMs[step]!.push(Date.now() - t);
        changed += mine.length;
      }
      return changed;
    });
    loads.push(load());
    say(`busy (${busy.changes} service changes/s): tx B/s ${busy.tx.join(' ')}, agents' CPU % ${busy.cpu.join(' ')}; steps ms ${steps.map((s) => `${s} ${median(stepMs[s]!)}`).join(', ')}; load ${load().join(' ')}`);
    // svcmon inside n1, cluster idle again
    await sleep(5000);
    const text: number[] = [];
    const json: number[] = [];
    const help: number[] = [];
    let textBytes = 0;
    let jsonBytes = 0;
    let svcmonFailed = 0;
    for (let i = 0; i < SVCMON_RUNS; i++) {
      const a = await timedExec(lab, 'n1', []);
      const b = await timedExec(lab, 'n1', ['--format', 'json']);
      help.push((await timedExec(lab, 'n1', ['--help'])).ms);
      text.push(a.ms);
      json.push(b.ms);
      svcmonFailed += (a.ok ? 0 : 1) + (b.ok ? 0 : 1);
      textBytes = a.bytes;
      jsonBytes = b.bytes;
    }
    loads.push(load());
    say(`svcmon text median ${median(text).toFixed(0)} max ${Math.max(...text).toFixed(0)} ms (${textBytes} bytes), json median ${median(json).toFixed(0)} max ${Math.max(...json).toFixed(0)} ms (${jsonBytes} bytes), --help ${median(help).toFixed(0)} ms`);
    // hold the rest of the soak, watching that nobody leaves
    while (Date.now() < soakEnd) {
      await sleep(Math.min(30_000, soakEnd - Date.now()));
      const downs = NODES.flatMap((n) => logEvents(lab, n, 'peer.down', soakStart));
      say(`soak ${Math.round((Date.now() - soakStart) / 1000)} s / ${SOAK_MINUTES * 60} s: ${downs.length} peer down; load ${load().join(' ')}`);
      loads.push(load());
    }
    const idleEnd = await window(lab, WINDOW_S);
    const soakS = (Date.now() - soakStart) / 1000;
    const final = await Promise.all(NODES.map((n) => model(lab, n).catch((e: Error) => (say(e.message), undefined))));
    const downs = NODES.flatMap((n) => logEvents(lab, n, 'peer.down', soakStart).map((e) => ({ ...e, on: n })));
    const quorumLost = NODES.flatMap((n) => logEvents(lab, n, 'quorum.lost', soakStart));
    // from the logs: every node's last quorum event is gained (svcmon's view is checked too when it answers)
    const lastQuorum = (n: string) => ['quorum.gained', 'quorum.lost'].flatMap((ev) => logEvents(lab, n, ev, t0).map((e) => ({ ...e, ev }))).sort((a, b) => a.time - b.time).at(-1)?.ev;
    const quorateAtEnd = NODES.every((n) => lastQuorum(n) === 'quorum.gained') && final.every((m) => m === undefined || (m.nodes[m.nodename]?.payload?.quorum?.state === 'quorate' && NODES.every((p) => p === m.nodename || m.nodes[p]?.state === 'up')));
    const placedAtEnd = Object.values(final[0]?.services ?? {}).filter((s) => s.runningOn.length === 1).length;
    const sealedMax = Math.max(0, ...final.flatMap((m) => (m?.hb?.heartbeats ?? []).map((h) => h.maxBytes ?? 0)));
    const dgrams = captures.map((c) => c.sizes());
    const udpMax = Math.max(...dgrams.map((d) => d.max));
    await slots.sample();
    const rss = NODES.map((n) => rssMiB(lab.agentPid(n)!));
    const figures = {
      nodes: NODES.length, services: SERVICES, soak_s: Math.round(soakS),
      formed_quorate_ms: formedMs, all_placed_ms: placedMs,
      placed_n1: placed[0]!, placed_n2: placed[1]!, placed_n3: placed[2]!, placed_at_end: placedAtEnd, quorate_at_end: quorateAtEnd ? 1 : 0,
      peer_down_events: downs.length, quorum_lost_events: quorumLost.length,
      udp_datagrams_captured: dgrams.reduce((a, d) => a + d.count, 0), udp_payload_max_bytes: udpMax, sealed_beat_max_bytes: sealedMax,
      disk_slot_samples: slots.samples, disk_slot_envelope_max_bytes: slots.maxEnvelope, disk_slot_bytes_max: slots.maxEnvelope + 16,
      idle_tx_bytes_per_s_max: Math.max(...idle.tx), idle_tx_n1: idle.tx[0]!, idle_tx_n2: idle.tx[1]!, idle_tx_n3: idle.tx[2]!,
      idle_end_tx_bytes_per_s_max: Math.max(...idleEnd.tx),
      busy_service_changes_per_s: busy.changes, busy_tx_bytes_per_s_max: Math.max(...busy.tx), busy_tx_n1: busy.tx[0]!, busy_tx_n2: busy.tx[1]!, busy_tx_n3: busy.tx[2]!,
      busy_rx_n1: busy.rx[0]!,
      idle_agent_cpu_pct_max: Math.max(...idle.cpu), busy_agent_cpu_pct_max: Math.max(...busy.cpu), idle_end_agent_cpu_pct_max: Math.max(...idleEnd.cpu),
      agent_rss_mib_max: Math.max(...rss),
      svcmgr_100_freeze_ms: median(stepMs.freeze!), svcmgr_100_stop_ms: median(stepMs.stop!), svcmgr_100_start_ms: median(stepMs.start!),
      svcmon_text_median_ms: Math.round(median(text)), svcmon_text_max_ms: Math.round(Math.max(...text)), svcmon_text_bytes: textBytes,
      svcmon_json_median_ms: Math.round(median(json)), svcmon_json_max_ms: Math.round(Math.max(...json)), svcmon_json_bytes: jsonBytes,
      svcmon_failed_runs: svcmonFailed,
      svcmon_help_median_ms: Math.round(median(help)), svcmon_json_to_help_ratio: Math.round((median(json) / median(help)) * 100) / 100,
      loop_lag_placement_max_ms: Math.max(...placeLag), loop_lag_soak_max_ms: Math.max(...lagMax(soakStart)),
      statechan_unreachable_events: chanCount('statechan_unreachable', t0), statechan_recovered_events: chanCount('statechan_recovered', t0),
      load1_max: Math.max(...loads.map((l) => l[0]!)), load1_median: median(loads.map((l) => l[0]!)),
    };
    const line = (ok: boolean, what: string) => say(`${ok ? 'PASS' : 'FAIL'} ${what}`);
    line(quorateAtEnd && downs.length === TARGET.peerDown, `quorate ${Math.round(soakS)} s with ${downs.length} peer down (target 0)${downs.length ? `: ${downs.map((d) => `${d.on} saw ${d.peer} at ${new Date(d.time).toISOString()}`).join(', ')}` : ''}`);
    line(udpMax <= TARGET.beatBytes && sealedMax <= TARGET.beatBytes, `largest datagram ${udpMax} bytes captured, ${sealedMax} sealed (target <= ${TARGET.beatBytes})`);
    line(slots.maxEnvelope + 16 <= TARGET.beatBytes, `largest disk slot content ${slots.maxEnvelope + 16} bytes of ${SLOT_SIZE} (target <= ${TARGET.beatBytes})`);
    line(Math.max(...idle.tx, ...idleEnd.tx) <= TARGET.idleBytesPerS, `idle traffic ${Math.max(...idle.tx, ...idleEnd.tx)} B/s per node max (target <= ${TARGET.idleBytesPerS})`);
    say(`info busy traffic ${Math.max(...busy.tx)} B/s per node max with ${busy.changes} service changes/s`);
    line(svcmonFailed === 0 && Math.max(...text, ...json) <= TARGET.svcmonMs, `svcmon max ${Math.round(Math.max(...text))} ms text, ${Math.round(Math.max(...json))} ms json (target <= ${TARGET.svcmonMs})${svcmonFailed ? `, ${svcmonFailed} runs failed` : ''}`);
    return figures;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    for (const c of captures) c.stop();
    slots?.stop();
    const problems = await lab.destroy();
    if (problems.length) say(`lab ${lab.id} teardown: ${problems.join('; ')}`);
  }
}
