// Failover, ferry against keepalived, in one lab and the same runs (docs/benchmarks.md,
// "Failover (cluster)"). Lab of 3 nodes: n1 and n2 run a ferry agent each (service `web`:
// ip#1 on eth0 + a busybox httpd bound to the service address) AND a keepalived each (VRRP
// moving a bare VIP, busybox httpd on 0.0.0.0 in both nodes); n3 runs the TCP client, which
// fetches a page from both addresses every 20 ms. Each kill run powers off the node that owns
// both addresses (lab killNode) and times, from the instant of the kill:
//   - ferry: the service address on the survivor (ip monitor), the service up there (the
//     survivor's daemon log: "web start done"), and the client served again by the survivor;
//   - keepalived: its VIP on the survivor, and the client served again by the survivor.
// Then the killed node is booted again (agent, keepalived, httpd) and becomes the standby.
// Relocate runs: `svcmgr relocate` of the ferry service; the client-observed gap; then, as its
// reference in the same run, keepalived's planned switch (SIGTERM to the master: it resigns
// with a priority-0 advert) and the client's gap on the VIP.
// Heartbeat settings: 1s/3s vs advert 1 s (VRRPv2), 100ms/500ms vs advert 0.1 s (VRRPv3),
// each for the ip+app service and the "full" ip+fs+app one (ext4 on the lab's shared disk);
// informative extras: 100ms/300ms, and both settings without the disk heartbeat; 10 and 11:
// 100ms/300ms full service without and with fencing (issue 11's settings). These run
// with `quorum = false` and no STONITH: the no-fencing reference.
// Fencing settings (docs/fencing.md, docs/quorum.md), full service, quorum on (the default):
//   - "fence+arb": [stonith#n1]/[stonith#n2] with the lab fence agent and an [arbitrator#1]
//     (`nodemgr arbitrator` in n3): the survivor gets the arbitrator's vote, fences the dead
//     node at once (no fence_delay), then takes over;
//   - "fence-tie": the same STONITH, no arbitrator: the two-node tie is settled by the fence
//     race, n2 (second of `nodes`) waits fence_delay (2 s here) before fencing n1, n1 fences n2
//     at once. Kills alternate n1/n2, so half the runs pay the delay: figures also per victim.
// The bench kills the node itself first (lab killNode, same instant as the other settings);
// the survivor's fence then finds it off ("Already OFF"), so the fence duration measured is the
// agent's protocol round (off + status confirmation, processes spawned in the survivor), not a
// real power-off, which takes seconds.
// Every JSON line also carries the survivor's takeover path from its logs (detect, action
// begins, ip added, ip started = after the gratuitous ARP, fs started), when the victim's
// last heartbeat / VRRP advert reached the survivor (tcpdump, if installed) and the raw runs.
//
//   npm run build && node dist/bench/run.js failover
//   FAILOVER_RUNS=n (default 9), FAILOVER_CONFIGS=0,1 (indexes in CONFIGS),
//   FAILOVER_RELOCATE_RUNS=n (default FAILOVER_RUNS),
//   FAILOVER_TIMELINE=1 (the survivor's log lines of each takeover/relocation on stderr)
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../src/lab/lab.js';
import { labFenceAgent } from '../src/lab/cluster-conf.js';
import { LEASE_MS } from '../src/daemon/arbitrator-votes.js';
import { cli, median, readJsonLines, repoRoot, sleep, waitFor } from './common.js';
import { execFileSync } from 'node:child_process';
import { startHttpd, startKeepalived, stopKeepalived, type VrrpOptions } from './failover-keepalived.js';

const FERRY_VIP = '10.215.0.100';
const KA_VIP = '10.215.0.200';
const FERRY_PORT = 8080;
const KA_PORT = 8081;
const CLIENT_INTERVAL_MS = 20;
const CLIENT_TIMEOUT_MS = 200;
const SVC = 'web';
const PAIR = ['n1', 'n2'] as const;
const CLIENT = 'n3';
/** the arbitrator of the fence+arb settings runs in the client host */
const ARBITRATOR = 'n3';
const ARB_PORT = 1215;

interface Config {
  name: string;
  interval: string;
  timeout: string;
  vrrp: Omit<VrrpOptions, 'vip'>;
  tickMs?: number;
  /** "full service": an ext4 fs on the lab's shared data disk, the page served from it */
  fs?: boolean;
  /** the disk heartbeat too (default); false: the two network heartbeats only */
  disk?: boolean;
  /** informative, not one of the compared settings */
  extra?: boolean;
  /**
   * fencing: STONITH for both nodes (lab fence agent), quorum on (default); 'arb' adds an
   * arbitrator in n3, 'tie' has none (two-node fence race, fence_delay below). Unset: the
   * reference settings, `quorum = false` and no STONITH.
   */
  fence?: 'arb' | 'tie';
  /** [cluster] fence_delay of the 'tie' setting */
  fenceDelay?: string;
}

