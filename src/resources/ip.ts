// ip resources: a service address carried by a network device of the owner node. Start
// refuses an address somebody else already answers for (duplicate-IP guard), then adds it
// and announces it with gratuitous ARP so neighbours update their caches at once.
import type { Logger } from '../log.js';
import type { Family } from '../util/inet.js';
import { familyOf, inSubnet, parseNetmask, sameAddress } from '../util/inet.js';
import type { EngineTarget } from './container-engine.js';
import { privateEngine } from './container-private.js';
import { addDefaultRoute, carrierOf, carrierProblem, delDefaultRoute, hasDefaultRoute, nextAliasLabel } from './ip-link.js';
import { containerPid, enterNetns, plugLink, unplugLink } from './ip-netns.js';
import type { DeviceInfo, NsPrefix } from './ip-tools.js';
import { addAddress, addressAnswers, announce, checkInterfaceName, delAddress, interfaceNameProblem, readDevice, resolveAddress } from './ip-tools.js';
import type { PrepareOptions, PreparedStart, PriorOwner, Resource, ResourceContext, StartOptions, StatusReport, StopOptions } from './types.js';
import { performance } from 'node:perf_hooks';

/** how old the status read a stop reuses may be */
const RECENT_READ_MS = 1_000;
import { consumeProbe, prepareProbe, replyIsDuplicate, takeProbe, type PreparedVerdict } from './ip-prepared-probe.js';
import { EVENT } from '../events.js';

/**
 * The duplicate-address probe's window for a start: the shorter handover window when the
 * previous owner is known to be out of the way (confirmed fenced, or it stopped the service
 * and said so), else the full one, never longer than the full one. Never zero: the probe is
 * not skipped (a third party, or a node outside the cluster, may hold the address).
 */
export function probeWindowMs(prior: PriorOwner | undefined, fullMs: number, handoverMs: number): number {
  return prior === undefined ? fullMs : Math.min(fullMs, handoverMs);
}

/** The prefix to use: the netmask keyword, else the one of a same-subnet address already on the device. */
function choosePrefix(dev: DeviceInfo, address: string, family: Family, netmask: string | undefined): number {
  if (netmask !== undefined && netmask.trim() !== '') {
    const p = parseNetmask(netmask, family);
    if (p === undefined) throw new Error(`bad netmask "${netmask}" for an IPv${family} address: give a prefix length${family === 4 ? ' or a dotted mask' : ''}`);
    return p;
  }
  const peer = dev.addresses.find((a) => a.family === family && inSubnet(address, a.local, a.prefixlen));
  if (!peer) {
    throw new Error(`no netmask given and no address of the ${address} subnet on ${dev.name} to take it from: set netmask`);
  }
  return peer.prefixlen;
}

function findOnDevice(dev: DeviceInfo, address: string) {
  return dev.addresses.find((a) => sameAddress(a.local, address));
}

/** Where the address lives: the host device, or a device inside a container's namespace. */
type Place = { via: NsPrefix; dev: string } | { missing: string };

class IpResource implements Resource {
  readonly kind = 'ip' as const;
  /** a handover's release is awaited after the device checks, before the duplicate-address probe */
  readonly awaitsRelease = true;
  /** the host device as the last status() read it (stop() after a status read uses it) */
  private lastHostRead: { dev: DeviceInfo; at: number } | undefined;
  readonly rid: string;
  private readonly ipname: string;
  private readonly ipdev: string;
  private readonly netmask: string | undefined;
  private readonly log: Logger;
  private readonly probeTimeoutMs: number;
  /** the window when the previous owner is known to be out of the way (fenced, or it handed over) */
  private readonly handoverProbeMs: number;
  private readonly checkCarrier: boolean;
  private readonly gateway: string | undefined;
  private readonly alias: boolean;
  /** type netns: the container resource whose namespace holds the address, and the device there */
  private readonly netns: string | undefined;
  private readonly nsdev: string;

