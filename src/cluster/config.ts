// The cluster file, <etc>/cluster.conf: cluster identity and secret, heartbeats, and the
// sections the daemon will use later (stonith, arbitrators). Same reader as service files,
// so every error is `file:line: message`. Unlike a service, a heartbeat needs the value of a
// scoped keyword *for every node* (each peer's address), not just for this node: scoping is
// therefore evaluated here per node rather than through the service Resolver.
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import type { Entry, Section } from '../config/document.js';
import { parseDocument } from '../config/document.js';
import { ConfigError, ConfigInvalid } from '../config/errors.js';
import { parseHostPort, type HostPort } from '../util/host-port.js';
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import { findKeyword } from '../vocab/keywords.js';
import { convertValue } from '../config/values.js';
import { configLimits, formatBytes } from '../config/limits.js';
import type { BoundedRead } from '../util/bounded-read.js';
import { readRegularFile } from '../util/bounded-read.js';
import type { FerryPaths } from '../paths.js';
import { shlexSplit } from '../util/shlex.js';
import type { HbType } from './keywords.js';
import { clusterSections, FENCE_DELAY_DEFAULT, SPLIT_GRACE_DEFAULT, type SplitAction } from './keywords.js';

interface HbCommon {
  /** section name, "hb#1": also bound into every message of this heartbeat */
  id: string;
  type: HbType;
  interval: number;
  timeout: number;
}
export interface UnicastHbConfig extends HbCommon {
  type: 'unicast';
  /** every node's address and port, this node's included; chanPort: its state channel TCP port when not `port` */
  endpoints: Record<string, { addr: string; port: number; chanPort?: number }>;
  intf: string | undefined;
}
export interface MulticastHbConfig extends HbCommon {
  type: 'multicast';
  group: string;
  port: number;
  /** state channel TCP port when not `port` */
  chanPort?: number;
  /** this node's interface */
  intf: string | undefined;
}
export interface DiskHbConfig extends HbCommon {
  type: 'disk';
  /** this node's path to the shared device */
  dev: string;
  slotSize: number;
}
export type HbConfig = UnicastHbConfig | MulticastHbConfig | DiskHbConfig;

export interface StonithConfig {
  node: string;
  agent: string;
  params: Record<string, string>;
  timeout: number;
}
export interface ArbitratorConfig {
  id: string;
  addr: string;
  port: number;
  timeout: number;
}

/** Plain data (structured-clone safe): it is handed to the heartbeat worker as is. */
export interface ClusterConfig {
  file: string;
  name: string;
  nodes: string[];
  /** hex, >= 64 digits */
  secret: string;
  /** [cluster] quorum: act only with a majority of votes (docs/quorum.md) */
  quorum: boolean;
  splitAction: SplitAction;
  /** ms a quorate node waits before taking over from a lost peer it cannot fence */
  splitGrace?: number;
  /** ms the second of two nodes waits before fencing the first ([cluster] fence_delay); see fence/race.ts */
  fenceDelay?: number;
  heartbeats: HbConfig[];
  stonith: StonithConfig[];
  arbitrators: ArbitratorConfig[];
  /** [cluster] metrics_listen: the daemon's HTTP listener (docs/metrics.md), absent when off */
  metricsListen?: HostPort;
  /** [cluster] volume_plugin: the Docker volume plugin's name (docs/volume-plugin.md), absent when off */
  volumePlugin?: string;
}

export interface ClusterReadResult {
  config: ClusterConfig | undefined;
  /** errors and warnings; config is undefined when there is an error */
  errors: ConfigError[];
}

export const MIN_SECRET_BYTES = 32;
/** the most a secret file may hold: a secret is 64 hex digits, so this is already absurd */
export const SECRET_FILE_MAX_BYTES = 64 * 1024;

/**
 * The text of a secret file (`label`: how messages name it) and its mode, or a one-line
 * problem: it is not a regular file (a FIFO would block the reader, /dev/zero never end),
 * it is larger than SECRET_FILE_MAX_BYTES, it cannot be read. Never echoes the content.
 */
export function readSecretText(p: string, label: string): { text: string; mode: number } | { error: string } {
  let r: BoundedRead;
  try {
    r = readRegularFile(p, SECRET_FILE_MAX_BYTES);
  } catch (e) {
    return { error: `cannot read ${label} ${p}: ${(e as Error).message}` };
  }
  if (r.ok) return { text: r.text, mode: r.mode };
  if (r.reason === 'not-regular') return { error: `${label} ${p} is not a regular file (${r.kind})` };
  const size = r.size === undefined ? '' : ` (${r.size} bytes)`;
  return { error: `${label} ${p} is larger than the limit of ${formatBytes(SECRET_FILE_MAX_BYTES)}${size}` };
}

