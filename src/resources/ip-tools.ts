// The ip driver's dealings with the outside world: name resolution, iproute2 reads and
// writes, the duplicate-address probe and the gratuitous ARP announce. Each one bounded in
// time. arping here is Thomas Habets' arping (Debian package `arping`), NOT iputils:
//   - `-S 0.0.0.0` makes the probe an RFC 5227 ARP probe, which Linux answers; without -S
//     Habets' arping refuses to run on a device that has no IPv4 address yet;
//   - `-w` is a deadline for the whole run, not a per-reply wait;
//   - exit 0 = got replies, 1 = no reply (and also 1 on errors, told apart by stderr);
//   - `-U -S ip ip` sends an unsolicited (gratuitous) ARP request; it gets no reply, so
//     exit 1 is its normal outcome. Its `-A` is NOT iputils' "ARP reply" mode.
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Logger } from '../log.js';
import { run, runOk } from '../util/exec.js';
import type { Family } from '../util/inet.js';
import { familyOf } from '../util/inet.js';

export interface DeviceAddress {
  family: Family;
  local: string;
  prefixlen: number;
  /** the address label (eth0, or an alias eth0:1) */
  label?: string;
}

export interface DeviceInfo {
  name: string;
  flags: string[];
  /** the kernel's operstate as iproute2 prints it (UP, DOWN, LOWERLAYERDOWN, UNKNOWN...) */
  operstate?: string;
  addresses: DeviceAddress[];
}

export type Resolution = { address: string; family: Family } | { error: string };

