// Scoping (`key@node` > `key@nodes` > `key`, later wins at equal rank) and references in
// values (`{nodename}`, `{env.x}`, `{ip#1.ipname}`...). See docs/configuration.md for the
// exact rule deciding which braces are references: anything else is data, byte for byte.
import type { ConfigDocument, Entry, Section } from './document.js';
import type { DriverSchema } from '../vocab/keywords.js';
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import { findKeyword } from '../vocab/keywords.js';
import { convertValue } from './values.js';
import type { SectionKind } from './sections.js';
import { canonicalKey, classifySection, sectionTable } from './sections.js';
import { configLimits } from './limits.js';

export interface ResolveOptions<D extends DriverSchema = DriverSchema> {
  svcname: string;
  nodename: string;
  /** the resource drivers (src/resources/registry.ts, given by the caller: config does not
   *  import the drivers); tests pass their own */
  drivers: readonly D[];
  /** expansion allowance shared by the resolvers of one check (one per node); a fresh one by default */
  budget?: ExpansionBudget;
  /** node-independent index of the same document, shared by the resolvers of one check */
  index?: DocumentIndex;
}

/** What stopped a reference: a bad one, a cycle, or one of the limits (configLimits). */
export type RefErrorKind = 'reference' | 'cycle' | 'depth' | 'size' | 'budget';

/** A reference that cannot be resolved; `line` is where the offending reference is written. */
export class RefError extends Error {
  readonly kind: RefErrorKind;
  constructor(
    readonly line: number,
    message: string,
    /** for a reference cycle: the ids in it, each once, in reference order */
    readonly cycle?: string[],
    kind?: RefErrorKind,
  ) {
    // a finding about the file, not a bug: no stack trace (capturing one deep in a
    // resolution costs more than the resolution itself)
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.kind = kind ?? (cycle ? 'cycle' : 'reference');
  }
}

/**
 * What reference expansion may still cost: characters produced and references resolved.
 * Shared by the per-node resolvers of one validation, so a file expanding to a few KiB on
 * each of many nodes cannot add up to GiBs, nor thousands of references times many nodes
 * to seconds.
 */
export class ExpansionBudget {
  private chars = 0;
  private refs = 0;
  constructor(
    readonly charLimit: number = configLimits.expansionChars,
    readonly refLimit: number = configLimits.referenceResolutions,
  ) {}
  get exceeded(): boolean {
    return this.chars > this.charLimit || this.refs > this.refLimit;
  }
  /** false once the allowance is spent */
  charge(chars: number, refs: number): boolean {
    this.chars += chars;
    this.refs += refs;
    return !this.exceeded;
  }
  /** the limit that ran out */
  message(): string {
    return this.refs > this.refLimit
      ? `references of the file need more than the limit of ${this.refLimit} resolutions in total`
      : `references of the file expand to more than the limit of ${this.charLimit} characters in total`;
  }
}

/** Node-independent facts of a document: sections by name, their kinds, entries per keyword. */
export class DocumentIndex {
  private readonly kinds = new Map<string, SectionKind>();
  private readonly sectionsByName = new Map<string, Section>();
  private readonly keyIndex = new Map<string, Map<string, KeyEntries>>();

  constructor(
    doc: ConfigDocument,
    readonly drivers: readonly DriverSchema[],
  ) {
    for (const s of doc.sections) if (!this.sectionsByName.has(s.name)) this.sectionsByName.set(s.name, s);
  }

  section(name: string): Section | undefined {
    return this.sectionsByName.get(name);
  }

  kind(name: string): SectionKind {
    let k = this.kinds.get(name);
    if (!k) {
      k = classifySection(name, this.drivers);
      this.kinds.set(name, k);
    }
    return k;
  }

  /** Entries of a section for a keyword (any alias spelling), in file order. */
  keyEntries(sectionName: string, canon: string): KeyEntries | undefined {
    let index = this.keyIndex.get(sectionName);
    if (!index) {
      index = new Map();
      const kind = this.kind(sectionName);
      for (const e of this.section(sectionName)?.entries ?? []) {
        const k = canonicalKey(kind, e.key);
        let ke = index.get(k);
        if (!ke) {
          ke = { entries: [], scoped: false };
          index.set(k, ke);
        }
        ke.entries.push(e);
        if (e.scope !== undefined) ke.scoped = true;
      }
      this.keyIndex.set(sectionName, index);
    }
    return index.get(canon);
  }
}

/** "reference cycle: {a} -> {b} -> {a}", starting at `start` (a member of the cycle) */
function cycleError(line: number, ids: string[], start: string): RefError {
  const i = Math.max(0, ids.indexOf(start));
  const rotated = [...ids.slice(i), ...ids.slice(0, i)];
  const text = [...rotated, rotated[0]].map((s) => `{${s}}`).join(' -> ');
  return new RefError(line, `reference cycle: ${text}`, ids);
}