/** A fresh cluster secret: 32 random bytes, hex. */
export function generateSecret(): string {
  return crypto.randomBytes(MIN_SECRET_BYTES).toString('hex');
}

export function clusterConfigPath(paths: FerryPaths): string {
  return path.join(paths.etc, 'cluster.conf');
}

/**
 * The cluster file's text. As a service file: only a regular file of at most
 * configLimits.fileBytes is read (ConfigInvalid at line 1 otherwise). Throws the system's
 * error when it cannot be read.
 */
export function readClusterText(file: string): string {
  const read = readRegularFile(file, configLimits.fileBytes);
  if (read.ok) return read.text;
  const why = read.reason === 'not-regular' ? `not a regular file (${read.kind})`
    : `file larger than the limit of ${formatBytes(configLimits.fileBytes)}${read.size === undefined ? '' : ` (${read.size} bytes)`}`;
  throw new ConfigInvalid([new ConfigError(file, 1, why)]);
}

/** Read and validate <etc>/cluster.conf for `nodename`; throws ConfigInvalid on errors. */
export function loadClusterConfig(paths: FerryPaths, nodename: string): ClusterConfig {
  const file = clusterConfigPath(paths);
  let text: string;
  try {
    text = readClusterText(file);
  } catch (e) {
    if (e instanceof ConfigInvalid) throw e;
    throw new ConfigInvalid([new ConfigError(file, 0, `cannot read cluster file: ${(e as Error).message}`)]);
  }
  const r = parseClusterConfig(text, file, nodename, paths.etc);
  const errors = r.errors.filter((e) => e.severity === 'error');
  if (!r.config || errors.length > 0) throw new ConfigInvalid(errors);
  return r.config;
}

/** A section's entries grouped by canonical keyword, with per-node scoping. */
class Scoped {
  private readonly byKey = new Map<string, Entry[]>();
  constructor(
    readonly section: Section,
    readonly table: readonly Keyword[],
    private readonly nodes: readonly string[],
  ) {
    for (const e of section.entries) {
      const kw = findKeyword(table, e.key);
      if (!kw) continue;
      const list = this.byKey.get(kw.name) ?? [];
      list.push(e);
      this.byKey.set(kw.name, list);
    }
  }
  has(name: string): boolean {
    return this.byKey.has(name);
  }
  /** `key@node` > `key@nodes` > `key`; the later definition wins at equal rank. */
  entryFor(name: string, node: string): Entry | undefined {
    let best: Entry | undefined;
    let bestRank = -1;
    for (const e of this.byKey.get(name) ?? []) {
      const rank = e.scope === undefined ? 0 : e.scope === 'nodes' ? (this.nodes.includes(node) ? 1 : -1) : e.scope === node ? 2 : -1;
      if (rank >= 0 && rank >= bestRank) {
        best = e;
        bestRank = rank;
      }
    }
    return best;
  }
}

