// What a section name means: [DEFAULT], the free [env], a resource [<group>#<index>] or a
// subset [subset#<group>[.<type>]:<name>]; and which keyword table governs its keys.
import type { DriverSchema } from '../vocab/keywords.js';
import type { Keyword } from '../vocab/keywords.js';
import { commonResourceKeywords, defaultKeywords, envSectionName, subsetKeywords } from './keywords.js';
import { findKeyword } from '../vocab/keywords.js';

export type SectionKind =
  | { kind: 'default' }
  | { kind: 'env' }
  | { kind: 'resource'; group: string; index: string; driver: DriverSchema }
  | { kind: 'subset'; group: string; type: string | undefined; name: string; driver: DriverSchema }
  | { kind: 'invalid'; message: string };

const INDEX = /^[A-Za-z0-9_-]+$/;
const GROUP = /^[A-Za-z0-9_]+$/;
const RESOURCE_ID = /^([^#]+)#(.*)$/;
const SUBSET_ID = /^subset#([^.:]*)(?:\.([^:]*))?:(.*)$/;

const knownGroups = (drivers: readonly DriverSchema[]): string =>
  drivers.map((d) => d.section).sort().join(', ');

export function classifySection(name: string, drivers: readonly DriverSchema[]): SectionKind {
  if (name === 'DEFAULT') return { kind: 'default' };
  if (name === envSectionName) return { kind: 'env' };
  const find = (g: string): DriverSchema | undefined => drivers.find((d) => d.section === g);
  if (name.startsWith('subset#')) {
    const m = SUBSET_ID.exec(name);
    if (!m) return { kind: 'invalid', message: `unknown section [${name}]: a subset is written [subset#<group>[.<type>]:<name>]` };
    const [, group = '', type, sname = ''] = m;
    const driver = find(group);
    if (!driver) return { kind: 'invalid', message: `unknown section [${name}]: no resource group "${group}" (known: ${knownGroups(drivers)})` };
    if (type !== undefined && !driver.types.includes(type)) {
      const expected = driver.types.length > 0 ? `expected one of ${driver.types.join(', ')}` : `${group} resources take no type`;
      return { kind: 'invalid', message: `unknown section [${name}]: bad type "${type}" for ${group}: ${expected}` };
    }
    if (!INDEX.test(sname)) return { kind: 'invalid', message: `unknown section [${name}]: bad subset name "${sname}" (letters, digits, '_' and '-' only)` };
    return { kind: 'subset', group, type, name: sname, driver };
  }
  const m = RESOURCE_ID.exec(name);
  if (!m) return { kind: 'invalid', message: `unknown section [${name}]: expected [DEFAULT], [env], [<group>#<index>] or [subset#<group>[.<type>]:<name>]` };
  const [, group = '', index = ''] = m;
  const driver = GROUP.test(group) ? find(group) : undefined;
  if (!driver) return { kind: 'invalid', message: `unknown section [${name}]: no resource group "${group}" (known: ${knownGroups(drivers)})` };
  if (!INDEX.test(index)) return { kind: 'invalid', message: `unknown section [${name}]: bad index "${index}" (letters, digits, '_' and '-' only)` };
  return { kind: 'resource', group, index, driver };
}

/** Keyword table of a section; undefined for [env] (free keys) and invalid sections. */
export function sectionTable(kind: SectionKind): readonly Keyword[] | undefined {
  switch (kind.kind) {
    case 'default':
      return defaultKeywords;
    case 'subset':
      return subsetKeywords;
    case 'resource':
      return resourceTable(kind.driver);
    default:
      return undefined;
  }
}

// Cached so TableValues and validation share one array per driver.
const tables = new WeakMap<DriverSchema, Keyword[]>();
export function resourceTable(driver: DriverSchema): readonly Keyword[] {
  let t = tables.get(driver);
  if (!t) {
    // a driver keyword wins over a common one of the same name (a driver may refine `type`)
    const own = new Set(driver.keywords.map((k) => k.name));
    t = [...driver.keywords, ...commonResourceKeywords.filter((k) => !own.has(k.name))];
    tables.set(driver, t);
  }
  return t;
}

/** Canonical keyword name for `key` (alias resolved); `key` itself for [env] or unknown keys. */
export function canonicalKey(kind: SectionKind, key: string): string {
  const table = sectionTable(kind);
  return (table && findKeyword(table, key)?.name) ?? key;
}

/** Whether a keyword applies to the section's resolved driver type (Keyword.types). */
export function keywordAppliesToType(kw: Keyword, type: string | undefined): boolean {
  return kw.types === undefined || kw.types.length === 0 || (type !== undefined && kw.types.includes(type));
}
