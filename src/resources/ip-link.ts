// The ip driver's link-level helpers: the carrier of a device (netlink), the default route
// through a gateway, and the next free alias label (dev:N). Each bounded, none throws on a
// read that can only say "no".
import type { Logger } from '../log.js';
import { run, runOk } from '../util/exec.js';
import type { Family } from '../util/inet.js';
import { checkInterfaceName, ipCommand, type DeviceInfo, type NsPrefix } from './ip-tools.js';

export interface Carrier {
  carrier: boolean;
  /** the kernel's operstate, lower case: up, down, lowerlayerdown, dormant, unknown... */
  operstate: string;
}

/**
 * The carrier of a device as netlink reports it (`ip -j addr show` or `ip -j link show`):
 * LOWER_UP is the kernel's carrier bit, the one /sys/class/net/<dev>/carrier shows, and
 * operstate the one of /sys/class/net/<dev>/operstate. Netlink rather than sysfs: a sysfs
 * mount shows the network namespace of whoever mounted it, which is not ours when only the
 * network namespace was entered (the lab's nodes, `ip netns exec` aside). An administratively
 * down device has no carrier.
 */
export function carrierOf(dev: Pick<DeviceInfo, 'flags' | 'operstate'>): Carrier {
  const operstate = (dev.operstate ?? 'unknown').toLowerCase();
  // "unknown" is what drivers without operstate support (dummy, some tunnels) say while up
  const carrier = dev.flags.includes('UP') && dev.flags.includes('LOWER_UP') && !['down', 'lowerlayerdown', 'notpresent'].includes(operstate);
  return { carrier, operstate };
}

/** The status message for a link without carrier, or undefined when it has one. */
export function carrierProblem(dev: string, c: Carrier): string | undefined {
  return c.carrier ? undefined : `no carrier on ${dev} (operstate ${c.operstate})`;
}

/** Is there a default route via `gateway` on `dev` (in the namespace `via` enters)? */
export async function hasDefaultRoute(gateway: string, family: Family, dev: string, via: NsPrefix = []): Promise<boolean> {
  checkInterfaceName(dev);
  const [file, args] = ipCommand(via, [family === 6 ? '-6' : '-4', '-j', 'route', 'show', 'default', 'via', gateway, 'dev', dev]);
  const r = await run(file, args, { timeout: 10_000 });
  if (!r.ok) return false;
  try {
    return (JSON.parse(r.stdout.trim() || '[]') as unknown[]).length > 0;
  } catch {
    return false;
  }
}

/** Add the default route via `gateway` on `dev`, unless it is there. */
export async function addDefaultRoute(gateway: string, family: Family, dev: string, log: Logger, via: NsPrefix = []): Promise<void> {
  if (await hasDefaultRoute(gateway, family, dev, via)) return;
  const [file, args] = ipCommand(via, [family === 6 ? '-6' : '-4', 'route', 'add', 'default', 'via', gateway, 'dev', dev]);
  await runOk(file, args, { timeout: 10_000, log });
}

/** Remove the default route via `gateway` on `dev`, if it is there. */
export async function delDefaultRoute(gateway: string, family: Family, dev: string, log: Logger, via: NsPrefix = []): Promise<void> {
  if (!(await hasDefaultRoute(gateway, family, dev, via))) return;
  const [file, args] = ipCommand(via, [family === 6 ? '-6' : '-4', 'route', 'del', 'default', 'via', gateway, 'dev', dev]);
  await runOk(file, args, { timeout: 10_000, log });
}

/**
 * The first free alias label of `dev`, as ifconfig aliases: dev:0, dev:1... skipping the
 * labels already used by its addresses. Undefined when dev:N would exceed the kernel's
 * 15-byte label limit.
 */
export function nextAliasLabel(dev: string, usedLabels: readonly string[]): string | undefined {
  const used = new Set(usedLabels);
  for (let n = 0; n < 256; n++) {
    const label = `${dev}:${n}`;
    if (Buffer.byteLength(label) > 15) return undefined;
    if (!used.has(label)) return label;
  }
  return undefined;
}
