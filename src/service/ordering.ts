// Start order (GUIDE §3): ip → disk → fs (shallower first) → share → container → app, except
// ip resources of type netns, which live in a container's namespace: right after the
// containers, before the apps (so stopped before the containers); within a
// group, subsets in name order (resources without a subset first); members of a subset whose
// section says `parallel = true` run concurrently. Stop is the exact reverse.
import type { SubsetSection } from '../config/model.js';
import type { PriorOwner, ResourceKind } from '../resources/types.js';
import { compareRid, type ServiceResource } from './resources.js';

export const startGroupOrder: readonly ResourceKind[] = ['ip', 'disk', 'fs', 'share', 'container', 'app'];

export interface Stage {
  kind: ResourceKind;
  subset: string | undefined;
  parallel: boolean;
  members: ServiceResource[];
}

function subsetSectionFor(r: ServiceResource, subsets: readonly SubsetSection[]): SubsetSection | undefined {
  if (!r.subset) return undefined;
  // [subset#container.docker:x] or [subset#container:x]; v1 also spells disks as disk.vg
  return subsets.find(
    (s) =>
      s.name === r.subset &&
      (s.group === r.section || s.group === r.kind) &&
      (s.type === undefined || s.type === r.type || s.type === r.section),
  );
}

function memberOrder(a: ServiceResource, b: ServiceResource): number {
  if (a.kind === 'fs' && a.depth !== b.depth) return a.depth - b.depth;
  return compareRid(a.rid, b.rid);
}

/** The stages of a start, in order. `sync` resources are not started by service actions. */
/** ip resources whose address lives in a container's network namespace */
const inContainer = (r: ServiceResource): boolean => r.kind === 'ip' && r.type === 'netns';

export function startPlan(resources: readonly ServiceResource[], subsets: readonly SubsetSection[]): Stage[] {
  const stages: Stage[] = [];
  const groups = startGroupOrder.flatMap((kind): { kind: ResourceKind; netns: boolean }[] =>
    kind === 'container' ? [{ kind, netns: false }, { kind: 'ip', netns: true }] : [{ kind, netns: false }],
  );
  for (const { kind, netns } of groups) {
    const ofKind = resources.filter((r) => r.kind === kind && !r.disabled && inContainer(r) === netns);
    const names = [...new Set(ofKind.map((r) => r.subset ?? ''))].sort();
    for (const name of names) {
      const members = ofKind.filter((r) => (r.subset ?? '') === name).sort(memberOrder);
      const section = members[0] ? subsetSectionFor(members[0], subsets) : undefined;
      stages.push({ kind, subset: name || undefined, parallel: section?.parallel ?? false, members });
    }
  }
  return stages;
}

/** The stages of a stop: the start plan reversed, members reversed too. */
export function stopPlan(resources: readonly ServiceResource[], subsets: readonly SubsetSection[]): Stage[] {
  return startPlan(resources, subsets)
    .reverse()
    .map((s) => ({ ...s, members: [...s.members].reverse() }));
}

/** Keep only the resources selected by --rid / --subset (both comma lists); empty means all. */
export function selectResources(
  resources: readonly ServiceResource[],
  rids: readonly string[],
  subsetNames: readonly string[],
): ServiceResource[] {
  return resources.filter(
    (r) => (rids.length === 0 || rids.includes(r.rid)) && (subsetNames.length === 0 || (r.subset !== undefined && subsetNames.includes(r.subset))),
  );
}

/** The start plan cut in three: the address stages, the stages run beside them, the rest after both. */
export interface SplitPlan {
  address: Stage[];
  beside: Stage[];
  rest: Stage[];
}

/** the groups that never use the service address: block devices and the filesystems on them */
const besideAddress: readonly ResourceKind[] = ['disk', 'fs'];

/**
 * May the storage start beside the address, before the duplicate-address guard has spoken?
 * Only when the previous owner is proven out of the way: confirmed fenced, or it stopped the
 * service itself and said so (a handover). Otherwise the guard is also the evidence that the
 * previous owner is gone — an agent that crashed on a live node stops every heartbeat, the
 * disk's too, while its kernel still holds the address and its mounts — and a fsck (journal
 * replay) or a mount of a shared disk must not run before it: the plan runs in order.
 */
export function storageMayStartBesideAddress(prior: PriorOwner | undefined): boolean {
  return prior === 'fenced' || prior === 'handover';
}

/**
 * How a start runs its host addresses beside the disk and fs starts (when
 * storageMayStartBesideAddress): those need no address,
 * and an address start is mostly its duplicate-address probe, so the probe's window is spent
 * bringing the storage up. The address is still up before anything that may use it (share,
 * container, app: the stages after fs) and stops last (the stop plan is unchanged).
 * Undefined (run the plan in order) when there is nothing to run beside the addresses, or
 * when a start requirement ties one branch to the other (`start_requires = ip#1(up)` on a fs).
 */
export function splitStartPlan(stages: readonly Stage[]): SplitPlan | undefined {
  let i = 0;
  while (i < stages.length && stages[i]!.kind === 'ip' && stages[i]!.members.every((r) => !inContainer(r))) i++;
  let j = i;
  while (j < stages.length && besideAddress.includes(stages[j]!.kind)) j++;
  const address = stages.slice(0, i);
  const beside = stages.slice(i, j);
  if (address.length === 0 || beside.length === 0) return undefined;
  const rids = (ss: readonly Stage[]) => new Set(ss.flatMap((s) => s.members.map((r) => r.rid)));
  const ties = (from: readonly Stage[], to: Set<string>) => from.some((s) => s.members.some((r) => r.requires.start.some((q) => to.has(q.rid))));
  if (ties(beside, rids(address)) || ties(address, rids(beside))) return undefined;
  return { address, beside, rest: stages.slice(j) };
}
