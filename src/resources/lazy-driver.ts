// A driver whose implementation module is loaded at the first use of one of its resources: its
// schema (section, types, keywords, checks) is what the config layer needs to parse and
// validate a service, and stays eager; the implementation (ip's address tools, the container
// engine, LVM, SCSI PR, mounts...) and the Node modules it takes are loaded only by a service
// that has such a resource, when it acts or reads its status. `svcmgr print status` of a
// service of app resources loads no ip, fs, disk or container code (docs/benchmarks.md, "CLI").
import type { DriverSchema } from '../vocab/keywords.js';
import type { DriverSpec, Resource, ResourceContext, ResourceKind, StatusReport } from './types.js';

/** What the implementation module of a lazy driver exports. */
export type ResourceFactory = (ctx: ResourceContext) => Resource;

export interface LazyDriverSpec extends DriverSchema {
  kind: ResourceKind;
  /** the optional members of its resources (Resource.prepareStart, devices, awaitsRelease): known before the module is */
  has: { prepareStart?: boolean; devices?: boolean; awaitsRelease?: boolean };
  /** the implementation: `() => import('./ip.js').then((m) => m.createResource)` */
  load(): Promise<ResourceFactory>;
}

/** The error of a resource that could not be made, as a status (status never throws). */
function failedStatus(e: unknown): StatusReport {
  return { status: 'undef', label: '', messages: [e instanceof Error ? e.message : String(e)] };
}

export function lazyDriver(spec: LazyDriverSpec): DriverSpec {
  const { load, has, ...schema } = spec;
  let factory: Promise<ResourceFactory> | undefined;
  return {
    ...schema,
    create(ctx: ResourceContext): Resource {
      let impl: Promise<Resource> | undefined;
      const real = (): Promise<Resource> => (impl ??= (factory ??= load()).then((make) => make(ctx)));
      const r: Resource = {
        rid: ctx.rid,
        kind: spec.kind,
        ...(has.awaitsRelease ? { awaitsRelease: true } : {}),
        start: async (opts) => (await real()).start(opts),
        stop: async (opts) => (await real()).stop(opts),
        status: async () => {
          let res: Resource;
          try {
            res = await real();
          } catch (e) {
            return failedStatus(e);
          }
          return res.status();
        },
      };
      if (has.prepareStart) r.prepareStart = async (ttlMs, opts) => (await real()).prepareStart?.(ttlMs, opts);
      if (has.devices) r.devices = async () => {
        const res = await real();
        if (!res.devices) throw new Error(`internal: ${ctx.rid} has no devices()`);
        return res.devices();
      };
      return r;
    },
  };
}