export function parseClusterConfig(text: string, file: string, nodename: string, etcDir: string): ClusterReadResult {
  const { doc, errors } = parseDocument(text, file);
  const err = (line: number, msg: string): void => void errors.push(new ConfigError(file, line, msg));
  const warn = (line: number, msg: string): void => void errors.push(new ConfigError(file, line, msg, 'warning'));

  const clusterSec = doc.sections.find((s) => s.name === 'cluster');
  if (!clusterSec) {
    err(1, 'missing [cluster] section');
    return { config: undefined, errors };
  }
  // nodes first: scoping of every other keyword depends on it; read literally (no scope)
  const nodesEntry = clusterSec.entries.filter((e) => e.key === 'nodes' && e.scope === undefined).at(-1);
  const nodes = nodesEntry ? nodesEntry.value.trim().split(/[\s,]+/).filter((w) => w.length > 0) : [];
  if (!nodesEntry || nodes.length === 0) err(clusterSec.line, '[cluster] nodes is required');
  const dup = nodes.find((n, i) => nodes.indexOf(n) !== i);
  if (dup !== undefined && nodesEntry) err(nodesEntry.line, `node "${dup}" listed twice in nodes`);
  if (nodesEntry && nodes.length > 0 && !nodes.includes(nodename)) {
    err(nodesEntry.line, `this node "${nodename}" is not in the cluster nodes (${nodes.join(' ')})`);
  }

  // generic pass: known sections, known keywords, legal scopes, typed values
  const scoped = new Map<string, Scoped>();
  for (const sec of doc.sections) {
    const kind = clusterSections.find((k) => k.pattern.test(sec.name));
    if (!kind) {
      err(sec.line, `unknown section [${sec.name}]: expected [cluster], [hb#<index>], [stonith#<node>] or [arbitrator#<index>]`);
      continue;
    }
    for (const e of sec.entries) {
      const kw = findKeyword(kind.table, e.key);
      if (!kw) {
        err(e.line, `unknown keyword "${e.key}" in [${sec.name}] (known: ${kind.table.map((k) => k.name).join(', ')})`);
        continue;
      }
      if (e.scope !== undefined) {
        if (!kw.scopable) err(e.line, `keyword "${kw.name}" cannot be scoped (@${e.scope})`);
        else if (e.scope !== 'nodes' && !nodes.includes(e.scope)) err(e.line, `scope @${e.scope}: "${e.scope}" is not a cluster node`);
      }
      const c = convertValue(kw, e.value);
      if ('error' in c) err(e.line, c.error);
    }
    scoped.set(sec.name, new Scoped(sec, kind.table, nodes));
  }

  /** typed value of a keyword for `node` (default when unset); undefined on a conversion error (already reported) */
  const value = (s: Scoped, name: string, node = nodename): KeywordValue | undefined => {
    const kw = findKeyword(s.table, name);
    if (!kw) throw new Error(`bug: keyword ${name} not in table`);
    const e = s.entryFor(kw.name, node);
    if (!e) return kw.default;
    const c = convertValue(kw, e.value);
    return 'error' in c ? undefined : c.value;
  };
  const str = (s: Scoped, name: string, node?: string): string | undefined => {
    const v = value(s, name, node);
    return v === undefined ? undefined : String(v).trim();
  };
  const num = (s: Scoped, name: string, node?: string): number | undefined => {
    const v = value(s, name, node);
    return typeof v === 'number' ? v : undefined;
  };
  const lineOf = (s: Scoped, name: string, node = nodename): number => s.entryFor(name, node)?.line ?? s.section.line;
  const requireKeys = (s: Scoped): void => {
    for (const kw of s.table) if (kw.required && !s.has(kw.name)) err(s.section.line, `[${s.section.name}] ${kw.name} is required`);
  };

  const cs = scoped.get('cluster');
  if (!cs) return { config: undefined, errors };
  requireKeys(cs);
  const name = str(cs, 'name') ?? '';
  if (cs.has('name') && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) err(lineOf(cs, 'name'), `bad cluster name "${name}": letters, digits, '.', '_' and '-' only`);
  const secret = readSecret(cs, file, etcDir, err, warn);

  const heartbeats: HbConfig[] = [];
  const stonith: StonithConfig[] = [];
  const arbitrators: ArbitratorConfig[] = [];
  for (const [secName, s] of scoped) {
    if (secName.startsWith('hb#')) {
      requireKeys(s);
      const hb = readHeartbeat(s, nodes, nodename, { err, value, str, num, lineOf });
      if (hb) heartbeats.push(hb);
    } else if (secName.startsWith('stonith#')) {
      requireKeys(s);
      const node = secName.slice('stonith#'.length);
      if (!nodes.includes(node)) err(s.section.line, `[${secName}]: "${node}" is not a cluster node`);
      const params: Record<string, string> = {};
      try {
        for (const w of shlexSplit(str(s, 'params') ?? '')) {
          const eq = w.indexOf('=');
          if (eq <= 0) err(lineOf(s, 'params'), `bad stonith parameter "${w}": expected key=value`);
          else params[w.slice(0, eq)] = w.slice(eq + 1);
        }
      } catch {
        /* reported by the generic pass */
      }
      stonith.push({ node, agent: str(s, 'agent') ?? '', params, timeout: num(s, 'timeout') ?? 60000 });
    } else if (secName.startsWith('arbitrator#')) {
      requireKeys(s);
      arbitrators.push({ id: secName, addr: str(s, 'addr') ?? '', port: num(s, 'port') ?? 1215, timeout: num(s, 'timeout') ?? 2000 });
    }
  }
  if (heartbeats.length === 0 && nodes.length > 1) warn(clusterSec.line, 'no [hb#N] section: peers will never be seen alive');
  else if (nodes.length > 1 && !heartbeats.some((h) => h.type !== 'disk')) warn(clusterSec.line, 'no network heartbeat: the state channel (services\' state) needs one, so peers\' services stay unknown and nothing is taken over');
  const quorum = value(cs, 'quorum') !== false;
  checkSplitSafety({ nodes, quorum, quorumSet: cs.has('quorum'), stonith, arbitrators, line: cs.has('quorum') ? lineOf(cs, 'quorum') : clusterSec.line, err, warn });

  const listen = str(cs, 'metrics_listen');
  const metricsListen = listen === undefined || listen === '' ? undefined : parseHostPort(listen);
  // every node's value is checked here, so a validate on any node finds a peer's bad one
  const badListen = new Set<number>();
  for (const n of nodes) {
    const v = str(cs, 'metrics_listen', n);
    const p = v === undefined || v === '' ? undefined : parseHostPort(v);
    const line = lineOf(cs, 'metrics_listen', n);
    if (p && 'error' in p && !badListen.has(line)) (badListen.add(line), err(line, `metrics_listen: ${p.error}`));
  }

  const volumePlugin = str(cs, 'volume_plugin');

  if (errors.some((e) => e.severity === 'error') || secret === undefined) return { config: undefined, errors };
  return {
    config: {
      file,
      name,
      nodes,
      secret,
      quorum,
      splitAction: (str(cs, 'split_action') ?? 'stop') as SplitAction,
      splitGrace: num(cs, 'split_grace') ?? SPLIT_GRACE_DEFAULT,
      fenceDelay: num(cs, 'fence_delay') ?? FENCE_DELAY_DEFAULT,
      heartbeats,
      stonith,
      arbitrators,
      ...(metricsListen && !('error' in metricsListen) ? { metricsListen } : {}),
      ...(volumePlugin ? { volumePlugin } : {}),
    },
    errors,
  };
}