const CONFIGS: Config[] = [
  { name: 'hb 1s/3s vs advert 1s', interval: '1s', timeout: '3s', vrrp: { advert: 1, version: 2 } },
  { name: 'hb 100ms/500ms vs advert 0.1s', interval: '100ms', timeout: '500ms', vrrp: { advert: 0.1, version: 3 } },
  { name: 'hb 1s/3s vs advert 1s', interval: '1s', timeout: '3s', vrrp: { advert: 1, version: 2 }, fs: true },
  { name: 'hb 100ms/500ms vs advert 0.1s', interval: '100ms', timeout: '500ms', vrrp: { advert: 0.1, version: 3 }, fs: true },
  // VRRP declares the master dead after 3 adverts + skew: the same multiple for ferry
  { name: 'hb 100ms/300ms vs advert 0.1s', interval: '100ms', timeout: '300ms', vrrp: { advert: 0.1, version: 3 }, extra: true },
  // what the disk heartbeat adds to detection (a peer is dead only when every heartbeat is)
  { name: 'hb 1s/3s, network heartbeats only, vs advert 1s', interval: '1s', timeout: '3s', vrrp: { advert: 1, version: 2 }, disk: false, extra: true },
  { name: 'hb 100ms/500ms, network heartbeats only, vs advert 0.1s', interval: '100ms', timeout: '500ms', vrrp: { advert: 0.1, version: 3 }, disk: false, extra: true },
  // fencing (issue 4): full service, quorum on, STONITH for both nodes
  // 7: the recommended setting: an arbitrator settles who fences, no fence_delay
  { name: 'fence+arb, hb 1s/3s vs advert 1s', interval: '1s', timeout: '3s', vrrp: { advert: 1, version: 2 }, fs: true, fence: 'arb' },
  // 8: no arbitrator: the fence race, n2 waits fence_delay before fencing n1 (a lab power-off is
  //    instantaneous; a real one takes seconds, so a real fence_delay is longer)
  { name: 'fence-tie (fence_delay 2s), hb 1s/3s vs advert 1s', interval: '1s', timeout: '3s', vrrp: { advert: 1, version: 2 }, fs: true, fence: 'tie', fenceDelay: '2s' },
  // 9
  { name: 'fence+arb, hb 100ms/500ms vs advert 0.1s', interval: '100ms', timeout: '500ms', vrrp: { advert: 0.1, version: 3 }, fs: true, fence: 'arb' },
  // 10, 11 (issue 11): VRRP's own multiple (3 adverts + skew) for ferry's timeout, full service,
  // without and with fencing
  { name: 'hb 100ms/300ms vs advert 0.1s', interval: '100ms', timeout: '300ms', vrrp: { advert: 0.1, version: 3 }, fs: true },
  { name: 'fence+arb, hb 100ms/300ms vs advert 0.1s', interval: '100ms', timeout: '300ms', vrrp: { advert: 0.1, version: 3 }, fs: true, fence: 'arb' },
];

const execText = async (file: string, args: string[]): Promise<string> => execFileSync(file, args, { encoding: 'utf8' });
const intervalMs = (d: string): number => (d.endsWith('ms') ? Number(d.slice(0, -2)) : Number(d.replace(/s$/, '')) * 1000);
const other = (n: string) => (n === 'n1' ? 'n2' : 'n1');

interface LogLine {
  time: number;
  msg: string;
  [k: string]: unknown;
}

/** Does a log record carry these fields (its `event` and others: docs/events.md)? */
function isEvent(l: LogLine, want: Record<string, unknown>): boolean {
  return Object.entries(want).every(([k, v]) => l[k] === v);
}

/** the survivor's daemon started the service */
const WEB_STARTED = { event: 'daemon.action.end', svc: 'web', kind: 'start', ok: true };

const sizeOf = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);

/** `ip -ts monitor address` in a node's netns: the time each address appears. */
class AddrMonitor {
  private readonly proc: ChildProcess;
  readonly seen = new Map<string, number>();
  private buf = '';
  constructor(netns: string) {
    this.proc = spawn('ip', ['-ts', '-n', netns, 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        // [2026-11-22T02:28:51.658497] 2: eth0    inet 10.215.0.100/24 ...   (local time)
        const m = /^\[(\S+)\] (Deleted )?\d+: \S+\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
        if (m && !m[2] && !this.seen.has(m[3]!)) this.seen.set(m[3]!, new Date(m[1]!.slice(0, 23)).getTime());
      }
    });
  }
  stop(): void {
    this.proc.kill('SIGTERM');
  }
}

/**
 * tcpdump (if installed) in the survivor's netns: when the last network heartbeat and the
 * last VRRP advert of the victim arrived, so detection can be read against the timeout.
 */
class LastPackets {
  private readonly proc: ChildProcess | undefined;
  lastHb: number | undefined;
  lastVrrp: number | undefined;
  ready: Promise<void> = Promise.resolve();
  private buf = '';
  constructor(netns: string, victimAddrs: string[]) {
    if (!['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].some((f) => fs.existsSync(f))) return;
    const hosts = victimAddrs.map((a) => `src host ${a}`).join(' or ');
    this.proc = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', 'any', '-n', '-tt', '-l', `(${hosts}) and (udp port 10001 or udp port 10002 or ip proto 112)`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = this.proc;
    this.ready = new Promise((resolve) => {
      proc.stderr!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      proc.on('exit', () => resolve());
    });
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const t = Number(line.split(' ', 1)[0]) * 1000;
        if (!Number.isFinite(t)) continue;
        if (/VRRP/.test(line)) this.lastVrrp = t;
        else if (/UDP/.test(line)) this.lastHb = t;
      }
    });
  }
  stop(): void {
    this.proc?.kill('SIGTERM');
  }
}

