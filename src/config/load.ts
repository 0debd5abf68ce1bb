// Service file -> ServiceConfig: locate, read, validate, then build the typed model the
// service layer and drivers use. Nothing is built from a file that has errors.
import path from 'node:path';
import type { FerryPaths } from '../paths.js';
import { NoSuchService, UsageError, UserError } from '../vocab/errors.js';
import { ConfigError, ConfigInvalid } from './errors.js';
import { configLimits, formatBytes } from './limits.js';
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import { defaultKeywords } from './keywords.js';
import type { ResourceSection, ServiceConfig, SubsetSection } from './model.js';
import type { ResolveOptions } from './resolve.js';
import { Resolver } from './resolve.js';
import { keywordAppliesToType, resourceTable } from './sections.js';
import { validateText } from './validate.js';
import { TableValues } from './values.js';
import type { BoundedRead } from '../util/bounded-read.js';
import { readRegularFile } from '../util/bounded-read.js';
import type { DriverSchema } from '../vocab/keywords.js';

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]*$/i;

export function checkServiceName(svcname: string): void {
  if (!SERVICE_NAME.test(svcname)) {
    throw new UsageError(`invalid service name "${svcname}": letters, digits, '.', '_' and '-' only, starting with a letter or digit`);
  }
}

/** Path of a service's file. */
/** a service's file name in the services directory; group 1 is the service's name */
export const SERVICE_FILE_NAME = /^([a-z0-9][a-z0-9._-]*)\.env$/i;

export function serviceFile(paths: FerryPaths, svcname: string): string {
  checkServiceName(svcname);
  return path.join(paths.services, `${svcname}.env`);
}

/**
 * A service given by name, or by the path of its .env file (anything containing '/'):
 * then the service name is the file's basename without `.env`.
 */
export function locateService(paths: FerryPaths, svcnameOrPath: string): { svcname: string; file: string } {
  if (svcnameOrPath.includes('/')) {
    const file = path.resolve(svcnameOrPath);
    const svcname = path.basename(file).replace(/\.env$/, '');
    checkServiceName(svcname);
    return { svcname, file };
  }
  return { svcname: svcnameOrPath, file: serviceFile(paths, svcnameOrPath) };
}

/**
 * File text; a missing file is an operator error, a file over configLimits.fileBytes (or
 * not a regular file) a ConfigInvalid at line 1. Never reads more than the limit.
 */
export function readServiceText(file: string, svcname: string): string {
  const limit = configLimits.fileBytes;
  let r: BoundedRead;
  try {
    r = readRegularFile(file, limit);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NoSuchService(`service ${svcname} does not exist (no ${file})`);
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (r.ok) return r.text;
  if (r.reason === 'not-regular') throw new ConfigInvalid([new ConfigError(file, 1, 'not a regular file')]);
  const size = r.size === undefined ? '' : ` (${r.size} bytes)`;
  throw new ConfigInvalid([new ConfigError(file, 1, `file larger than the limit of ${formatBytes(limit)}${size}`)]);
}

export interface ReadResult<D extends DriverSchema = DriverSchema> {
  config?: ServiceConfig<D>;
  errors: ConfigError[];
  warnings: ConfigError[];
}

/** drivers: src/resources/registry.ts `drivers` (config does not import the drivers). */
export function readServiceConfig<D extends DriverSchema>(file: string, svcname: string, nodename: string, drivers: readonly D[]): ReadResult<D> {
  const text = readServiceText(file, svcname);
  return buildServiceConfig(text, file, { svcname, nodename, drivers });
}

/**
 * The service's configuration for this node; throws ConfigInvalid listing every error, or
 * UserError when the file is missing. Use locateService() to turn a name or path into `file`.
 */
export function loadServiceConfig<D extends DriverSchema>(file: string, svcname: string, nodename: string, drivers: readonly D[]): ServiceConfig<D> {
  const r = readServiceConfig(file, svcname, nodename, drivers);
  if (!r.config) throw new ConfigInvalid(r.errors);
  return r.config;
}

export function buildServiceConfig<D extends DriverSchema>(text: string, file: string, opts: ResolveOptions<D>): ReadResult<D> {
  const { doc, errors, warnings } = validateText(text, file, opts);
  if (errors.length > 0) return { errors, warnings };
  const r = new Resolver(doc, opts);
  const resources: ResourceSection<D>[] = [];
  const subsets: SubsetSection[] = [];
  const env: Record<string, string> = {};
  for (const sec of doc.sections) {
    const kind = r.kind(sec.name);
    if (kind.kind === 'env') {
      for (const e of sec.entries) {
        const eff = r.effective(sec.name, e.key);
        if (eff) env[e.key] = r.resolveEntry(sec.name, eff);
      }
    } else if (kind.kind === 'resource') {
      const type = r.resourceType(sec.name) ?? '';
      const table = resourceTable(kind.driver);
      // `type` is given its resolved value (driver default included) so drivers can read it too
      const given = table.filter((k) => k.name !== 'type' && keywordAppliesToType(k, type));
      const kw = values(r, sec.name, given, table, type.length > 0 ? { type } : {});
      // the same object, typed as the caller's drivers
      const driver = opts.drivers.find((d): boolean => d === kind.driver);
      if (!driver) throw new Error(`internal: driver of [${sec.name}] is not among the drivers given`);
      resources.push({ rid: sec.name, group: kind.group, index: kind.index, line: sec.line, driver, type, kw });
    } else if (kind.kind === 'subset') {
      const parallel = subsetParallel(r, sec.name);
      subsets.push({ group: kind.group, type: kind.type, name: kind.name, parallel, line: sec.line });
    }
  }
  const defaults = values(r, 'DEFAULT', defaultKeywords, defaultKeywords);
  return {
    config: { svcname: opts.svcname, file, nodename: opts.nodename, doc, defaults, env, resources, subsets, warnings },
    errors: [],
    warnings,
  };
}

function subsetParallel(r: Resolver, section: string): boolean {
  const kw = r.table(section)?.find((k) => k.name === 'parallel');
  return kw ? r.value(section, kw) === true : false;
}

/** TableValues over `table` holding the keywords of `set` given in the section (typed). */
function values(r: Resolver, section: string, set: readonly Keyword[], table: readonly Keyword[], extra: Record<string, KeywordValue> = {}): TableValues {
  const m = new Map<string, KeywordValue>(Object.entries(extra));
  for (const kw of set) {
    if (!r.effective(section, kw.name)) continue;
    const v = r.value(section, kw);
    if (v !== undefined) m.set(kw.name, v);
  }
  return new TableValues(table, m);
}
