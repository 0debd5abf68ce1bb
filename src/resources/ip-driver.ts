// The ip driver's schema (section, types, keywords, checks); its resources are ip.ts's,
// loaded at their first use (lazy-driver.ts).
import type { DriverSpec } from './types.js';
import { lazyDriver } from './lazy-driver.js';
import { familyOf } from '../util/inet.js';
import { interfaceNameProblem } from './ip-tools.js';
import { NETNS_RE } from './ip-netns.js';

export const driver: DriverSpec = lazyDriver({
  section: 'ip',
  kind: 'ip',
  types: ['host', 'netns'],
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
      name: 'dup_probe_timeout_handover',
      type: 'duration',
      default: 50,
      description:
        'The duplicate-address probe window (see dup_probe_timeout, which caps it) when the previous owner of the service is known to be out of the way: the daemon\'s takeover after a confirmed fence of that node, or a relocation whose owner stopped the service and said so. The probe still runs (an address may be held by a host outside the cluster); it ends at the first reply. Below 30 ms it is 30 ms.',
    },
    {
      name: 'netmask',
      type: 'string',
      scopable: true,
      description:
        'Prefix length (24, 64) or dotted IPv4 mask (255.255.255.0) of the address. When not set, the prefix of an address of the same subnet already on the device is used; start fails if there is none.',
    },
    {
      name: 'check_carrier',
      type: 'boolean',
      default: true,
      scopable: true,
      description:
        'Check the carrier of ipdev (the kernel carrier bit and operstate, as /sys/class/net/<ipdev>/carrier and operstate show them, read over netlink): without it, status is down with the message `no carrier on <ipdev>` (so a monitored ip fails over when its cable is pulled or its link goes down) and start fails.',
    },
    {
      name: 'gateway',
      type: 'string',
      scopable: true,
      check: (v) => (String(v) === '' || familyOf(String(v)) !== undefined ? undefined : `"${String(v)}" is not an IPv4 or IPv6 address`),
      description:
        'Default route of the address: start adds `default via <gateway>` on the device carrying it (inside the container for type netns), stop removes it with the address. Status is warn while the address is up and the route missing. Same family as the address.',
    },
    {
      name: 'alias',
      type: 'boolean',
      default: false,
      scopable: true,
      description: 'Label the IPv4 address as an interface alias, <dev>:<N> with the first free N from 0 (as ifconfig aliases show it). IPv6 addresses have no labels.',
    },
    {
      name: 'netns',
      type: 'string',
      types: ['netns'],
      scopable: true,
      check: (v) => (NETNS_RE.test(String(v)) ? undefined : `"${String(v)}" is not container#<index>`),
      description:
        'type netns: the container resource of this service (container#<index>) in whose network namespace the address lives. Start creates a macvlan (bridge mode) of ipdev, moves it into the namespace of that container (by the pid its engine reports) as nsdev and adds the address there; stop deletes it. It starts after the containers and stops before them.',
    },
    {
      name: 'nsdev',
      type: 'string',
      types: ['netns'],
      scopable: true,
      check: (v) => {
        const why = interfaceNameProblem(String(v));
        return why === undefined ? undefined : `not a valid network interface name: ${why}`;
      },
      description: 'type netns: name of the device inside the container carrying the address. Default: eth<index of the ip resource>.',
    },
  ],
  check(kw, ctx) {
    if (ctx.type === 'netns' && !(kw.string('netns') ?? '')) return [{ message: 'type netns needs netns = container#<index>' }];
    return [];
  },
  description:
    'A service IP address on a network device (type host, the default) or inside the network namespace of a container of the service (type netns). Start refuses an address that already answers on the network (ARP probe, ping on non-ARP devices), adds it and sends gratuitous ARP; stop removes it.',
  has: { prepareStart: true, awaitsRelease: true },
  load: () => import('./ip.js').then((m) => m.createResource),
});