/** Resolve a hostname (or pass an IP literal through), IPv4 first, within timeoutMs. */
export async function resolveAddress(name: string, timeoutMs = 5_000): Promise<Resolution> {
  const literal = familyOf(name);
  if (literal) return { address: name, family: literal };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Resolution>((resolve) => {
    timer = setTimeout(() => resolve({ error: `resolving ${name} timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  // loaded at the first name to resolve: a CLI read of a service needs no resolver (node:dgram)
  const lookup = import('node:dns/promises')
    .then(({ default: dns }) => dns.lookup(name, { all: true }))
    .then((all): Resolution => {
      const pick = all.find((a) => a.family === 4) ?? all[0];
      if (!pick) return { error: `${name} has no address` };
      return { address: pick.address, family: pick.family === 6 ? 6 : 4 };
    })
    .catch((e: unknown): Resolution => ({ error: `cannot resolve ${name}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }));
  try {
    return await Promise.race([lookup, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface IpJsonAddr {
  family?: string;
  local?: string;
  prefixlen?: number;
  label?: string;
}

/**
 * Where iproute2 runs: [] for this network namespace, or a command prefix entering another
 * one (['nsenter', '-t', pid, '-n', '--']). Gives the file and arguments of `ip args...`.
 */
export type NsPrefix = readonly string[];
export function ipCommand(via: NsPrefix, args: readonly string[]): [string, string[]] {
  if (via.length === 0) return ['ip', [...args]];
  return [via[0]!, [...via.slice(1), 'ip', ...args]];
}
interface IpJsonLink {
  ifname?: string;
  flags?: string[];
  operstate?: string;
  addr_info?: IpJsonAddr[];
}

/** IFNAMSIZ - 1: the kernel's longest interface name */
const IFNAME_MAX = 15;

/**
 * Why `name` cannot be an interface name, or undefined when it can. The kernel's rule
 * (dev_valid_name: 1 to 15 bytes, not "." or "..", no '/', ':' or blank), plus no leading
 * '-': iproute2 has no `--` for the `dev NAME` position, so a name must never be able to
 * read as an option. (':' aliases such as eth0:1 are address labels, not devices: `ip addr
 * add ... dev eth0:1` fails with "Cannot find device".)
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (Buffer.byteLength(name) > IFNAME_MAX) return `it is longer than ${IFNAME_MAX} bytes`;
  if (name === '.' || name === '..') return 'it is "." or ".."';
  if (name.startsWith('-')) return "it starts with '-'";
  if (/[/:\s]/.test(name)) return "it contains '/', ':' or a blank";
  return undefined;
}

/** Throws a one-line error when `name` is not a valid interface name (see interfaceNameProblem). */
export function checkInterfaceName(name: string): void {
  const why = interfaceNameProblem(name);
  if (why) throw new Error(`ipdev ${JSON.stringify(name)} is not a valid network interface name: ${why}`);
}

/** The device and its addresses; undefined if it does not exist. Throws if `ip` itself fails. */
export async function readDevice(dev: string, via: NsPrefix = []): Promise<DeviceInfo | undefined> {
  checkInterfaceName(dev);
  const [file, args] = ipCommand(via, ['-j', 'addr', 'show', 'dev', dev]);
  const r = await run(file, args, { timeout: 10_000 });
  if (!r.ok) {
    if (/does not exist/.test(r.stderr)) return undefined;
    throw new Error(`ip addr show dev ${dev}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
  const links = JSON.parse(r.stdout) as IpJsonLink[];
  const link = links[0];
  if (!link) return undefined;
  const addresses: DeviceAddress[] = [];
  for (const a of link.addr_info ?? []) {
    if (typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
    const family = a.family === 'inet6' ? 6 : a.family === 'inet' ? 4 : undefined;
    if (family) addresses.push({ family, local: a.local, prefixlen: a.prefixlen, ...(typeof a.label === 'string' ? { label: a.label } : {}) });
  }
  return { name: link.ifname ?? dev, flags: link.flags ?? [], ...(typeof link.operstate === 'string' ? { operstate: link.operstate } : {}), addresses };
}

/** Add the address; `label` (IPv4 only: the kernel labels IPv4 addresses) makes it an alias such as eth0:1. */
export async function addAddress(dev: string, address: string, prefix: number, family: Family, log: Logger, opts: { label?: string; via?: NsPrefix } = {}): Promise<void> {
  // `brd +` derives the IPv4 broadcast address, as ifupdown and OpenSVC do
  checkInterfaceName(dev);
  const extra = family === 4 ? ['brd', '+'] : [];
  const label = opts.label !== undefined && family === 4 ? ['label', opts.label] : [];
  const [file, args] = ipCommand(opts.via ?? [], ['addr', 'add', `${address}/${prefix}`, ...extra, 'dev', dev, ...label]);
  await runOk(file, args, { timeout: 10_000, log });
}

export async function delAddress(dev: string, address: string, prefix: number, log: Logger, via: NsPrefix = []): Promise<void> {
  checkInterfaceName(dev);
  const [file, args] = ipCommand(via, ['addr', 'del', `${address}/${prefix}`, 'dev', dev]);
  await runOk(file, args, { timeout: 10_000, log });
}

/**
 * Does someone on the network already answer for `address` through `dev`? ARP probe on ARP
 * devices (IPv4), ping otherwise. Throws when the probe itself cannot run: a start must not
 * go ahead on an unproven "nobody has it".
 */
export async function addressAnswers(dev: DeviceInfo, address: string, family: Family, log: Logger, timeoutMs: number): Promise<boolean> {
  const arpCapable = family === 4 && !dev.flags.includes('NOARP') && !dev.flags.includes('LOOPBACK');
  // (ping's -w takes whole seconds only, so the window is set with -i and -W)
  // a holder on the segment answers within microseconds to milliseconds; three probes spread
  // over the window tolerate a lost packet without making every failover wait seconds
  const secs = (ms: number) => (Math.max(ms, 30) / 1000).toFixed(3);
  if (arpCapable) {
    // -C 1: done at the first reply (a holder answers at once: no need to wait the window out)
    const args = ['-C', '1', '-c', '3', '-W', secs(timeoutMs / 3), '-w', secs(timeoutMs), '-i', dev.name, '-S', '0.0.0.0', address];
    const started = Date.now();
    const r = await arpingVerdict(args, timeoutMs + 5_000);
    log.debug({ cmd: `arping ${args.join(' ')}`, verdict: r.verdict, ms: Date.now() - started }, 'exec');
    if (r.verdict === 'reply') return true;
    if (r.verdict === 'none') return false;
    if (!/command not found/.test(r.stderr)) {
      throw new Error(`duplicate address probe failed: arping on ${dev.name}: ${r.stderr.trim().split('\n')[0] ?? `exit ${String(r.exitCode)}`}`);
    }
    log.warn('arping is not installed: falling back to ping for the duplicate address probe');
  }
  const r = await run('ping', [family === 6 ? '-6' : '-4', '-c', '3', '-i', secs(timeoutMs / 3), '-W', secs(timeoutMs), '-n', '-q', address], { timeout: timeoutMs + 5_000, log });
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1) return false; // no reply
  // exit 2 (e.g. network unreachable from this node) proves nothing is reachable from here
  if (r.exitCode === 2 && /unreachable/i.test(r.stderr + r.stdout)) return false;
  throw new Error(`duplicate address probe failed: ping ${address}: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`}`);
}

/** arping's statistics line: `3 packets transmitted, 0 packets received, 100% unanswered (0 extra)` */
const ARPING_STATS = /(\d+) packets transmitted, (\d+) packets received/;

/**
 * The probe's verdict from arping's own statistics line (it writes it just before exiting;
 * the exit itself, tearing down the capture ring, takes another ~30 ms here that nobody needs
 * to wait for) or, without that line, from its exit: 0 = replies, 1 with an empty stderr =
 * none, anything else = the probe could not run (`error`, with its stderr).
 */
export function arpingOutcome(stdout: string, exitCode: number | undefined, stderr: string): 'reply' | 'none' | 'error' | undefined {
  const m = ARPING_STATS.exec(stdout);
  if (m && stderr.trim() === '') return Number(m[2]) > 0 ? 'reply' : 'none';
  if (exitCode === undefined) return undefined;
  if (exitCode === 0) return 'reply';
  if (exitCode === 1 && stderr.trim() === '') return 'none';
  return 'error';
}

function arpingVerdict(args: string[], timeoutMs: number): Promise<{ verdict: 'reply' | 'none' | 'error'; exitCode: number | undefined; stderr: string }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    let settled = false;
    const finish = (verdict: 'reply' | 'none' | 'error', exitCode: number | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ verdict, exitCode, stderr: err });
    };
    const child = spawn('arping', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      err ||= `timed out after ${timeoutMs} ms`;
      finish('error', undefined);
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      // the whole line, and nothing on stderr so far (an error is printed before any probe)
      const at = out.search(ARPING_STATS);
      const v = at >= 0 && out.includes('\n', at) ? arpingOutcome(out, undefined, err) : undefined;
      if (v !== undefined) finish(v, undefined);
    });
    child.stderr.on('data', (d: string) => {
      err += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      err = e.code === 'ENOENT' ? 'arping: command not found' : `arping: ${e.message}`;
      finish('error', undefined);
    });
    child.on('close', (code) => finish(arpingOutcome(out, code ?? undefined, err) ?? 'error', code ?? undefined));
  });
}

/** Tell the segment the address moved here (IPv4 on ARP devices). Never throws: an announce is best effort. */
export async function announce(dev: DeviceInfo, address: string, log: Logger, via: NsPrefix = []): Promise<void> {
  if (!net.isIPv4(address) || dev.flags.includes('NOARP') || dev.flags.includes('LOOPBACK')) return;
  // -w 0: do not wait for answers, none come to an unsolicited ARP
  const [file, pre] = via.length === 0 ? ['arping', []] : [via[0]!, [...via.slice(1), 'arping']];
  const r = await run(file, [...pre, '-q', '-U', '-c', '2', '-W', '0.05', '-w', '0', '-i', dev.name, '-S', address, address], { timeout: 10_000, log });
  // no reply is expected to an unsolicited ARP: exit 1 with an empty stderr is a success
  if (r.exitCode !== 0 && !(r.exitCode === 1 && r.stderr.trim() === '')) {
    log.warn({ err: r.stderr.trim() }, `gratuitous ARP for ${address} on ${dev.name} failed`);
  }
}
