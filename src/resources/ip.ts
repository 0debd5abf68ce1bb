// ip resources: a service address carried by a network device of the owner node. Start
// refuses an address somebody else already answers for (duplicate-IP guard), then adds it
// and announces it with gratuitous ARP so neighbours update their caches at once.
import type { Logger } from '../log.js';
import type { Family } from '../util/inet.js';
import { inSubnet, parseNetmask, sameAddress } from '../util/inet.js';
import type { DeviceInfo } from './ip-tools.js';
import { addAddress, addressAnswers, announce, checkInterfaceName, delAddress, interfaceNameProblem, readDevice, resolveAddress } from './ip-tools.js';
import type { DriverSpec, Resource, ResourceContext, StatusReport } from './types.js';

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

class IpResource implements Resource {
  readonly kind = 'ip' as const;
  readonly rid: string;
  private readonly ipname: string;
  private readonly ipdev: string;
  private readonly netmask: string | undefined;
  private readonly log: Logger;
  private readonly probeTimeoutMs: number;

  constructor(ctx: ResourceContext) {
    this.rid = ctx.rid;
    this.ipname = ctx.kw.string('ipname') ?? '';
    this.ipdev = ctx.kw.string('ipdev') ?? '';
    this.netmask = ctx.kw.string('netmask');
    this.log = ctx.log;
    this.probeTimeoutMs = ctx.kw.duration('dup_probe_timeout') ?? 200;
  }

  private get label(): string {
    return `${this.ipname}@${this.ipdev}`;
  }

  async start(): Promise<void> {
    // before anything runs: the name goes to `ip ... dev NAME`, which has no `--`
    checkInterfaceName(this.ipdev);
    const res = await resolveAddress(this.ipname);
    if ('error' in res) throw new Error(res.error);
    const dev = await readDevice(this.ipdev);
    if (!dev) throw new Error(`device ${this.ipdev} does not exist`);
    if (findOnDevice(dev, res.address)) {
      this.log.info(`${res.address} is already on ${this.ipdev}`);
      return;
    }
    const prefix = choosePrefix(dev, res.address, res.family, this.netmask);
    // an administratively down device can neither probe for duplicates nor serve the address
    if (!dev.flags.includes('UP')) throw new Error(`device ${this.ipdev} is down`);
    if (await addressAnswers(dev, res.address, res.family, this.log, this.probeTimeoutMs)) {
      throw new Error(`${res.address} already answers on the network through ${this.ipdev}: refusing to start a duplicate address`);
    }
    await addAddress(this.ipdev, res.address, prefix, res.family, this.log);
    this.log.info(`added ${res.address}/${prefix} to ${this.ipdev}`);
    // best effort and ~90 ms of arping: the next resources need not wait for it
    void announce(dev, res.address, this.log);
  }

  async stop(): Promise<void> {
    checkInterfaceName(this.ipdev);
    const dev = await readDevice(this.ipdev);
    if (!dev) {
      // no device, no address on it: nothing to take down
      this.log.info(`device ${this.ipdev} does not exist: nothing to stop`);
      return;
    }
    const res = await resolveAddress(this.ipname);
    // without the address we cannot prove it is gone: failing keeps a failover from going
    // ahead while this node may still hold it
    if ('error' in res) throw new Error(res.error);
    const found = findOnDevice(dev, res.address);
    if (!found) return;
    await delAddress(this.ipdev, found.local, found.prefixlen, this.log);
    this.log.info(`removed ${found.local}/${found.prefixlen} from ${this.ipdev}`);
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
      const dev = await readDevice(this.ipdev);
      if (!dev) return { status: 'down', label, messages: [`device ${this.ipdev} does not exist`] };
      return { status: findOnDevice(dev, res.address) ? 'up' : 'down', label, messages: [] };
    } catch (e) {
      return { status: 'undef', label, messages: [(e as Error).message] };
    }
  }
}

export const driver: DriverSpec = {
  section: 'ip',
  kind: 'ip',
  types: [],
  keywords: [
    {
      name: 'ipname',
      aliases: ['name'],
      type: 'string',
      required: true,
      scopable: true,
      description: 'The service address: a hostname (resolved on each action, IPv4 preferred) or an IPv4/IPv6 address.',
    },
    {
      name: 'ipdev',
      aliases: ['dev'],
      type: 'string',
      required: true,
      scopable: true,
      // refused by `validate config` too, with the line of the keyword
      check: (v) => {
        const why = interfaceNameProblem(String(v));
        return why === undefined ? undefined : `not a valid network interface name: ${why}`;
      },
      description: 'Network device that carries the address on the owner node, for example eth0. A valid interface name (1 to 15 bytes, no \'/\', \':\' or blank, not starting with \'-\'): anything else is refused before any command runs.',
    },
    {
      name: 'dup_probe_timeout',
      type: 'duration',
      default: 200,
      description:
        'How long start listens for another holder of the address (ARP probe, or ping on non-ARP devices) before adding it. A holder on the segment answers in well under a millisecond; the window only guards against lost probes.',
    },
    {
      name: 'netmask',
      type: 'string',
      scopable: true,
      description:
        'Prefix length (24, 64) or dotted IPv4 mask (255.255.255.0) of the address. When not set, the prefix of an address of the same subnet already on the device is used; start fails if there is none.',
    },
  ],
  description:
    'A service IP address on a network device. Start refuses an address that already answers on the network (ARP probe, ping on non-ARP devices), adds it and sends gratuitous ARP; stop removes it.',
  create(ctx: ResourceContext): Resource {
    return new IpResource(ctx);
  },
};
