// Scoping (`key@node` > `key@nodes` > `key`, later wins at equal rank) and references in
// values (`{nodename}`, `{env.x}`, `{ip#1.ipname}`...). See docs/configuration.md for the
// exact rule deciding which braces are references: anything else is data, byte for byte.
import type { ConfigDocument, Entry, Section } from './document.js';
import type { DriverSpec } from '../resources/types.js';
import type { Keyword, KeywordValue } from './keywords.js';
import { findKeyword } from './keywords.js';
import { convertValue } from './values.js';
import type { SectionKind } from './sections.js';
import { canonicalKey, classifySection, sectionTable } from './sections.js';
import { drivers as registeredDrivers } from '../resources/registry.js';

export interface ResolveOptions {
  svcname: string;
  nodename: string;
  /** defaults to the driver registry; tests pass their own */
  drivers?: readonly DriverSpec[];
}

/** A reference that cannot be resolved; `line` is where the offending reference is written. */
export class RefError extends Error {
  constructor(
    readonly line: number,
    message: string,
    /** for a reference cycle: the ids in it, each once, in reference order */
    readonly cycle?: string[],
  ) {
    super(message);
  }
}

/** "reference cycle: {a} -> {b} -> {a}", starting at `start` (a member of the cycle) */
function cycleError(line: number, ids: string[], start: string): RefError {
  const i = Math.max(0, ids.indexOf(start));
  const rotated = [...ids.slice(i), ...ids.slice(0, i)];
  const text = [...rotated, rotated[0]].map((s) => `{${s}}`).join(' -> ');
  return new RefError(line, `reference cycle: ${text}`, ids);
}

const PLAIN_NAMES = new Set(['nodename', 'short_nodename', 'svcname', 'name', 'rid']);
const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOTTED = /^([^.\s{}]+)\.([A-Za-z0-9_]+)$/;
const SECTION_PREFIX = /^[A-Za-z0-9_]+#[A-Za-z0-9_-]+$/;

export interface Reference {
  /** offsets of '{' and one past '}' in the value */
  start: number;
  end: number;
  /** text between the braces */
  body: string;
  /** "env"/"DEFAULT"/"ip#1" for dotted references */
  section?: string;
  key?: string;
}

/**
 * The references in a value. Braces are a reference only when they hold a known name
 * (`{nodename}`...) or `<prefix>.<key>` with prefix `env`, `DEFAULT` or a section id, are
 * not preceded by `$` or `{` and not followed by `}` (so `${VAR}`, `{{.ID}}`, `{}`,
 * `{print $1}` and `{foo}` stay literal).
 */