const depthError = (line: number): RefError =>
  new RefError(line, `references nested deeper than the limit of ${configLimits.referenceDepth} levels`, undefined, 'depth');

const PLAIN_NAMES = new Set(['nodename', 'short_nodename', 'svcname', 'name', 'rid']);
const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOTTED = /^([^.\s{}]+)\.([A-Za-z0-9_]+)$/;
const SECTION_PREFIX = /^[A-Za-z0-9_]+#[A-Za-z0-9_-]+$/;
// errors one value carries (its own and those of the values it refers to): enough to fix a
// file, bounded so a file of many failing references cannot grow lists without end
const MAX_ERRORS_PER_VALUE = 100;

export interface Reference {
  /** offsets of '{' and one past '}' in the value */
  start: number;
  end: number;
  /** text between the braces */
  body: string;
  /** "env"/"DEFAULT"/"ip#1"/any other word for dotted references */
  section?: string;
  key?: string;
}

/**
 * The references in a value, known or not. Braces are a reference when they hold a word
 * (`{nodename}`, `{nodenam}`) or `<prefix>.<key>` with a word or a section id as prefix
 * (`{env.x}`, `{ip#1.ipname}`, `{foo.bar}`), and are not preceded by `$` or `{` nor followed
 * by `}`. So `${VAR}`, `{{.ID}}`, `{}`, `{print $1}`, `{a,b}`, `{1..3}` stay literal. Which
 * references exist is decided when resolving: an unknown one is an error, never kept as text.
 */
