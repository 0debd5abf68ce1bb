// Service configuration files kept identical on the nodes of each service
// (docs/config-replication.md). This node announces the generation of each of its files
// (src/config/generation.ts) in its state (`configs`, items of the state channel, not the
// beat); when a live peer announces a generation that wins by the rule for a service whose
// `nodes` include this node, the file is pulled from that peer over the channel
// (src/statechan/configs.ts) and installed atomically under the same lock as `svcmgr set`.
// Local writes (set, unset, create, edit, delete, or an editor) are noticed by an inotify
// watch of the services directory (and a rescan every 5 s), and published at once.
//
// Also here: the peers' sums of each service, written for sync#i0 to read
// (src/resources/config-sync-status.ts), and the cluster file's digest compared with the
// peers' (the beat carries it).
import { SERVICE_FILE_NAME } from '../config/load.js';
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigConflict, ConfigDigest, NodeState } from '../cluster/node-state.js';
import { isNodeState } from '../cluster/node-state.js';
import { clusterConfigPath } from '../cluster/config.js';
import type { PeerView } from '../heartbeat/index.js';
import { parseDocument } from '../config/document.js';
import type { ConfigGen } from '../config/generation.js';
import { configSum, genOf, isConfigGen, newer, nextGen, readGen, recordedServices, relation, shortSum, writeGen } from '../config/generation.js';
import { configLimits, formatBytes } from '../config/limits.js';
import { Resolver } from '../config/resolve.js';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import { CONFIG_PEERS_FILE, type ConfigPeers } from '../resources/config-sync-status.js';
import { serviceVarDir } from '../paths.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { LockTimeout, withFileLock } from '../util/file-lock.js';
import type { ConfigProvider } from '../statechan/configs.js';
import { fetchConfig, serveConfigs } from '../statechan/configs.js';
import type { ClusterState } from '../statechan/index.js';
import { CLUSTER_SUM_CHARS } from '../statechan/facts.js';
import { EVENT } from '../events.js';
import { drivers } from '../resources/registry.js';
import { sumPeers, type LastConfigs } from './config-sum-peers.js';

/** a conflict stays in the announced state (svcmon note, print status) this long */
export const CONFLICT_SHOW_MS = 10 * 60_000;
const RESCAN_MS = 5_000;
const RECONCILE_MS = 1_000;
const DEBOUNCE_MS = 20;
const LOCK_WAIT_MS = 2_000;

interface Held {
  gen: ConfigGen;
  /** the file's `nodes` as written (empty: the writing node only) */
  nodes: string[];
  /** of the file when read: unchanged, it is not read again */
  stat?: { size: number; mtimeMs: number; ino: number } | undefined;
}

export interface ReplicationOptions {
  paths: FerryPaths;
  nodename: string;
  log: Logger;
  /** a generation changed here (local write, install, conflict): publish now */
  onChange: () => void;
}

class Raced extends Error {}

const validDigest = (d: unknown): d is ConfigDigest =>
  isConfigGen(d) && Array.isArray((d as ConfigDigest).nodes) && (d as ConfigDigest).nodes.every((n) => typeof n === 'string');

const sameStat = (a: Held['stat'], b: fs.Stats): boolean => a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
const statOf = (s: fs.Stats): Held['stat'] => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });

export class ConfigReplication {
  private readonly held = new Map<string, Held>();
  private readonly conflicts = new Map<string, ConfigConflict>();
  private readonly once = new Set<string>();
  private readonly installing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly peersWritten = new Map<string, string>();
  /** per peer: its configs in its last complete state (src/daemon/config-sum-peers.ts) */
  private readonly lastConfigs: LastConfigs = new Map();
  private chan: ClusterState | undefined;
  private watcher: fs.FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;
  /** SHA-256 of this node's cluster file, hex */
  clusterSum = '';

  constructor(private readonly o: ReplicationOptions) {}

  private get log(): Logger {
    return this.o.log;
  }

  private file(svc: string): string {
    return path.join(this.o.paths.services, `${svc}.env`);
  }

  /** Read every file and record (before the first publication). */
  async init(): Promise<void> {
    this.readClusterSum();
    fs.mkdirSync(this.o.paths.services, { recursive: true });
    await this.scanAll();
  }

