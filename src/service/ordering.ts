// Start order (GUIDE §3): ip → disk → fs (shallower first) → share → container → app, except
// ip resources of type netns, which live in a container's namespace: right after the
// containers, before the apps (so stopped before the containers); within a
// group, subsets in name order (resources without a subset first); members of a subset whose
// section says `parallel = true` run concurrently. Stop is the exact reverse.
import type { SubsetSection } from '../config/model.js';
import type { ResourceKind } from '../resources/types.js';
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
