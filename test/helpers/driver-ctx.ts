// Build a driver's Resource in-process, for drivers whose effects live in namespaces the test
// process shares (mounts, LVM metadata). Network drivers go through driver-exec instead.
import type { KeywordValue } from '../../src/vocab/keywords.js';
import { TableValues } from '../../src/config/values.js';
import { silentLogger } from '../../src/log.js';
import { ferryPaths } from '../../src/paths.js';
import { findDriver } from '../../src/resources/registry.js';
import type { Resource } from '../../src/resources/types.js';

export interface ResourceOptions {
  type?: string;
  nodename?: string;
  rid?: string;
  svcname?: string;
}

export function makeResource(section: string, kw: Record<string, KeywordValue>, opts: ResourceOptions = {}): Resource {
  const spec = findDriver(section);
  if (!spec) throw new Error(`no driver for section ${section}`);
  return spec.create({
    rid: opts.rid ?? `${section}#1`,
    svcname: opts.svcname ?? 'test',
    nodename: opts.nodename ?? 'node1',
    type: opts.type ?? spec.types[0] ?? '',
    kw: TableValues.from(spec.keywords, kw),
    log: silentLogger(),
    paths: ferryPaths(),
  });
}