  constructor(private readonly ctx: ResourceContext) {
    this.rid = ctx.rid;
    this.ipname = ctx.kw.string('ipname') ?? '';
    this.ipdev = ctx.kw.string('ipdev') ?? '';
    this.netmask = ctx.kw.string('netmask');
    this.log = ctx.log;
    this.probeTimeoutMs = ctx.kw.mustDuration('dup_probe_timeout');
    this.handoverProbeMs = ctx.kw.mustDuration('dup_probe_timeout_handover');
    this.checkCarrier = ctx.kw.get('check_carrier') === undefined ? true : ctx.kw.boolean('check_carrier');
    this.gateway = ctx.kw.string('gateway') || undefined;
    this.alias = ctx.kw.boolean('alias');
    this.netns = ctx.type === 'netns' ? ctx.kw.string('netns') || undefined : undefined;
    this.nsdev = ctx.kw.string('nsdev') || `eth${ctx.rid.slice(ctx.rid.indexOf('#') + 1).replace(/[^0-9]/g, '') || '1'}`;
  }

  private get label(): string {
    return this.ctx.type === 'netns' ? `${this.ipname}@${this.netns ?? ''}` : `${this.ipname}@${this.ipdev}`;
  }

  /** the engines a container of the service may run in, its private ones first */
  private engines(): EngineTarget[] {
    const dataDir = this.ctx.service?.string('docker_data_dir') ?? '';
    const args = this.ctx.service?.string('docker_daemon_args') ?? '';
    return (['docker', 'podman'] as const).map((cli): EngineTarget => {
      if (dataDir.length > 0) {
        const pe = privateEngine(cli, this.ctx.svcname, this.ctx.paths, dataDir, args);
        if (!('error' in pe)) return pe.target;
      }
      return { cli, host: undefined };
    });
  }

  private async containerPid(): Promise<number | undefined> {
    if (this.netns === undefined) throw new Error('type netns needs netns = container#<index>');
    return containerPid(this.engines(), this.ctx.svcname, this.ctx.nodename, this.netns, this.log);
  }

  private async place(): Promise<Place> {
    if (this.ctx.type !== 'netns') return { via: [], dev: this.ipdev };
    const pid = await this.containerPid();
    if (pid === undefined) return { missing: `netns ${this.netns ?? ''}: no running container for it` };
    return { via: enterNetns(pid), dev: this.nsdev };
  }

  /** the host device's carrier problem, from the same netlink read as its addresses (one `ip` run, not two) */
  private carrierMessage(host: DeviceInfo): string | undefined {
    return this.checkCarrier ? carrierProblem(this.ipdev, carrierOf(host)) : undefined;
  }