  /** Serve and pull over the channel, watch the directory. */
  attach(chan: ClusterState): void {
    this.chan = chan;
    serveConfigs(chan, this.provider);
    try {
      this.watcher = fs.watch(this.o.paths.services, (_ev, name) => {
        const m = typeof name === 'string' ? SERVICE_FILE_NAME.exec(name) : null;
        if (m) this.markDirty(m[1]!);
      });
      this.watcher.on('error', (e) => this.log.warn({ event: 'config.watch-failed', err: e.message }, 'cannot watch the services directory: changes are noticed by the rescan only'));
    } catch (e) {
      this.log.warn({ event: 'config.watch-failed', err: (e as Error).message }, 'cannot watch the services directory: changes are noticed by the rescan only');
    }
    const every = (ms: number, f: () => void): void => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(RESCAN_MS, () => {
      this.readClusterSum();
      void this.scanAll();
    });
    every(RECONCILE_MS, () => this.reconcile());
  }

  /** a peer's state changed: reconcile soon (many payloads in a burst make one round) */
  peerChanged(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.reconcile();
    }, 50);
    this.soon.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.soon) clearTimeout(this.soon);
    this.watcher?.close();
    for (const t of this.timers) clearInterval(t);
    if (this.debounce) clearTimeout(this.debounce);
  }

  // ------------------------------------------------------------ what we announce

  /** The generations of this node's files (tombstones included), for the state channel. */
  digests(now = Date.now()): Record<string, ConfigDigest> {
    const out: Record<string, ConfigDigest> = {};
    for (const [svc, h] of this.held) {
      const c = this.conflicts.get(svc);
      out[svc] = { ...genOf(h.gen), nodes: h.nodes, ...(c && now - c.at < CONFLICT_SHOW_MS ? { conflict: c } : {}) };
    }
    return out;
  }

  /** The sum of this node's file of `svc` (undefined: none, or deleted). */
  sumOf(svc: string): string | undefined {
    const h = this.held.get(svc);
    return h && !h.gen.deleted ? h.gen.sum : undefined;
  }

  /** Live peers whose cluster file differs from ours (their truncated digest). */
  clusterMismatch(): Record<string, string> {
    const out: Record<string, string> = {};
    const mine = this.clusterSum.slice(0, CLUSTER_SUM_CHARS);
    for (const [peer, p] of this.livePeers()) if (p.cluster_sum && mine && p.cluster_sum !== mine) out[peer] = p.cluster_sum;
    return out;
  }

  private readClusterSum(): void {
    try {
      this.clusterSum = configSum(fs.readFileSync(clusterConfigPath(this.o.paths)));
    } catch {
      // the daemon would not have started without it; keep the last value
    }
  }

  // ------------------------------------------------------------ local files

  private markDirty(svc: string): void {
    this.dirty.add(svc);
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      const names = [...this.dirty];
      this.dirty.clear();
      void this.serial(async () => {
        let changed = false;
        for (const n of names) if (await this.scanOne(n)) changed = true;
        if (changed) this.o.onChange();
      });
    }, DEBOUNCE_MS);
    this.debounce.unref();
  }

  private serial(f: () => Promise<void>): Promise<void> {
    this.scanning = this.scanning.then(f).catch((e: unknown) => this.log.error({ event: 'config.scan-failed', err: String(e) }, 'config scan failed'));
    return this.scanning;
  }

  private scanAll(): Promise<void> {
    return this.serial(async () => {
      let names: string[] = [];
      try {
        names = fs.readdirSync(this.o.paths.services).map((f) => SERVICE_FILE_NAME.exec(f)?.[1]).filter((n): n is string => n !== undefined);
      } catch {
        // no services directory yet
      }
      const all = new Set([...names, ...this.held.keys(), ...recordedServices(this.o.paths)]);
      let changed = false;
      for (const n of all) if (await this.scanOne(n)) changed = true;
      if (changed) this.o.onChange();
    });
  }

  private nodesOf(svc: string, text: string): string[] {
    try {
      return new Resolver(parseDocument(text, this.file(svc)).doc, { svcname: svc, nodename: this.o.nodename, drivers }).nodes;
    } catch {
      return [];
    }
  }

  /** Bring what we hold of `svc` up to date with its file and record; true when the generation moved. */
  private async scanOne(svc: string): Promise<boolean> {
    if (this.stopped || !SERVICE_FILE_NAME.test(`${svc}.env`)) return false;
    const file = this.file(svc);
    const cur = this.held.get(svc);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch {
      st = undefined;
    }
    if (!st?.isFile()) {
      // `svcmgr delete` leaves a tombstone record; a file removed otherwise is lacked (pulled again)
      const rec = readGen(this.o.paths, svc);
      if (rec?.deleted) {
        if (cur?.gen.sum === rec.sum && cur.gen.updated === rec.updated) return false;
        this.held.set(svc, { gen: rec, nodes: cur?.nodes ?? [] });
        this.log.info({ event: 'config.deleted', svc, updated: rec.updated, by: this.o.nodename }, `${svc}: configuration deleted here`);
        return true;
      }
      if (cur && !cur.gen.deleted) {
        this.held.delete(svc);
        this.log.info({ event: 'config.missing', svc }, `${svc}: configuration file gone without a delete: pulled again from the peers if they hold it`);
        return true;
      }
      return false;
    }
    if (sameStat(cur?.stat, st)) return false;
    if (st.size > configLimits.fileBytes) {
      this.warnOnce(`big:${svc}:${st.size}`, { event: 'config.refused', svc, bytes: st.size, limit: configLimits.fileBytes }, `${svc}: file larger than the limit of ${formatBytes(configLimits.fileBytes)}: not replicated`);
      return false;
    }
    let changed = false;
    if (!cur && !readGen(this.o.paths, svc)) {
      // first sight of a file with no record (written before the daemon ran, or by hand): its
      // generation is its mtime, the same at every start, so nothing is written (5000 files
      // cost no 5000 fsyncs at start); the record is written at its first change or install
      try {
        const bytes = fs.readFileSync(file);
        if (bytes.length > configLimits.fileBytes) return false;
        const sum = configSum(bytes);
        const gen = { updated: Math.floor(st.mtimeMs), sum, hist: [] };
        const nodes = this.nodesOf(svc, bytes.toString('utf8'));
        this.held.set(svc, { gen, nodes, stat: statOf(st) });
        // at start every file is new: only the ones that appear while running are logged
        if (this.chan) this.log.info({ event: 'config.changed', svc, sum: shortSum(sum), updated: gen.updated, nodes }, `${svc}: new configuration here (${shortSum(sum).slice(0, 12)})`);
        return true;
      } catch {
        return false;
      }
    }
    try {
      await withFileLock(file, { waitMs: LOCK_WAIT_MS, purpose: 'daemon config generation', log: this.log }, () => {
        let bytes: Buffer;
        let now: fs.Stats;
        try {
          now = fs.statSync(file);
          bytes = fs.readFileSync(file);
        } catch {
          return; // gone meanwhile: the watch brings us back
        }
        if (bytes.length > configLimits.fileBytes) return;
        const sum = configSum(bytes);
        const nodes = this.nodesOf(svc, bytes.toString('utf8'));
        const rec = cur?.gen ?? readGen(this.o.paths, svc);
        if (rec && rec.sum === sum) {
          this.held.set(svc, { gen: rec, nodes, stat: statOf(now) });
          if (!cur) changed = true;
          return;
        }
        // a change made here (or a file we had no record of: its mtime stamps it)
        const gen = rec ? nextGen(rec, sum, Date.now()) : { updated: Math.floor(now.mtimeMs), sum, hist: [] };
        writeGen(this.o.paths, svc, gen);
        this.held.set(svc, { gen, nodes, stat: statOf(now) });
        this.log.info({ event: 'config.changed', svc, sum: shortSum(sum), updated: gen.updated, nodes }, `${svc}: configuration changed here (${shortSum(sum).slice(0, 12)})`);
        changed = true;
      });
    } catch (e) {
      if (!(e instanceof LockTimeout)) throw e;
      this.markDirty(svc); // a writer holds it: look again
    }
    return changed;
  }

  // ------------------------------------------------------------ peers

  private livePeers(): [string, NodeState][] {
    const peers: Record<string, PeerView> = this.chan?.peers() ?? {};
    return Object.entries(peers)
      .filter(([, v]) => v.state === 'up' && isNodeState(v.payload) && v.payload.complete !== false)
      .map(([n, v]) => [n, v.payload as NodeState]);
  }

  /** Compare with the live peers' generations: pull what wins, note conflicts, refresh what sync#i0 reads. */
  reconcile(): void {
    if (this.stopped || !this.chan) return;
    const self = this.o.nodename;
    const peers = this.livePeers().filter(([, p]) => p.configs !== undefined);
    const forSums = sumPeers(peers, this.chan.peers(), this.lastConfigs);
    const names = new Set<string>(this.held.keys());
    // a peer's word is checked before it names a file here: a service name, a generation
    for (const [, p] of peers) for (const s of Object.keys(p.configs!)) if (SERVICE_FILE_NAME.test(`${s}.env`)) names.add(s);
    for (const [peer, p] of this.livePeers()) {
      const mine = this.clusterSum.slice(0, CLUSTER_SUM_CHARS);
      if (p.cluster_sum && mine && p.cluster_sum !== mine) {
        this.warnOnce(`cf:${peer}:${p.cluster_sum}:${mine}`, { event: 'cluster-config.mismatch', peer, peer_sum: p.cluster_sum, sum: mine }, `cluster file of ${peer} differs from ours (${p.cluster_sum} vs ${mine}): keep them identical (copied by hand)`);
      }
    }
    for (const svc of names) {
      const mine = this.held.get(svc);
      let best: ConfigDigest | undefined = mine ? { ...mine.gen, nodes: mine.nodes } : undefined;
      let from = self;
      for (const [peer, p] of peers) {
        const d = p.configs![svc];
        if (!validDigest(d)) continue;
        if (mine && relation(mine.gen, d) === 'conflict') this.noteConflict(svc, peer, mine.gen, d);
        if (!best || newer(d, best)) {
          best = d;
          from = peer;
        }
      }
      if (mine && !mine.gen.deleted) this.writePeers(svc, mine, forSums);
      if (!best || from === self || (mine && mine.gen.sum === best.sum)) continue;
      if (!best.nodes.includes(self)) {
        if (mine && !mine.gen.deleted) this.warnOnce(`member:${svc}:${best.sum}`, { event: 'config.not-member', svc, from, sum: shortSum(best.sum) }, `${svc}: the newer configuration on ${from} does not list ${self} in its nodes: not installed here`);
        continue;
      }
      if (this.installing.has(svc)) continue;
      void this.install(svc, from, best, mine?.gen);
    }
  }

  private noteConflict(svc: string, peer: string, mine: ConfigGen, theirs: ConfigGen): void {
    const key = `conflict:${svc}:${[mine.sum, theirs.sum].sort().join(':')}`;
    if (this.once.has(key)) return;
    this.once.add(key);
    const keepTheirs = newer(theirs, mine);
    const kept = keepTheirs ? theirs : mine;
    const lost = keepTheirs ? mine : theirs;
    this.conflicts.set(svc, { with: peer, at: Date.now(), kept: shortSum(kept.sum), lost: shortSum(lost.sum) });
    this.log.warn(
      { event: EVENT.configConflict, svc, peer, local: { updated: mine.updated, sum: shortSum(mine.sum) }, remote: { updated: theirs.updated, sum: shortSum(theirs.sum) }, kept: shortSum(kept.sum), kept_from: keepTheirs ? peer : this.o.nodename },
      `${svc}: configuration changed both here and on ${peer} since their last common generation: keeping ${keepTheirs ? peer : 'ours'} (${shortSum(kept.sum).slice(0, 12)}, newest change wins)`,
    );
    this.o.onChange();
  }

  /** Install the winning generation `d` of `svc` from `peer`, if what we hold is still `expected`. */
  private async install(svc: string, peer: string, d: ConfigDigest, expected: ConfigGen | undefined): Promise<void> {
    this.installing.add(svc);
    const file = this.file(svc);
    try {
      const got = d.deleted ? undefined : await fetchConfig(this.chan!, peer, svc, d.sum);
      const gen = got ? got.gen : genOf(d);
      await withFileLock(file, { waitMs: LOCK_WAIT_MS, purpose: `daemon config install from ${peer}`, log: this.log }, () => {
        // a write here since we decided would be lost: the next round judges it
        let nowSum: string | undefined;
        try {
          nowSum = configSum(fs.readFileSync(file));
        } catch {
          nowSum = undefined;
        }
        const want = expected && !expected.deleted ? expected.sum : undefined;
        if (nowSum !== want && nowSum !== gen.sum) throw new Raced();
        if (got) {
          fs.mkdirSync(this.o.paths.services, { recursive: true });
          writeFileAtomic(file, got.bytes);
        } else {
          fs.rmSync(file, { force: true });
        }
        writeGen(this.o.paths, svc, gen);
        let st: fs.Stats | undefined;
        try {
          st = fs.statSync(file);
        } catch {
          st = undefined;
        }
        this.held.set(svc, { gen, nodes: got ? this.nodesOf(svc, got.bytes.toString('utf8')) : d.nodes, stat: st ? statOf(st) : undefined });
      });
      if (got) this.log.info({ event: 'config.installed', svc, from: peer, sum: shortSum(gen.sum), updated: gen.updated, bytes: got.bytes.length }, `${svc}: configuration installed from ${peer}`);
      else this.log.info({ event: 'config.deleted', svc, by: peer, updated: gen.updated }, `${svc}: configuration deleted (deleted on ${peer})`);
      this.o.onChange();
    } catch (e) {
      if (e instanceof Raced) this.log.debug({ event: 'config.install-raced', svc }, `${svc}: changed here meanwhile: judged again`);
      else if (e instanceof LockTimeout) this.log.info({ event: 'config.install-deferred', svc, holder: e.holder.purpose }, `${svc}: another writer holds the file: install retried`);
      else {
        const msg = e instanceof Error ? e.message : String(e);
        const event = /over the limit/.test(msg) ? 'config.refused' : 'config.fetch-failed';
        this.warnOnce(`fetch:${svc}:${d.sum}:${msg}`, { event, svc, from: peer, err: msg }, `${svc}: cannot pull the configuration from ${peer}: ${msg}`);
      }
    } finally {
      this.installing.delete(svc);
    }
  }

  /** What this node serves: its current file of the service, to a node of the service. */
  private readonly provider: ConfigProvider = (peer, svc, sum) => {
    const h = this.held.get(svc);
    if (!h || h.gen.deleted || h.gen.sum !== sum) return { error: `no such generation of ${svc} here (changed since?)` };
    if (!h.nodes.includes(peer)) return { error: `${peer} is not a node of ${svc}` };
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.file(svc));
    } catch (e) {
      return { error: `cannot read it: ${(e as Error).message}` };
    }
    if (configSum(bytes) !== sum) return { error: `${svc} changed since` };
    return { gen: genOf(h.gen), bytes };
  };

  /** The sums the live peers of the service hold, for sync#i0 (written when they change). */
  private writePeers(svc: string, mine: Held, peers: [string, NodeState][]): void {
    const sums: ConfigPeers['peers'] = {};
    for (const [peer, p] of peers) {
      if (!mine.nodes.includes(peer)) continue;
      const d = p.configs?.[svc];
      sums[peer] = d && !d.deleted ? d.sum : null;
    }
    const body: ConfigPeers = { pid: process.pid, node: this.o.nodename, peers: sums };
    const text = JSON.stringify(body);
    if (this.peersWritten.get(svc) === text) return;
    try {
      const dir = serviceVarDir(this.o.paths, svc);
      fs.mkdirSync(dir, { recursive: true });
      writeFileAtomic(path.join(dir, CONFIG_PEERS_FILE), `${text}\n`);
      this.peersWritten.set(svc, text);
    } catch (e) {
      this.warnOnce(`peers:${svc}`, { event: 'config.state-write-failed', svc, err: (e as Error).message }, `${svc}: cannot write the peers' config sums`);
    }
  }

  private warnOnce(key: string, fields: Record<string, unknown>, msg: string): void {
    if (this.once.has(key)) return;
    if (this.once.size > 10_000) this.once.clear();
    this.once.add(key);
    this.log.warn(fields, msg);
  }
}