function serviceFile(lab: Lab, c: Config): string {
  const mnt = `${lab.dir}/{nodename}/data`;
  const start = c.fs
    ? `/bin/sh -c "echo {nodename} > ${mnt}/index.html && exec /bin/busybox httpd -p ${FERRY_VIP}:${FERRY_PORT} -h ${mnt}"`
    : `/bin/busybox httpd -p ${FERRY_VIP}:${FERRY_PORT} -h ${lab.dir}/{nodename}/www`;
  const fsSection = c.fs ? `\n[fs#1]\ntype = ext4\ndev = ${lab.dataDisk}\nmnt = ${mnt}\n` : '';
  return `[DEFAULT]
nodes = ${PAIR.join(' ')}
orchestrate = ha

[ip#1]
ipname = ${FERRY_VIP}
ipdev = eth0
netmask = 24
${fsSection}
[app#1]
start = ${start}
stop = /bin/sh -c "kill $(ss -Hltnp 'sport = :${FERRY_PORT}' | grep -o 'pid=[0-9]*' | cut -d= -f2) 2>/dev/null; true"
check = /bin/sh -c "ss -Hltn 'sport = :${FERRY_PORT}' | grep -q ."
`;
}

/**
 * cluster.conf for the pair only (n3 is the client host, not a member): every heartbeat at the
 * same setting. Reference settings: `quorum = false`, no STONITH. Fencing settings: quorum on
 * (the default, no line), a [stonith#] section per node with the lab fence agent, and either
 * an [arbitrator#1] in n3 or `fence_delay`.
 */
function clusterConf(lab: Lab, c: Config): string {
  const hb = (k: number, lines: string[]) => [`[hb#${k}]`, ...lines, `interval = ${c.interval}`, `timeout = ${c.timeout}`, ''];
  const clusterLines = c.fence ? (c.fence === 'tie' && c.fenceDelay ? [`fence_delay = ${c.fenceDelay}`] : []) : ['quorum = false'];
  return [
    '[cluster]', `name = ${lab.id}`, `nodes = ${PAIR.join(' ')}`, 'secret_file = cluster.secret', ...clusterLines, '',
    ...hb(1, ['type = unicast', ...PAIR.map((n) => `addr@${n} = ${lab.address(n, 0)}`), 'port = 10001']),
    ...hb(2, ['type = unicast', ...PAIR.map((n) => `addr@${n} = ${lab.address(n, 1)}`), 'port = 10002']),
    ...(c.disk === false ? [] : hb(3, ['type = disk', `dev = ${lab.heartbeatDisk}`])),
    ...(c.fence ? PAIR.flatMap((n) => [`[stonith#${n}]`, `agent = ${labFenceAgent}`, 'timeout = 30s', '']) : []),
    ...(c.fence === 'arb' ? ['[arbitrator#1]', `addr = ${lab.address(ARBITRATOR, 0)}`, `port = ${ARB_PORT}`, 'timeout = 1s', ''] : []),
  ].join('\n');
}

interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
}
const stats = (xs: number[]): Stats | undefined =>
  xs.length ? { n: xs.length, median: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) } : undefined;

interface ClientEvent {
  target: 'ferry' | 'ka';
  ok: boolean;
  start: number;
  end: number;
  body?: string;
  /** end of the latest success before this line (failover-client.ts) */
  prevOkEnd?: number;
}

/** How long the client was not served before `back`, its first success by the new node: from the
 *  end of the latest success before it (the old node's last answer) to its end. The same figure for
 *  ferry and keepalived, whether or not an attempt was seen failing. */
const unservedBefore = (back: ClientEvent): number | undefined => (back.prevOkEnd === undefined ? undefined : Math.round(back.end - back.prevOkEnd));

class Bench {
  private owner = 'n1';
  /** when the last takeover's survivor heard the rebooted node again (it stops renewing the arbitrator's vote then) */
  private healedAt = 0;
  private kaPids = new Map<string, number>();
  private clientLog: string;
  constructor(
    private readonly lab: Lab,
    private readonly c: Config,
  ) {
    this.clientLog = path.join(lab.root(CLIENT), 'log', 'client.out');
  }

  private daemonLog(n: string): string {
    return path.join(this.lab.root(n), 'log', 'daemon.log');
  }
  private agentEnv(): Record<string, string> {
    return this.c.tickMs ? { FERRY_TICK_MS: String(this.c.tickMs) } : {};
  }
  private vrrp(): VrrpOptions {
    return { vip: KA_VIP, ...this.c.vrrp };
  }

  /** First record of the daemon log at or after offset with these fields (event and others: docs/events.md). */
  private eventTime(n: string, offset: number, want: Record<string, unknown>): number | undefined {
    return readJsonLines<LogLine>(this.daemonLog(n), offset).find((l) => isEvent(l, want))?.time;
  }