type Report = (line: number, msg: string) => void;

/**
 * The configurations that cannot settle a split safely or cannot fail over at all get a
 * word from `validate`: a two-node cluster is a tie whenever the nodes lose each other, so
 * it needs a tie-breaker (arbitrator, STONITH for both nodes) or an explicit `quorum`.
 */
function checkSplitSafety(c: {
  nodes: string[]; quorum: boolean; quorumSet: boolean; stonith: StonithConfig[]; arbitrators: ArbitratorConfig[];
  line: number; err: Report; warn: Report;
}): void {
  if (c.nodes.length < 2) return;
  const unfenceable = c.nodes.filter((n) => !c.stonith.some((s) => s.node === n));
  if (!c.quorum) {
    if (unfenceable.length) {
      c.warn(c.line, `quorum = false and no [stonith#<node>] for ${unfenceable.join(', ')}: when the nodes lose each other, both sides run the failover services (split brain)`);
    }
    return;
  }
  if (c.nodes.length === 2 && c.arbitrators.length === 0 && unfenceable.length > 0) {
    const fix = 'add an [arbitrator#1] (nodemgr arbitrator), [stonith#<node>] sections for both nodes, or set quorum explicitly (true: no failover without an arbitrator; false: a split runs both sides)';
    if (!c.quorumSet) c.err(c.line, `two-node cluster without a tie-breaker: a node alone never has a majority, so a dead peer's services would never be taken over; ${fix}`);
    else c.warn(c.line, 'two-node cluster with quorum and no tie-breaker (arbitrator, or STONITH for both nodes): a dead peer\'s services are never taken over, and when the nodes lose each other both stop them');
  }
}

function readSecret(cs: Scoped, file: string, etcDir: string, err: Report, warn: Report): string | undefined {
  const inline = cs.entryFor('secret', '');
  const fromFile = cs.entryFor('secret_file', '');
  if (inline && fromFile) {
    err(fromFile.line, 'give secret or secret_file, not both');
    return undefined;
  }
  if (!inline && !fromFile) {
    err(cs.section.line, '[cluster] secret or secret_file is required (generate one with: openssl rand -hex 32)');
    return undefined;
  }
  let hex: string;
  let line: number;
  if (inline) {
    hex = inline.value.trim();
    line = inline.line;
  } else {
    const f = fromFile!;
    line = f.line;
    const p = path.resolve(etcDir, f.value.trim());
    const r = readSecretText(p, 'secret_file');
    if ('error' in r) {
      err(line, r.error);
      return undefined;
    }
    hex = r.text.trim();
    if ((r.mode & 0o077) !== 0) warn(line, `secret_file ${p} is readable by group or others: chmod 600 it`);
  }
  // never echo the secret itself in an error message
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) {
    err(line, 'bad secret: expected an even number of hex digits');
    return undefined;
  }
  if (hex.length < MIN_SECRET_BYTES * 2) {
    err(line, `bad secret: ${hex.length / 2} bytes, at least ${MIN_SECRET_BYTES} required`);
    return undefined;
  }
  return hex.toLowerCase();
}

