// A service's resources as the service layer sees them: the driver instance plus the flags
// every resource carries (optional, disabled, monitored, subset...).
import path from 'node:path';
import type { ServiceConfig } from '../config/model.js';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import type { DriverSpec, Resource, ResourceKind } from '../resources/types.js';
import { driver as syncDriver, internalSyncRid } from '../resources/sync.js';
import { TableValues } from '../config/values.js';
import { commonResourceKeywords } from '../config/keywords.js';
import { type Requirement, type TriggerAction } from '../config/trigger-keywords.js';
import { noTriggers, triggerSetFrom, type TriggerSet } from './triggers.js';
import { requirementsOf } from './requires.js';

export interface ServiceResource {
  rid: string;
  /** section group: "vg" */
  section: string;
  /** status/order class: "disk" */
  kind: ResourceKind;
  type: string;
  subset: string | undefined;
  optional: boolean;
  disabled: boolean;
  monitored: boolean;
  encap: boolean;
  restart: number;
  monitorAction: string;
  /** for fs: depth of the mount point, shallower mounts start first */
  depth: number;
  /** pre_/post_ start/stop commands (src/service/triggers.ts) */
  triggers: TriggerSet;
  /** start_requires / stop_requires */
  requires: Record<TriggerAction, Requirement[]>;
  impl: Resource;
}

export function buildResources(config: ServiceConfig<DriverSpec>, paths: FerryPaths, log: Logger): ServiceResource[] {
  const triggerTimeoutMs = config.defaults.mustDuration('trigger_timeout');
  const list: ServiceResource[] = config.resources.map((rs) => {
    const mnt = rs.driver.section === 'fs' ? rs.kw.string('mnt') : undefined;
    const impl = rs.driver.create({
      rid: rs.rid,
      svcname: config.svcname,
      nodename: config.nodename,
      type: rs.type,
      kw: rs.kw,
      service: config.defaults,
      log: log.child({ rid: rs.rid }),
      paths,
      serviceNodes: config.defaults.list('nodes'),
    });
    return {
      rid: rs.rid,
      section: rs.group,
      kind: rs.driver.kind,
      type: rs.type,
      subset: rs.kw.string('subset') || undefined,
      optional: rs.kw.boolean('optional'),
      disabled: rs.kw.boolean('disable'),
      monitored: rs.kw.boolean('monitor'),
      encap: rs.kw.boolean('encap'),
      restart: rs.kw.mustInteger('restart'),
      monitorAction: rs.kw.mustString('monitor_action'),
      depth: mnt ? path.resolve(mnt).split('/').filter((p) => p.length > 0).length : 0,
      triggers: triggerSetFrom(rs.kw, triggerTimeoutMs),
      requires: { start: requirementsOf(rs.kw.string('start_requires')), stop: requirementsOf(rs.kw.string('stop_requires')) },
      impl,
    };
  });
  if (!list.some((r) => r.rid === internalSyncRid)) {
    // every service has the implicit configuration sync resource, as in v1
    const kw = TableValues.from([...syncDriver.keywords, ...commonResourceKeywords], { src: config.file });
    list.push({
      rid: internalSyncRid,
      section: 'sync',
      kind: 'sync',
      type: 'config',
      subset: undefined,
      optional: false,
      disabled: false,
      monitored: false,
      encap: false,
      restart: 0,
      monitorAction: 'none',
      depth: 0,
      triggers: noTriggers,
      requires: { start: [], stop: [] },
      impl: syncDriver.create({ rid: internalSyncRid, svcname: config.svcname, nodename: config.nodename, type: 'config', kw, log: log.child({ rid: internalSyncRid }), paths }),
    });
  }
  return list;
}

export { compareRid } from './rid-order.js';