  private async hasAddr(n: string, addr: string): Promise<boolean> {
    const r = await this.lab.exec(n, 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    return r.stdout.includes(` ${addr}/`);
  }

  /** Latest client state per target, from the client's transitions. */
  private clientState(): Record<string, ClientEvent | undefined> {
    const ev = readJsonLines<ClientEvent>(this.clientLog);
    return { ferry: ev.filter((e) => e.target === 'ferry').at(-1), ka: ev.filter((e) => e.target === 'ka').at(-1) };
  }

  private async bootPair(n: string): Promise<void> {
    for (const d of ['www']) fs.mkdirSync(path.join(this.lab.root(n), d), { recursive: true });
    fs.writeFileSync(path.join(this.lab.root(n), 'www', 'index.html'), `${n}\n`);
    this.lab.startAgent(n, undefined, this.agentEnv());
    await startHttpd(this.lab, n, KA_PORT);
  }

  async setup(): Promise<void> {
    const conf = clusterConf(this.lab, this.c);
    const secret = `${crypto.randomBytes(32).toString('hex')}\n`;
    for (const n of PAIR) {
      const etc = path.join(this.lab.root(n), 'etc');
      fs.writeFileSync(path.join(etc, 'cluster.conf'), conf);
      fs.writeFileSync(path.join(etc, 'cluster.secret'), secret, { mode: 0o600 });
      fs.writeFileSync(path.join(etc, 'services', `${SVC}.env`), serviceFile(this.lab, this.c));
    }
    if (this.c.fence === 'arb') {
      // the arbitrator shares the cluster's secret (as test/integration/cluster-split.test.ts)
      const secretFile = path.join(this.lab.root(ARBITRATOR), 'etc', 'cluster.secret');
      fs.mkdirSync(path.dirname(secretFile), { recursive: true });
      fs.writeFileSync(secretFile, secret, { mode: 0o600 });
      const addr = this.lab.address(ARBITRATOR, 0);
      this.lab.startAgent(ARBITRATOR, [process.execPath, cli('nodemgr'), 'arbitrator', '--listen', `${addr}:${ARB_PORT}`, '--secret-file', secretFile, '--cluster', this.lab.id, '--restart-hold', '0']);
    }
    for (const n of PAIR) await this.bootPair(n);
    // n1 normally (first of nodes); on a loaded machine a short timeout may let n2 start it first
    const first = await waitFor('web up on n1 or n2', () => PAIR.find((n) => this.eventTime(n, 0, WEB_STARTED) !== undefined), 60_000, 50);
    this.owner = first;
    // the first agent up may have asked the arbitrator for its vote before it heard the other
    // (it keeps renewing until then): the lease wait of killRun counts from that moment too
    this.healedAt = await waitFor(`${first} sees ${other(first)}`, () => this.eventTime(first, 0, { event: 'peer.up', peer: other(first) }), 30_000, 50);
    // keepalived: the owner's first, so it becomes master; nopreempt keeps the other backup
    this.kaPids.set(first, startKeepalived(this.lab, first, this.vrrp()));
    await waitFor(`keepalived VIP on ${first}`, () => this.hasAddr(first, KA_VIP), 15_000, 100);
    this.kaPids.set(other(first), startKeepalived(this.lab, other(first), this.vrrp()));
    this.lab.spawn(CLIENT, process.execPath, [path.join(repoRoot, 'dist', 'bench', 'failover-client.js'), String(CLIENT_INTERVAL_MS), String(CLIENT_TIMEOUT_MS), `ferry=${FERRY_VIP}:${FERRY_PORT}`, `ka=${KA_VIP}:${KA_PORT}`], { logFile: this.clientLog });
    await this.steady();
  }

  /** Both addresses owned by this.owner, served to the client by it, the pair seeing each other. */
  private async steady(): Promise<void> {
    const o = this.owner;
    if (!(await this.hasAddr(o, KA_VIP))) {
      // keepalived master on the wrong node: make it resign there (SIGTERM sends priority 0)
      const wrong = other(o);
      await stopKeepalived(this.kaPids.get(wrong)!);
      await waitFor(`keepalived VIP on ${o}`, () => this.hasAddr(o, KA_VIP), 15_000, 100);
      this.kaPids.set(wrong, startKeepalived(this.lab, wrong, this.vrrp()));
    }
    await waitFor(`client served by ${o}`, () => {
      const s = this.clientState();
      return s.ferry?.ok && s.ferry.body === o && s.ka?.ok && s.ka.body === o;
    }, 30_000, 50);
    // the standby must have the owner's full state before the owner dies
    await sleep(1_500);
  }

  async killRun(): Promise<Record<string, number | undefined>> {
    const victim = this.owner;
    const peer = other(victim);
    const mon = new AddrMonitor(this.lab.netns(peer));
    const cap = new LastPackets(this.lab.netns(peer), [this.lab.address(victim, 0), this.lab.address(victim, 1)]);
    await Promise.race([cap.ready, sleep(3_000)]);
    if (this.c.fence === 'arb') {
      // the arbitrator keeps the vote of the last takeover's survivor for LEASE_MS after its last
      // renewal (it renews until it hears the rebooted node): a kill of that survivor before
      // then makes the other node wait for the lease to run out (measured: +1.2 s and +2.8 s in
      // such runs). Wait it out: the figures are those of a failure in a cluster that has been
      // whole for a while (docs/benchmarks.md says what the window costs).
      await sleep(Math.max(0, this.healedAt + LEASE_MS + 1_000 - Date.now()));
    }
    // the waits above end on the agents' own events (a beat arrives, the client is served):
    // without a random offset every kill would fall at the same phase of ferry's beat timer
    await sleep(200 + Math.random() * Math.max(intervalMs(this.c.interval), this.c.vrrp.advert * 1000));
    const logOff = sizeOf(this.daemonLog(peer));
    const clientOff = sizeOf(this.clientLog);
    const svcLog = path.join(this.lab.root(peer), 'log', `${SVC}.log`);
    const svcOff = sizeOf(svcLog);
    const k = Date.now();
    await this.lab.killNode(victim);
    const killMs = Date.now() - k;
    this.kaPids.delete(victim);
    const firstOk = (t: string) => readJsonLines<ClientEvent>(this.clientLog, clientOff).find((e) => e.target === t && e.ok && e.body === peer && e.end > k);
    try {
      await waitFor('takeover on both sides', () =>
        mon.seen.has(FERRY_VIP) && mon.seen.has(KA_VIP) && this.eventTime(peer, logOff, WEB_STARTED) && firstOk('ferry') && firstOk('ka'), 60_000, 50);
    } catch (e) {
      const state = {
        seen: Object.fromEntries(mon.seen), started: this.eventTime(peer, logOff, WEB_STARTED), ferry: firstOk('ferry'), ka: firstOk('ka'),
        client: readJsonLines<ClientEvent>(this.clientLog, clientOff).slice(-6),
        daemon: readJsonLines<LogLine>(this.daemonLog(peer), logOff).map((l) => l.msg).slice(-15),
        keepalived: fs.readFileSync(path.join(this.lab.root(peer), 'log', 'keepalived.out'), 'utf8').split('\n').slice(-25),
      };
      throw new Error(`${(e as Error).message}: ${JSON.stringify(state)}`);
    } finally {
      mon.stop();
      cap.stop();
    }
    const svcLines = readJsonLines<LogLine>(svcLog, svcOff);
    const at = (re: RegExp) => svcLines.find((l) => re.test(l.msg))?.time;
    const atEvent = (want: Record<string, unknown>) => svcLines.find((l) => isEvent(l, want))?.time;
    const after = (t: number | undefined, from: number | undefined) => (t === undefined || from === undefined ? undefined : Math.round(t - from));
    const since = (t: number | undefined) => (t === undefined ? undefined : Math.round(t - k));
    let r: Record<string, number | undefined> = {
      ferry_vip_ms: since(mon.seen.get(FERRY_VIP)),
      ferry_up_ms: since(this.eventTime(peer, logOff, WEB_STARTED)),
      ferry_client_ms: since(firstOk('ferry')!.end),
      ka_vip_ms: since(mon.seen.get(KA_VIP)),
      ka_client_ms: since(firstOk('ka')!.end),
      // the ferry takeover path, from the survivor's logs
      ferry_detect_ms: since(this.eventTime(peer, logOff, { event: 'peer.down', peer: victim })),
      ferry_decide_ms: since(this.eventTime(peer, logOff, { event: 'service.decision', svc: 'web', action: 'start' })),
      ferry_action_begins_ms: since(atEvent({ event: 'action.begin', action: 'start' })),
      ferry_ip_added_ms: since(at(/^added /)),
      ferry_ip_started_ms: since(atEvent({ event: 'resource.end', action: 'start', rid: 'ip#1', ok: true, changed: true })),
      ferry_fs_started_ms: since(atEvent({ event: 'resource.end', action: 'start', rid: 'fs#1', ok: true, changed: true })),
      step_ip_added_ms: after(at(/^added /), atEvent({ event: 'action.begin', action: 'start' })),
      step_detect_to_service_up_ms: after(this.eventTime(peer, logOff, WEB_STARTED), this.eventTime(peer, logOff, { event: 'peer.down', peer: victim })),
      // the start prepared while the victim was suspect (rolling duplicate-address probe), and whether the ip start used it
      ferry_prepare_after_last_beat_ms: after(this.eventTime(peer, logOff, { event: 'service.prepare', svc: SVC, phase: 'begin' }), cap.lastHb),
      ip_probe_prepared: ((p) => (p === undefined ? undefined : p ? 1 : 0))(svcLines.find((l) => isEvent(l, { event: 'ip.dup-probe' }))?.['prepared'] as boolean | undefined),
      ip_probe_waited_ms: svcLines.find((l) => isEvent(l, { event: 'ip.dup-probe' }))?.['waitedMs'] as number | undefined,
      kill_call_ms: killMs,
      victim: victim === 'n1' ? 1 : 2,
      // fencing settings: vote, fence, start, from the survivor's daemon log
      ...this.fenceBreakdown(peer, victim, logOff, since),
      // from the last packet of the victim received by the survivor (tcpdump): the real timeouts
      ferry_detect_after_last_beat_ms: after(this.eventTime(peer, logOff, { event: 'peer.down', peer: victim }), cap.lastHb),
      ka_vip_after_last_advert_ms: after(mon.seen.get(KA_VIP), cap.lastVrrp),
      last_beat_before_kill_ms: after(k, cap.lastHb),
      last_advert_before_kill_ms: after(k, cap.lastVrrp),
      ferry_up_after_last_beat_ms: after(this.eventTime(peer, logOff, WEB_STARTED), cap.lastHb),
      ferry_client_after_last_beat_ms: after(firstOk('ferry')!.end, cap.lastHb),
      ka_client_after_last_advert_ms: after(firstOk('ka')!.end, cap.lastVrrp),
    };
    if (process.env.FAILOVER_TIMELINE) {
      const tl = [...readJsonLines<LogLine>(this.daemonLog(peer), logOff).map((l) => ({ ...l, src: 'daemon' })), ...svcLines.map((l) => ({ ...l, src: SVC }))]
        .sort((a, b) => a.time - b.time)
        .map((l) => `${l.time - k} ${l.src} ${l.msg} ${JSON.stringify(Object.fromEntries(Object.entries(l).filter(([x]) => !['time', 'msg', 'src', 'level', 'pid', 'hostname', 'node', 'svc'].includes(x))))}`);
      console.error(`timeline ${victim} killed:\n  ${tl.join('\n  ')}`);
    }
    // no prepared probe survives the takeover (the gratuitous ARP's arping ends within ~100 ms)
    await sleep(1_000);
    r = { ...r, arping_left: await this.arpingsIn(peer) };
    this.owner = peer;
    // boot the dead node again as the standby
    await this.lab.restartNode(victim);
    const peerOff = sizeOf(this.daemonLog(peer));
    await this.bootPair(victim);
    this.kaPids.set(victim, startKeepalived(this.lab, victim, this.vrrp()));
    this.healedAt = await waitFor(`${peer} sees ${victim} up`, () => this.eventTime(peer, peerOff, { event: 'peer.up', peer: victim }), 30_000, 50);
    await this.steady();
    return r;
  }

  /** arping processes running in a node's network namespace */
  private async arpingsIn(n: string): Promise<number> {
    const r = await execText('ip', ['netns', 'pids', this.lab.netns(n)]);
    return r.split(/\s+/).filter((pid) => pid && (() => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'arping';
      } catch {
        return false;
      }
    })()).length;
  }

  /**
   * The fencing path on the survivor: peer down → arbitrator's vote → fence begins (after
   * fence_delay in the tie setting) → fenced (agent off + status confirmation) → service up,
   * each from the kill (ms) and as steps. Empty for the reference settings.
   */
  private fenceBreakdown(peer: string, victim: string, logOff: number, since: (t: number | undefined) => number | undefined): Record<string, number | undefined> {
    if (!this.c.fence) return {};
    const lines = readJsonLines<LogLine>(this.daemonLog(peer), logOff);
    const find = (want: Record<string, unknown>) => lines.find((l) => isEvent(l, want));
    const detect = find({ event: 'peer.down', peer: victim })?.time;
    const vote = find({ event: 'quorum.vote', granted: true })?.time;
    const waitLine = find({ event: 'fence.delay', target: victim });
    const fencing = find({ event: 'fence.begin', target: victim })?.time;
    const fencedLine = find({ event: 'fence.end', target: victim, ok: true });
    const fenced = fencedLine?.time;
    const upLine = find(WEB_STARTED);
    const startIn = typeof upLine?.['ms'] === 'number' ? upLine['ms'] : undefined;
    const d = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : Math.round(b - a));
    return {
      ferry_vote_ms: since(vote),
      ferry_fence_begins_ms: since(fencing),
      ferry_fenced_ms: since(fenced),
      fence_delay_waited_ms: typeof waitLine?.['delayMs'] === 'number' ? waitLine['delayMs'] : 0,
      step_detect_to_vote_ms: d(detect, vote),
      step_detect_to_fence_begins_ms: d(detect, fencing),
      step_fence_ms: d(fencing, fenced),
      fence_agent_ms: typeof fencedLine?.['ms'] === 'number' ? Math.round(fencedLine['ms']) : undefined,
      step_fenced_to_up_ms: d(fenced, upLine?.time),
      step_start_action_ms: startIn === undefined ? undefined : Number(startIn),
      step_detect_to_up_ms: d(detect, upLine?.time),
    };
  }

  /**
   * keepalived's planned switch, the reference of a relocation (same run, right after ferry's):
   * SIGTERM to the master, which resigns with a priority-0 advert and removes its VIP; the
   * backup takes over after its skew time. The client's gap on the VIP, as for ferry's.
   */
  private async keepalivedSwitch(from: string, to: string): Promise<Record<string, number | undefined>> {
    await waitFor(`keepalived client served by ${from}`, () => {
      const s = this.clientState();
      return s.ka?.ok && s.ka.body === from;
    }, 30_000, 20);
    const clientOff = sizeOf(this.clientLog);
    const t0 = Date.now();
    await stopKeepalived(this.kaPids.get(from)!);
    this.kaPids.delete(from);
    const ev = () => readJsonLines<ClientEvent>(this.clientLog, clientOff).filter((e) => e.target === 'ka');
    const back = await waitFor('keepalived client served by the new master', () => ev().find((e) => e.ok && e.body === to && e.end > t0), 30_000, 20);
    // the switch is shorter than the client's 200 ms timeout: the request that fails (its SYN
    // went to the resigned master) may end after the first one the new master serves
    const outage = ev().find((e) => !e.ok && e.start >= t0 - CLIENT_INTERVAL_MS);
    this.kaPids.set(from, startKeepalived(this.lab, from, this.vrrp()));
    return {
      ka_switch_client_gap_ms: outage ? Math.round(back.end - outage.start) : 0,
      ka_switch_unserved_ms: unservedBefore(back),
      ka_switch_client_from_cmd_ms: Math.round(back.end - t0),
    };
  }

  async relocateRun(): Promise<Record<string, number | undefined>> {
    const from = this.owner;
    const to = other(from);
    const clientOff = sizeOf(this.clientLog);
    const offs = Object.fromEntries(PAIR.flatMap((n) => [[`${n}d`, sizeOf(this.daemonLog(n))], [`${n}s`, sizeOf(path.join(this.lab.root(n), 'log', `${SVC}.log`))]]));
    const r0 = Date.now();
    const res = await this.lab.exec(from, process.execPath, [cli('svcmgr'), '-s', SVC, 'relocate', '--to', to], { timeout: 120_000 });
    const cmdMs = Date.now() - r0;
    if (!res.ok) throw new Error(`relocate ${from} -> ${to}: ${res.stderr || res.stdout}`);
    const ev = () => readJsonLines<ClientEvent>(this.clientLog, clientOff).filter((e) => e.target === 'ferry');
    const back = await waitFor('client served by the target', () => ev().find((e) => e.ok && e.body === to), 30_000, 20);
    const outage = ev().find((e) => !e.ok && e.start >= r0 && e.end <= back.end);
    if (process.env.FAILOVER_TIMELINE) {
      const tl = PAIR.flatMap((n) => [
        ...readJsonLines<LogLine>(this.daemonLog(n), offs[`${n}d`]).map((l): LogLine => ({ ...l, src: `${n} daemon` })),
        ...readJsonLines<LogLine>(path.join(this.lab.root(n), 'log', `${SVC}.log`), offs[`${n}s`]).map((l): LogLine => ({ ...l, src: `${n} ${SVC}` })),
      ])
        .filter((l) => !/check/.test(l.msg))
        .sort((a, b) => a.time - b.time)
        .map((l) => `${l.time - r0} ${String(l['src'])} ${l.msg} ${typeof l['rid'] === 'string' ? l['rid'] : ''}`);
      console.error(`timeline relocate ${from} -> ${to} (client down ${outage ? Math.round(outage.start - r0) : '?'}..${Math.round(back.end - r0)}):\n  ${tl.join('\n  ')}`);
    }
    this.owner = to;
    const ka = await this.keepalivedSwitch(from, to);
    await this.steady();
    return {
      ...ka,
      relocate_client_gap_ms: outage ? Math.round(back.end - outage.start) : 0,
      relocate_unserved_ms: unservedBefore(back),
      relocate_cmd_ms: cmdMs,
      relocate_client_from_cmd_ms: Math.round(back.end - r0),
    };
  }
}