interface Accessors {
  err: Report;
  value: (s: Scoped, name: string, node?: string) => KeywordValue | undefined;
  str: (s: Scoped, name: string, node?: string) => string | undefined;
  num: (s: Scoped, name: string, node?: string) => number | undefined;
  lineOf: (s: Scoped, name: string, node?: string) => number;
}

function readHeartbeat(s: Scoped, nodes: string[], nodename: string, a: Accessors): HbConfig | undefined {
  const { err, str, num, lineOf } = a;
  const id = s.section.name;
  const type = str(s, 'type') as HbType | undefined;
  if (type === undefined || !s.has('type')) return undefined;
  // keywords that belong to another transport are mistakes worth a line number
  for (const e of s.section.entries) {
    const kw = findKeyword(s.table, e.key);
    if (kw?.types && !kw.types.includes(type)) err(e.line, `keyword "${kw.name}" does not apply to a ${type} heartbeat`);
  }
  const interval = num(s, 'interval') ?? 1000;
  const timeout = num(s, 'timeout') ?? 3000;
  if (interval <= 0) err(lineOf(s, 'interval'), `[${id}] interval must be positive`);
  if (timeout <= interval) err(lineOf(s, 'timeout'), `[${id}] timeout (${timeout}ms) must be longer than interval (${interval}ms)`);
  const common = { id, interval, timeout };
  const portOk = (p: number | undefined, node?: string): p is number => {
    if (p === undefined) return false;
    if (p < 1 || p > 65535) {
      err(lineOf(s, 'port', node), `[${id}] bad port ${p}: expected 1-65535`);
      return false;
    }
    return true;
  };

  switch (type) {
    case 'unicast': {
      const endpoints: Record<string, { addr: string; port: number; chanPort?: number }> = {};
      for (const n of nodes) {
        const addr = str(s, 'addr', n);
        const port = num(s, 'port', n);
        if (addr === undefined || addr.length === 0) {
          err(s.section.line, `[${id}] no address for node ${n}: add addr@${n} = <ip>`);
          continue;
        }
        if (net.isIP(addr) === 0) {
          err(lineOf(s, 'addr', n), `[${id}] bad address "${addr}" for node ${n}: expected an IPv4 or IPv6 address`);
          continue;
        }
        const chanPort = s.has('statechan_port') ? num(s, 'statechan_port', n) : undefined;
        if (chanPort !== undefined && (chanPort < 1 || chanPort > 65535)) err(lineOf(s, 'statechan_port', n), `[${id}] bad statechan_port ${chanPort}: expected 1-65535`);
        if (portOk(port, n)) endpoints[n] = { addr, port, ...(chanPort !== undefined && chanPort !== port ? { chanPort } : {}) };
      }
      const seen = new Map<string, string>();
      for (const [n, ep] of Object.entries(endpoints)) {
        const k = `${ep.addr}:${ep.port}`;
        const other = seen.get(k);
        if (other) err(lineOf(s, 'addr', n), `[${id}] nodes ${other} and ${n} share the endpoint ${k}`);
        seen.set(k, n);
      }
      return { ...common, type, endpoints, intf: str(s, 'intf') || undefined };
    }
    case 'multicast': {
      const group = str(s, 'addr') ?? '';
      const port = num(s, 'port');
      const first = Number(group.split('.')[0]);
      if (group.length === 0) err(s.section.line, `[${id}] addr (the multicast group) is required`);
      else if (net.isIPv4(group) === false || first < 224 || first > 239) err(lineOf(s, 'addr'), `[${id}] bad multicast group "${group}": expected an IPv4 address in 224.0.0.0/4`);
      if (!portOk(port)) return undefined;
      const chanPort = s.has('statechan_port') ? num(s, 'statechan_port') : undefined;
      if (chanPort !== undefined && (chanPort < 1 || chanPort > 65535)) err(lineOf(s, 'statechan_port'), `[${id}] bad statechan_port ${chanPort}: expected 1-65535`);
      return { ...common, type, group, port, ...(chanPort !== undefined && chanPort !== port ? { chanPort } : {}), intf: str(s, 'intf') || undefined };
    }
    case 'disk': {
      const dev = str(s, 'dev') ?? '';
      if (dev.length === 0) err(s.section.line, `[${id}] dev is required for a disk heartbeat${nodes.includes(nodename) ? ` (for node ${nodename})` : ''}`);
      const slotSize = num(s, 'slot_size') ?? 65536;
      if (slotSize < 4096 || slotSize % 4096 !== 0) err(lineOf(s, 'slot_size'), `[${id}] bad slot_size ${slotSize}: a multiple of 4096 is required (O_DIRECT alignment)`);
      return { ...common, type, dev, slotSize };
    }
  }
}