  async start(opts: StartOptions = {}): Promise<void> {
    // before anything runs: the name goes to `ip ... dev NAME`, which has no `--`
    checkInterfaceName(this.ipdev);
    checkInterfaceName(this.nsdev);
    const res = await resolveAddress(this.ipname);
    if ('error' in res) throw new Error(res.error);
    if (this.gateway !== undefined && familyOf(this.gateway) !== res.family) throw new Error(`gateway ${this.gateway} is not an IPv${res.family} address like ${res.address}`);
    const windowMs = probeWindowMs(opts.prior, this.probeTimeoutMs, this.handoverProbeMs);
    // a probe prepared while the previous owner was suspect: used only if its evidence is as
    // long and as recent as the normal probe's would be (ip-prepared-probe.ts), else the normal
    // probe. What is left of its window runs out beside the device checks below, which read
    // and change nothing it proves; any way out before its verdict is used kills it.
    const taken = takeProbe(this.ipdev, res.address);
    const began = Date.now();
    let waitedMs = 0;
    // a handover: the checks below run while the owner still stops the service; nothing is
    // probed for nor added before it announced the address removed (its evidence counts from then)
    const released = opts.released ? opts.released() : Promise.resolve(undefined);
    const verdict = released.then(
      (releasedAt) => (taken ? consumeProbe(taken, windowMs, releasedAt).then((v) => ((waitedMs = Date.now() - began), v)) : undefined),
      (e: unknown) => {
        taken?.kill();
        throw e;
      },
    );
    // a way out before the verdict is used: the probe goes, and so does the wait on it
    const abandonProbe = (): void => {
      taken?.kill();
      verdict.catch(() => undefined);
    };
    let host: DeviceInfo;
    let place: Place;
    let prefix: number;
    try {
      const read = await readDevice(this.ipdev);
      if (!read) throw new Error(`device ${this.ipdev} does not exist`);
      host = read;
      place = await this.place();
      if ('missing' in place) throw new Error(`${place.missing} (it must start first)`);
      const current = place.via.length === 0 ? host : await readDevice(place.dev, place.via);
      if (current && findOnDevice(current, res.address)) {
        abandonProbe();
        this.log.info(`${res.address} is already on ${place.dev}`);
        if (this.gateway !== undefined) await addDefaultRoute(this.gateway, res.family, place.dev, this.log, place.via);
        return;
      }
      prefix = choosePrefix(current && current.addresses.length > 0 ? current : host, res.address, res.family, this.netmask);
      // an administratively down device can neither probe for duplicates nor serve the address
      if (!host.flags.includes('UP')) throw new Error(`device ${this.ipdev} is down`);
      const noCarrier = this.carrierMessage(host);
      if (noCarrier !== undefined) throw new Error(noCarrier);
    } catch (e) {
      abandonProbe();
      throw e;
    }
    const duplicate = () => new Error(`${res.address} already answers on the network through ${this.ipdev}: refusing to start a duplicate address`);
    const prepared: PreparedVerdict | undefined = await verdict;
    const used = prepared?.verdict === 'free' || prepared?.verdict === 'reply';
    this.log.info(
      { event: EVENT.ipDupProbe, prepared: used, windowMs, ...(prepared ? { verdict: prepared.verdict, waitedMs } : {}), ...(prepared?.verdict === 'free' ? { probedMs: prepared.probedMs } : {}), ...(prepared?.verdict === 'unusable' ? { why: prepared.why } : {}) },
      used ? `duplicate-address probe of ${res.address}: the prepared probe (${prepared.verdict}, waited ${waitedMs} ms)` : `duplicate-address probe of ${res.address}: ${prepared?.verdict === 'unusable' ? `${prepared.why}, ` : ''}a new probe`,
    );
    // (a handover probe's reply is not conclusive: the new probe below, started after the announce, decides)
    if (prepared?.verdict === 'reply' && taken !== undefined && replyIsDuplicate(taken)) throw duplicate();
    if (prepared?.verdict !== 'free' && (await addressAnswers(host, res.address, res.family, this.log, windowMs))) throw duplicate();
    let dev = host;
    if (place.via.length > 0) {
      const pid = Number(place.via[2]);
      await plugLink(this.ipdev, pid, this.nsdev, this.log);
      const inside = await readDevice(this.nsdev, place.via);
      if (!inside) throw new Error(`device ${this.nsdev} did not appear in the namespace of ${this.netns ?? ''}`);
      dev = inside;
      place = { via: place.via, dev: this.nsdev };
    }
    const label = this.alias && res.family === 4 ? nextAliasLabel(dev.name, dev.addresses.map((a) => a.label ?? '')) : undefined;
    if (this.alias && res.family === 4 && label === undefined) throw new Error(`no free alias label on ${dev.name} (labels are at most 15 bytes)`);
    await addAddress(place.dev, res.address, prefix, res.family, this.log, { via: place.via, ...(label !== undefined ? { label } : {}) });
    this.log.info(`added ${res.address}/${prefix} to ${place.dev}${label !== undefined ? ` as ${label}` : ''}${this.netns !== undefined ? ` in the namespace of ${this.netns}` : ''}`);
    if (this.gateway !== undefined) await addDefaultRoute(this.gateway, res.family, place.dev, this.log, place.via);
    // best effort and ~90 ms of arping: the next resources need not wait for it
    void announce(dev, res.address, this.log, place.via);
  }