export function findReferences(value: string): Reference[] {
  const refs: Reference[] = [];
  const re = /\{([^{}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    const before = start > 0 ? value[start - 1] : '';
    if (before === '$' || before === '{' || value[end] === '}') continue;
    const body = m[1] ?? '';
    if (PLAIN.test(body)) {
      if (PLAIN_NAMES.has(body)) refs.push({ start, end, body });
      continue;
    }
    const d = DOTTED.exec(body);
    if (d) {
      const [, section = '', key = ''] = d;
      if (section === 'env' || section === 'DEFAULT' || SECTION_PREFIX.test(section)) {
        refs.push({ start, end, body, section, key });
      }
    }
  }
  return refs;
}

/** Scoping, reference resolution and typed values of one document for one node. */
export class Resolver {
  readonly drivers: readonly DriverSpec[];
  readonly svcname: string;
  readonly nodename: string;
  /** `nodes` of [DEFAULT]; empty means this node only */
  readonly nodes: string[];
  readonly drpnodes: string[];
  private readonly kinds = new Map<string, SectionKind>();

  constructor(
    readonly doc: ConfigDocument,
    opts: ResolveOptions,
  ) {
    this.drivers = opts.drivers ?? registeredDrivers;
    this.svcname = opts.svcname;
    this.nodename = opts.nodename;
    // nodes/drpnodes decide scoping, so they are read literally: unscoped, no references
    const listOf = (key: string): string[] => {
      const e = this.section('DEFAULT')?.entries.filter((x) => x.key === key && x.scope === undefined).at(-1);
      return e ? e.value.trim().split(/[\s,]+/).filter((w) => w.length > 0) : [];
    };
    this.nodes = listOf('nodes');
    this.drpnodes = listOf('drpnodes');
  }

  /** First section of that name (a duplicate is a reader error). */
  section(name: string): Section | undefined {
    return this.doc.sections.find((s) => s.name === name);
  }

  kind(name: string): SectionKind {
    let k = this.kinds.get(name);
    if (!k) {
      k = classifySection(name, this.drivers);
      this.kinds.set(name, k);
    }
    return k;
  }

  table(name: string): readonly Keyword[] | undefined {
    return sectionTable(this.kind(name));
  }

  /** nodes the `@nodes` scope stands for */
  effectiveNodes(): string[] {
    return this.nodes.length > 0 ? this.nodes : [this.nodename];
  }

  /** 2 = @thisnode, 1 = @nodes/@drpnodes containing this node, 0 = unscoped, -1 = not for this node */
  scopeRank(scope: string | undefined): number {
    if (scope === undefined) return 0;
    const me = this.nodename.toLowerCase();
    const has = (list: string[]): boolean => list.some((n) => n.toLowerCase() === me);
    if (scope === 'nodes') return has(this.effectiveNodes()) ? 1 : -1;
    if (scope === 'drpnodes') return has(this.drpnodes) ? 1 : -1;
    return scope.toLowerCase() === me ? 2 : -1;
  }

  /** The entry in effect on this node for a keyword (any alias spelling), if any. */
  effective(sectionName: string, key: string): Entry | undefined {
    const sec = this.section(sectionName);
    if (!sec) return undefined;
    const kind = this.kind(sectionName);
    const want = canonicalKey(kind, key);
    let best: Entry | undefined;
    let bestRank = -1;
    for (const e of sec.entries) {
      if (canonicalKey(kind, e.key) !== want) continue;
      const rank = this.scopeRank(e.scope);
      if (rank >= 0 && rank >= bestRank) {
        best = e;
        bestRank = rank;
      }
    }
    return best;
  }

  /** `type` of a resource section as written (trimmed), or the driver's default. */
  resourceType(sectionName: string): string | undefined {
    const kind = this.kind(sectionName);
    if (kind.kind === 'subset') return kind.type;
    if (kind.kind !== 'resource') return undefined;
    const e = this.effective(sectionName, 'type');
    const t = e?.value.trim();
    return t !== undefined && t.length > 0 ? t : kind.driver.types[0];
  }

  /** Resolve the references of an entry's value. Throws RefError. */
  resolveEntry(sectionName: string, entry: Entry): string {
    const id = `${sectionName}.${canonicalKey(this.kind(sectionName), entry.key)}`;
    const top = this.effective(sectionName, entry.key) === entry ? [id] : [];
    try {
      return this.resolveValue(entry.value, sectionName, entry.line, top);
    } catch (e) {
      // a cycle is reported where it starts, as seen from the entry being resolved
      if (e instanceof RefError && top.length > 0 && e.cycle?.includes(id)) throw cycleError(entry.line, e.cycle, id);
      throw e;
    }
  }

  /** Resolve references in `value`, written at `line` of `sectionName`. */
  resolveValue(value: string, sectionName: string, line: number, stack: string[]): string {
    const refs = findReferences(value);
    if (refs.length === 0) return value;
    let out = '';
    let pos = 0;
    for (const r of refs) {
      out += value.slice(pos, r.start) + this.lookup(r, sectionName, line, stack);
      pos = r.end;
    }
    return out + value.slice(pos);
  }

  private lookup(r: Reference, sectionName: string, line: number, stack: string[]): string {
    if (r.section === undefined) {
      switch (r.body) {
        case 'nodename':
          return this.nodename;
        case 'short_nodename':
          return this.nodename.split('.')[0] ?? this.nodename;
        case 'svcname':
        case 'name':
          return this.svcname;
        default:
          return sectionName; // rid
      }
    }
    const key = r.key ?? '';
    const target = this.section(r.section);
    if (!target && r.section !== 'DEFAULT' && r.section !== 'env') {
      throw new RefError(line, `unknown reference {${r.body}}: no section [${r.section}]`);
    }
    const table = this.table(r.section);
    const kw = table ? findKeyword(table, key) : undefined;
    if (table && !kw) throw new RefError(line, `unknown reference {${r.body}}: no keyword "${key}" in [${r.section}]`);
    const canon = kw?.name ?? key;
    const id = `${r.section}.${canon}`;
    if (stack.includes(id)) {
      // reported at `line`, i.e. from the entry holding this reference (the stack's last)
      const ids = stack.slice(stack.indexOf(id));
      throw cycleError(line, ids, ids.at(-1) ?? id);
    }
    const e = this.effective(r.section, canon);
    if (!e) {
      if (kw?.default !== undefined) return renderValue(kw.default, kw);
      throw new RefError(line, `unknown reference {${r.body}}: ${r.section}.${canon} is not set${r.section === 'env' ? '' : ' and has no default'}`);
    }
    return this.resolveValue(e.value, r.section, e.line, [...stack, id]);
  }

  /**
   * Typed effective value of a keyword on this node: scoped, resolved, converted; the
   * default when not set. Throws RefError or Error(message) on a bad value.
   */
  value(sectionName: string, kw: Keyword): KeywordValue | undefined {
    const e = this.effective(sectionName, kw.name);
    if (!e) return kw.default;
    const raw = this.resolveEntry(sectionName, e);
    const r = convertValue(kw, raw);
    if ('error' in r) throw new RefError(e.line, r.error);
    return r.value;
  }
}

/**
 * A typed value as text that reads back to the same value: lists space separated, booleans
 * true/false, durations with a unit (a bare number would read back as seconds).
 */
export function renderValue(v: KeywordValue, kw?: Keyword): string {
  if (kw?.type === 'duration' && typeof v === 'number') return v % 1000 === 0 ? `${v / 1000}s` : `${v}ms`;
  return Array.isArray(v) ? v.join(' ') : String(v);
}