const pick = (rs: Record<string, number | undefined>[], k: string): number[] => rs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');

export async function failover(): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) throw new Error('the failover bench needs root (lab namespaces)');
  const runs = Number(process.env.FAILOVER_RUNS ?? 9);
  const relocRuns = Number(process.env.FAILOVER_RELOCATE_RUNS ?? runs);
  const table: string[] = [];
  const victimTable: string[] = [];
  const only = process.env.FAILOVER_CONFIGS?.split(',').map(Number);
  const summary: Record<string, number> = {};
  for (const [ci, c] of CONFIGS.entries()) {
    if (only && !only.includes(ci)) continue;
    const load0 = os.loadavg()[0]!;
    const started = Date.now();
    const lab = await Lab.create({ nodes: 3, links: 2, disks: { heartbeat: 16, data: c.fs ? 64 : 0 } });
    const kills: Record<string, number | undefined>[] = [];
    const relocs: Record<string, number | undefined>[] = [];
    try {
      const b = new Bench(lab, c);
      await b.setup();
      for (let i = 0; i < runs; i++) kills.push(await b.killRun());
      for (let i = 0; i < relocRuns; i++) relocs.push(await b.relocateRun());
    } finally {
      const problems = await lab.destroy();
      if (problems.length) console.error(`lab ${lab.id} teardown: ${problems.join('; ')}`);
    }
    const keys = Object.keys(kills[0] ?? {}).filter((k) => k !== 'victim');
    const fencing = c.fence === 'arb' ? 'stonith + arbitrator, quorum on' : c.fence === 'tie' ? `stonith, quorum on, no arbitrator (fence_delay ${c.fenceDelay ?? 'default'})` : 'none (quorum = false)';
    const fig: Record<string, unknown> = { bench: 'failover', index: ci, config: c.name, variant: c.fs ? 'ip+fs+app' : 'ip+app', heartbeats: c.disk === false ? 'unicast x2' : 'unicast x2 + disk', fencing, ...(c.extra ? { extra: true } : {}), runs, relocate_runs: relocRuns };
    for (const k of [...keys, 'relocate_client_gap_ms', 'relocate_unserved_ms', 'relocate_cmd_ms', 'relocate_client_from_cmd_ms', 'ka_switch_client_gap_ms', 'ka_switch_unserved_ms', 'ka_switch_client_from_cmd_ms']) {
      fig[k] = stats(pick(k.startsWith('relocate') || k.startsWith('ka_switch') ? relocs : kills, k));
    }
    fig.loadavg = [Math.round(load0 * 100) / 100, Math.round(os.loadavg()[0]! * 100) / 100];
    fig.wall_s = (Date.now() - started) / 1000;
    const med = (k: string) => (fig[k] as Stats | undefined)?.median;
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? Math.round((a / b) * 100) / 100 : undefined);
    fig.ratio_up_vs_vip = ratio(med('ferry_up_ms'), med('ka_vip_ms'));
    fig.ratio_vip_vs_vip = ratio(med('ferry_vip_ms'), med('ka_vip_ms'));
    fig.ratio_client = ratio(med('ferry_client_ms'), med('ka_client_ms'));
    // independent of where the kill fell between two beats/adverts
    fig.ratio_up_vs_vip_after_last = ratio(med('ferry_up_after_last_beat_ms'), med('ka_vip_after_last_advert_ms'));
    fig.ratio_client_after_last = ratio(med('ferry_client_after_last_beat_ms'), med('ka_client_after_last_advert_ms'));
    fig.ratio_relocate_gap = ratio(med('relocate_client_gap_ms'), med('ka_switch_client_gap_ms'));
    // the relocation target's ratio: the same "not served" figure on both sides
    fig.ratio_relocate_unserved = ratio(med('relocate_unserved_ms'), med('ka_switch_unserved_ms'));
    if (c.fence) {
      // the tie setting pays fence_delay only when n1 died (n2 waits): figures per victim too
      const byVictim: Record<string, Record<string, Stats | undefined>> = {};
      for (const v of [1, 2]) {
        const rs = kills.filter((r) => r['victim'] === v);
        byVictim[`n${v}_killed`] = Object.fromEntries(['ferry_up_ms', 'ferry_client_ms', 'ferry_up_after_last_beat_ms', 'step_detect_to_fence_begins_ms', 'step_fence_ms', 'step_detect_to_up_ms'].map((k) => [k, stats(pick(rs, k))]));
      }
      fig.by_victim = byVictim;
      for (const [v, st] of Object.entries(byVictim)) {
        const c2 = (k: string) => (st[k] ? `${st[k].median} (${st[k].min}–${st[k].max})` : '–');
        victimTable.push(`| ${ci} | ${c.name} | ${v.replace('_', ' ')} | ${c2('ferry_up_ms')} | ${c2('ferry_client_ms')} | ${c2('ferry_up_after_last_beat_ms')} | ${c2('step_detect_to_fence_begins_ms')} | ${c2('step_fence_ms')} | ${c2('step_detect_to_up_ms')} |`);
      }
    }
    const cell = (k: string) => {
      const st = fig[k] as Stats | undefined;
      return st ? `${st.median} (${st.min}–${st.max})` : '–';
    };
    const m = (k: string) => (med(k) === undefined ? '–' : String(med(k)));
    table.push(`| ${ci} | ${c.name} | ${fig.variant as string} | ${fencing} | ${cell('ferry_up_ms')} | ${cell('ferry_client_ms')} | ${cell('ka_vip_ms')} | ${m('ka_client_ms')} | ${String(fig.ratio_up_vs_vip ?? '–')} | ${String(fig.ratio_client ?? '–')} | ${m('ferry_up_after_last_beat_ms')} vs ${m('ka_vip_after_last_advert_ms')} (${String(fig.ratio_up_vs_vip_after_last ?? '–')}) | ${cell('ferry_detect_ms')} | ${cell('step_detect_to_vote_ms')} | ${cell('step_detect_to_fence_begins_ms')} | ${cell('step_fence_ms')} | ${cell('step_fenced_to_up_ms')} | ${cell('relocate_unserved_ms')} vs ${cell('ka_switch_unserved_ms')} (${String(fig.ratio_relocate_unserved ?? '–')}) | ${cell('step_ip_added_ms')} | ${(fig.loadavg as number[] | undefined)?.join(', ') ?? ''} |`);
    fig.raw = { kills, relocs };
    console.log(JSON.stringify(fig));
    const tag = `${c.interval}_${c.timeout}${c.fs ? '_fs' : ''}${c.disk === false ? '_nodisk' : ''}${c.fence ? `_fence_${c.fence}` : ''}`;
    for (const k of ['ferry_up_ms', 'ferry_client_ms', 'ka_vip_ms', 'ka_client_ms', 'relocate_client_gap_ms', 'relocate_unserved_ms', 'ka_switch_unserved_ms']) {
      const m = med(k);
      if (m !== undefined) summary[`${tag}_${k}_median`] = m;
    }
  }
  // the same figures as a table (stderr: stdout stays JSON lines); ms, median (min–max)
  console.error(
    [
      '| # | setting | service | fencing | ferry: service up | ferry: client served | keepalived: VIP up | keepalived: client | ratio up / VIP | ratio client | after last beat / advert: ferry up vs VIP (ratio) | peer down | peer down → vote | peer down → fence begins | fence (off + confirm) | fenced → service up | relocate: client not served, ferry vs the keepalived planned switch (ratio) | action begins → ip added | load avg (start, end) |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...table,
      ...(victimTable.length
        ? ['', '| # | setting | victim | ferry: service up | ferry: client served | service up after last beat | peer down → fence begins | fence | peer down → service up |', '|---|---|---|---|---|---|---|---|---|', ...victimTable]
        : []),
    ].join('\n'),
  );
  return summary;
}