export function findReferences(value: string): Reference[] {
  const refs: Reference[] = [];
  if (!value.includes('{')) return refs;
  const re = /\{([^{}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    const before = start > 0 ? value[start - 1] : '';
    if (before === '$' || before === '{' || value[end] === '}') continue;
    const body = m[1] ?? '';
    if (PLAIN.test(body)) {
      refs.push({ start, end, body });
      continue;
    }
    const d = DOTTED.exec(body);
    if (d) {
      const [, section = '', key = ''] = d;
      if (PLAIN.test(section) || SECTION_PREFIX.test(section)) refs.push({ start, end, body, section, key });
    }
  }
  return refs;
}

/** A value resolved, or every reason it cannot be. */
export type Resolution = { ok: true; value: string; nodeDependent: boolean } | { ok: false; errors: RefError[]; nodeDependent: boolean };

/** Resolution of one value, as the resolver computes and memoises it. */
interface Outcome {
  value: string;
  /** empty when resolved */
  errors: RefError[];
  /** longest chain of keyword references below this value (0: none) */
  height: number;
  /** the result may differ on another node: {nodename}, or a keyword with scoped entries on the way */
  nodeDependent: boolean;
  /** a depth error is among `errors`: entered less deep, the value may resolve */
  depthLimited: boolean;
}

interface Memo extends Outcome {
  /** reference depth the value was resolved at */
  depth: number;
}

interface KeyEntries {
  entries: Entry[];
  scoped: boolean;
}

/**
 * Scoping, reference resolution and typed values of one document for one node. Each
 * referenced keyword is resolved once (memoised), so references that fan out cost their
 * number of distinct keywords, not the number of paths through them; depth, size and the
 * total expansion are bounded by configLimits. The document must not change afterwards.
 */
export class Resolver {
  readonly drivers: readonly DriverSchema[];
  readonly svcname: string;
  readonly nodename: string;
  /** `nodes` of [DEFAULT]; empty means this node only (at most configLimits.nodes names) */
  readonly nodes: string[];
  readonly drpnodes: string[];
  readonly index: DocumentIndex;
  private readonly effectiveMemo = new Map<KeyEntries, Entry | undefined>();
  /** by effective entry: on one node, a keyword's value is its effective entry's */
  private readonly memo = new Map<Entry, Memo>();
  private readonly refsOf = new Map<string, Reference[]>();
  /** ids being resolved, outermost first: a reference to one of them is a cycle */
  private readonly stack: string[] = [];
  private readonly budget: ExpansionBudget;

  constructor(
    readonly doc: ConfigDocument,
    opts: ResolveOptions,
  ) {
    this.drivers = opts.drivers;
    this.svcname = opts.svcname;
    this.nodename = opts.nodename;
    this.budget = opts.budget ?? new ExpansionBudget();
    this.index = opts.index ?? new DocumentIndex(doc, this.drivers);
    // nodes/drpnodes decide scoping, so they are read literally: unscoped, no references
    const listOf = (key: string): string[] => {
      const e = this.section('DEFAULT')?.entries.filter((x) => x.key === key && x.scope === undefined).at(-1);
      return e ? nodeList(e.value).slice(0, configLimits.nodes) : [];
    };
    this.nodes = listOf('nodes');
    this.drpnodes = listOf('drpnodes');
  }

  /** First section of that name (a duplicate is a reader error). */
  section(name: string): Section | undefined {
    return this.index.section(name);
  }

  kind(name: string): SectionKind {
    return this.index.kind(name);
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

  private keyEntries(sectionName: string, canon: string): KeyEntries | undefined {
    return this.index.keyEntries(sectionName, canon);
  }

  /** Whether a keyword has scoped entries, i.e. its effective entry may differ per node. */
  isScoped(sectionName: string, key: string): boolean {
    return this.keyEntries(sectionName, canonicalKey(this.kind(sectionName), key))?.scoped ?? false;
  }

  /** The entry in effect on this node for a keyword (any alias spelling), if any. */
  effective(sectionName: string, key: string): Entry | undefined {
    const ke = this.keyEntries(sectionName, canonicalKey(this.kind(sectionName), key));
    if (!ke) return undefined;
    if (this.effectiveMemo.has(ke)) return this.effectiveMemo.get(ke);
    let best: Entry | undefined;
    let bestRank = -1;
    for (const e of ke.entries) {
      const rank = this.scopeRank(e.scope);
      if (rank >= 0 && rank >= bestRank) {
        best = e;
        bestRank = rank;
      }
    }
    this.effectiveMemo.set(ke, best);
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

  /** Resolve the references of an entry's value. Throws the first RefError. */
  resolveEntry(sectionName: string, entry: Entry): string {
    const r = this.resolveEntryAll(sectionName, entry);
    if (!r.ok) throw r.errors[0];
    return r.value;
  }

  /**
   * Resolve the references of an entry's value; every bad reference is reported (its own,
   * and those of the values it refers to, each at the line writing it). A cycle is reported
   * from this entry when it is part of it; a value nesting too deep, on this entry's line.
   */
  resolveEntryAll(sectionName: string, entry: Entry): Resolution {
    const canon = canonicalKey(this.kind(sectionName), entry.key);
    const id = `${sectionName}.${canon}`;
    const scoped = this.keyEntries(sectionName, canon)?.scoped ?? false;
    const out = this.effective(sectionName, entry.key) === entry ? this.resolveId(id, sectionName, entry, 0) : this.resolveValue(entry.value, sectionName, entry.line, 0);
    const nodeDependent = out.nodeDependent || scoped;
    if (out.errors.length === 0) return { ok: true, value: out.value, nodeDependent };
    const errors: RefError[] = [];
    let depthSeen = false;
    for (const e of out.errors) {
      if (e.kind === 'cycle' && e.cycle?.includes(id)) errors.push(cycleError(entry.line, e.cycle, id));
      else if (e.kind === 'depth') {
        if (!depthSeen) errors.push(depthError(entry.line));
        depthSeen = true;
      } else errors.push(e);
    }
    return { ok: false, errors, nodeDependent };
  }

  /** The memoised resolution of keyword `id`, whose effective entry is `e`, entered at `depth`. */
  private resolveId(id: string, sectionName: string, e: Entry, depth: number): Outcome {
    const m = this.memo.get(e);
    if (m) {
      if (m.errors.length === 0) {
        if (depth + m.height <= configLimits.referenceDepth) return m;
        // resolved fine from higher up; from here its chain is too long
        return { value: '', errors: [depthError(e.line)], height: 0, nodeDependent: m.nodeDependent, depthLimited: true };
      }
      if (!m.depthLimited || depth >= m.depth) return m;
    }
    this.stack.push(id);
    let out: Outcome;
    try {
      out = this.resolveValue(e.value, sectionName, e.line, depth);
    } finally {
      this.stack.pop();
    }
    const memo: Memo = Object.assign(out, { depth });
    this.memo.set(e, memo);
    return memo;
  }

  /** Resolve references in `value`, written at `line` of `sectionName`, reached `depth` references deep. */
  private resolveValue(value: string, sectionName: string, line: number, depth: number): Outcome {
    if (!value.includes('{')) return text(value);
    let refs = this.refsOf.get(value);
    if (!refs) {
      refs = findReferences(value);
      this.refsOf.set(value, refs);
    }
    if (refs.length === 0) return { value, errors: [], height: 0, nodeDependent: false, depthLimited: false };
    if (!this.budget.charge(0, refs.length)) return fail(new RefError(line, this.budget.message(), undefined, 'budget'));
    const errors = new Set<RefError>();
    let out = '';
    let pos = 0;
    let height = 0;
    let nodeDependent = false;
    let depthLimited = false;
    let oversized = false;
    for (const r of refs) {
      const sub = this.lookup(r, sectionName, line, depth);
      nodeDependent ||= sub.nodeDependent;
      depthLimited ||= sub.depthLimited;
      if (sub.errors.length > 0) {
        for (const e of sub.errors) if (errors.size < MAX_ERRORS_PER_VALUE) errors.add(e);
        continue;
      }
      if (r.section !== undefined) height = Math.max(height, sub.height + 1);
      if (errors.size > 0 || oversized) continue;
      const literal = value.slice(pos, r.start);
      if (out.length + literal.length + sub.value.length > configLimits.valueChars) {
        errors.add(new RefError(line, `value expands to more than the limit of ${configLimits.valueChars} characters`, undefined, 'size'));
        oversized = true;
        continue;
      }
      out += literal + sub.value;
      pos = r.end;
    }
    if (errors.size === 0) {
      out += value.slice(pos);
      if (out.length > configLimits.valueChars) errors.add(new RefError(line, `value expands to more than the limit of ${configLimits.valueChars} characters`, undefined, 'size'));
      else if (!this.budget.charge(out.length, 0)) errors.add(new RefError(line, this.budget.message(), undefined, 'budget'));
    }
    if (errors.size > 0) return { value: '', errors: [...errors], height, nodeDependent, depthLimited };
    return { value: out, errors: [], height, nodeDependent, depthLimited: false };
  }

  private lookup(r: Reference, sectionName: string, line: number, depth: number): Outcome {
    if (r.section === undefined) {
      switch (r.body) {
        case 'nodename':
          return text(this.nodename, true);
        case 'short_nodename':
          return text(this.nodename.split('.')[0] ?? this.nodename, true);
        case 'svcname':
        case 'name':
          return text(this.svcname);
        case 'rid':
          return text(sectionName);
        default:
          return fail(new RefError(line, `unknown reference {${r.body}}: not one of ${[...PLAIN_NAMES].map((n) => `{${n}}`).join(', ')}`));
      }
    }
    const key = r.key ?? '';
    const target = this.section(r.section);
    if (!target && r.section !== 'DEFAULT' && r.section !== 'env') {
      return fail(new RefError(line, `unknown reference {${r.body}}: no section [${r.section}]`));
    }
    const kind = this.kind(r.section);
    if (kind.kind === 'invalid') return fail(new RefError(line, `unknown reference {${r.body}}: [${r.section}] is not a valid section`));
    const table = sectionTable(kind);
    const kw = table ? findKeyword(table, key) : undefined;
    if (table && !kw) return fail(new RefError(line, `unknown reference {${r.body}}: no keyword "${key}" in [${r.section}]`));
    const canon = kw?.name ?? key;
    const id = `${r.section}.${canon}`;
    const scoped = this.keyEntries(r.section, canon)?.scoped ?? false;
    const at = this.stack.indexOf(id);
    if (at >= 0) {
      // reported at `line`, i.e. from the entry holding this reference (the stack's last)
      const ids = this.stack.slice(at);
      return fail(cycleError(line, ids, ids.at(-1) ?? id), scoped);
    }
    const e = this.effective(r.section, canon);
    if (!e) {
      if (kw?.default !== undefined) return text(renderValue(kw.default, kw), scoped);
      return fail(new RefError(line, `unknown reference {${r.body}}: ${r.section}.${canon} is not set${r.section === 'env' ? '' : ' and has no default'}`), scoped);
    }
    if (depth + 1 > configLimits.referenceDepth) return fail(depthError(line), scoped);
    const out = this.resolveId(id, r.section, e, depth + 1);
    return scoped && !out.nodeDependent ? { ...out, nodeDependent: true } : out;
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

const fail = (e: RefError, nodeDependent = false): Outcome => ({ value: '', errors: [e], height: 0, nodeDependent, depthLimited: e.kind === 'depth' });
const text = (value: string, nodeDependent = false): Outcome => ({ value, errors: [], height: 0, nodeDependent, depthLimited: false });

/** Names of a `nodes`/`drpnodes` value, as written (blank or comma separated). */
export function nodeList(value: string): string[] {
  return value.trim().split(/[\s,]+/).filter((w) => w.length > 0);
}

/**
 * A typed value as text that reads back to the same value: lists space separated, booleans
 * true/false, durations with a unit (a bare number would read back as seconds).
 */
export function renderValue(v: KeywordValue, kw?: Keyword): string {
  if (kw?.type === 'duration' && typeof v === 'number') return v % 1000 === 0 ? `${v / 1000}s` : `${v}ms`;
  return Array.isArray(v) ? v.join(' ') : String(v);
}