  /**
   * While the owner is suspect: start the rolling probe of the address on the host device
   * (read-only: ARP probes with sender 0.0.0.0). Nothing when the start would not probe (the
   * address is already here, the device is down or has no carrier, no ARP on it: the start
   * then fails or probes as usual).
   */
  async prepareStart(ttlMs: number, opts: PrepareOptions = {}): Promise<PreparedStart | undefined> {
    if (interfaceNameProblem(this.ipdev) !== undefined) return undefined;
    const res = await resolveAddress(this.ipname);
    if ('error' in res || res.family !== 4) return undefined;
    // the probe first (arping takes ~40 ms to open its capture, and its evidence only counts
    // from then), the device checks beside it: a probe they rule out is killed at once
    const { cancel } = prepareProbe(this.ipdev, res.address, ttlMs, undefined, opts.handover === true);
    try {
      const host = await readDevice(this.ipdev);
      const usable = host !== undefined && host.name === this.ipdev && host.flags.includes('UP') && !host.flags.includes('NOARP') && !host.flags.includes('LOOPBACK');
      if (!usable || (this.ctx.type !== 'netns' && findOnDevice(host, res.address)) || this.carrierMessage(host) !== undefined) {
        cancel();
        return undefined;
      }
    } catch {
      cancel();
      return undefined;
    }
    return { what: `rolling duplicate-address probe of ${res.address} on ${this.ipdev}${opts.handover ? ' (handover)' : ''}`, cancel };
  }

  async stop(opts?: StopOptions): Promise<void> {
    checkInterfaceName(this.ipdev);
    checkInterfaceName(this.nsdev);
    const place = await this.place();
    if ('missing' in place) {
      // no container, no namespace: the address went with it
      this.log.info(`${place.missing}: nothing to stop`);
      return;
    }
    // the caller's status read just before (not down) read the host device: no second `ip`
    // process on a relocation's path (a stale read makes the del fail, never skip it)
    const recent = opts?.checkedNotDown && place.via.length === 0 && this.lastHostRead && performance.now() - this.lastHostRead.at < RECENT_READ_MS ? this.lastHostRead.dev : undefined;
    this.lastHostRead = undefined;
    const dev = recent ?? (await readDevice(place.dev, place.via));
    if (!dev) {
      // no device, no address on it: nothing to take down
      this.log.info(`device ${place.dev} does not exist: nothing to stop`);
      return;
    }
    const res = await resolveAddress(this.ipname);
    // without the address we cannot prove it is gone: failing keeps a failover from going
    // ahead while this node may still hold it
    if ('error' in res) throw new Error(res.error);
    const found = findOnDevice(dev, res.address);
    if (found) {
      if (this.gateway !== undefined && familyOf(this.gateway) === res.family) await delDefaultRoute(this.gateway, res.family, place.dev, this.log, place.via);
      await delAddress(place.dev, found.local, found.prefixlen, this.log, place.via);
      this.log.info(`removed ${found.local}/${found.prefixlen} from ${place.dev}`);
    }
    if (place.via.length > 0) await unplugLink(Number(place.via[2]), this.nsdev, this.log);
  }

  async status(): Promise<StatusReport> {
    const label = this.label;
    try {
      checkInterfaceName(this.ipdev);
      const res = await resolveAddress(this.ipname);
      // An unresolvable name is plainly down, without a message: that is how a passive node
      // whose resolver does not know the service name shows it (seed 003, deb2).
      if ('error' in res) {
        this.log.debug(res.error);
        return { status: 'down', label, messages: [] };
      }
      const host = await readDevice(this.ipdev);
      if (!host) return { status: 'down', label, messages: [`device ${this.ipdev} does not exist`] };
      this.lastHostRead = { dev: host, at: performance.now() };
      const noCarrier = this.carrierMessage(host);
      const place = await this.place();
      if ('missing' in place) return { status: 'down', label, messages: noCarrier !== undefined ? [noCarrier] : [] };
      const dev = place.via.length === 0 ? host : await readDevice(place.dev, place.via);
      const on = dev !== undefined && findOnDevice(dev, res.address) !== undefined;
      // a pulled cable: the address is configured but nobody can reach it
      if (noCarrier !== undefined) return { status: 'down', label, messages: [noCarrier] };
      if (on && this.gateway !== undefined && !(await hasDefaultRoute(this.gateway, res.family, place.dev, place.via))) {
        return { status: 'warn', label, messages: [`default route via ${this.gateway} is missing on ${place.dev}`] };
      }
      return { status: on ? 'up' : 'down', label, messages: [] };
    } catch (e) {
      return { status: 'undef', label, messages: [(e as Error).message] };
    }
  }
}

/** A resource of this driver (its schema, the keyword table: ip-driver.ts). */
export function createResource(ctx: ResourceContext): Resource {
  return new IpResource(ctx);
}
