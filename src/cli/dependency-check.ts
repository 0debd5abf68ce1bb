// `svcmgr start` of a child by hand: refused while a parent is not up somewhere (unless
// --force). The cluster state is the daemon's view; without a daemon, this node's own
// status of the parents configured here (docs/dependencies.md).
import type { ClusterView } from '../daemon/control-protocol.js';
import type { ServiceState } from '../cluster/node-state.js';
import type { PeerInfo } from '../cluster/takeover.js';
import { dependencyFields, parentsOf, parentsVerdict, type DependencyView } from '../cluster/dependencies.js';
import { listServices, Service } from '../service/service.js';
import type { FerryPaths } from '../paths.js';
import { UserError } from '../vocab/errors.js';
import { daemonView } from './relocate.js';
import type { CliContext } from './main.js';

/** The dependency view of a daemon's cluster view, with `svc`'s own edges from its file here. */
export function dependencyViewOf(v: ClusterView, svc: Service): DependencyView {
  const self = v.nodename;
  const local: Record<string, ServiceState | undefined> = { ...v.nodes[self]?.payload?.services };
  const cur = local[svc.svcname];
  if (cur) local[svc.svcname] = { ...withoutEdges(cur), ...edgesOf(svc) };
  const peers: Record<string, PeerInfo> = {};
  for (const [n, nv] of Object.entries(v.nodes)) if (n !== self && nv.state !== 'self') peers[n] = { state: nv.state, payload: nv.payload };
  return { self, local, peers };
}

function withoutEdges(s: ServiceState): ServiceState {
  const { parents: _p, children: _c, ...rest } = s;
  return rest;
}

function edgesOf(svc: Service): Pick<ServiceState, 'parents' | 'children'> {
  return dependencyFields(svc.config.defaults.list('parents'), svc.config.defaults.list('children'));
}

const bare = (avail: ServiceState['avail'], edges: Pick<ServiceState, 'parents' | 'children'>): ServiceState => ({
  avail, overall: avail, frozen: false, orchestrate: 'no', service_type: '', nodes: [], monitor: 'idle', updated: 0, ...edges,
  groups: { container: 'n/a', ip: 'n/a', disk: 'n/a', fs: 'n/a', share: 'n/a', app: 'n/a', sync: 'n/a' },
});

/** Without a daemon: this node's services (their edges), and the status here of `svc`'s parents. */
export async function localDependencyView(paths: FerryPaths, svc: Service): Promise<DependencyView> {
  const local: Record<string, ServiceState | undefined> = {};
  for (const name of listServices(paths)) {
    try {
      const other = name === svc.svcname ? svc : Service.open(paths, name, svc.config.nodename);
      local[name] = bare('n/a', edgesOf(other));
    } catch {
      // a service whose file does not load here: unknown to this check
    }
  }
  const v: DependencyView = { self: svc.config.nodename, local, peers: {} };
  for (const p of parentsOf(svc.svcname, v)) {
    if (!local[p]) continue;
    const st = await Service.open(paths, p, svc.config.nodename).status();
    local[p] = { ...local[p]!, avail: st.avail };
  }
  return v;
}

/** Why `svc` may not start by hand now (its parents), or undefined. */
export function startRefusal(svc: string, v: DependencyView): string | undefined {
  const verdict = parentsVerdict(svc, v);
  return verdict.ok ? undefined : `${svc}: not started: ${verdict.why} (up on no live node; --force starts it anyway)`;
}

/**
 * Throws the refusal of the first of `svcs` whose parents are not up (before anything
 * starts). The daemon's view when one runs here, else this node's own statuses.
 */
export async function checkParentsUp(ctx: CliContext, svcs: Service[]): Promise<void> {
  let view: ClusterView | undefined | null = null;
  for (const svc of svcs) {
    const here = await localDependencyView(ctx.paths, svc);
    if (!parentsOf(svc.svcname, here).length) continue;
    if (view === null) view = (await daemonView(ctx)).view;
    const v = view ? dependencyViewOf(view, svc) : here;
    const why = startRefusal(svc.svcname, v);
    if (why) throw new UserError(why);
  }
}
