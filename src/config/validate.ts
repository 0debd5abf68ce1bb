// Validation of a service file: every problem at once, each as `file:line: message`, so an
// operator fixes a file in one pass. Warnings are problems that do not stop the service.
import type { ConfigDocument, Entry, Section } from './document.js';
import { parseDocument } from './document.js';
import { ConfigError } from './errors.js';
import type { Keyword } from '../vocab/keywords.js';
import { findKeyword } from '../vocab/keywords.js';
import { defaultKeywords } from './keywords.js';
import { defaultsProblems } from './service-rules.js';
import { convertValue, TableValues } from './values.js';
import type { KeywordValue } from '../vocab/keywords.js';
import type { DriverSchema } from '../vocab/keywords.js';
import { controlCharacter, quote } from '../util/one-line.js';
import { configLimits } from './limits.js';
import type { ResolveOptions } from './resolve.js';
import { ExpansionBudget, findReferences, nodeList, Resolver } from './resolve.js';
import type { SectionKind } from './sections.js';
import { canonicalKey, keywordAppliesToType, sectionTable } from './sections.js';
import { parseRequires, requiresKeywords, shellOperator, triggerKeywords } from './trigger-keywords.js';

export interface ValidationResult {
  errors: ConfigError[];
  warnings: ConfigError[];
}

// a node name as it may appear after '@': hostname characters only
const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
// keywords read before scoping and references exist (they define the scopes)
const LITERAL_KEYS = new Set(['nodes', 'drpnodes']);

/** Parse and validate a service file's text. */
export function validateText(text: string, file: string, opts: ResolveOptions): ValidationResult & { doc: ConfigDocument } {
  const { doc, errors, truncated } = parseDocument(text, file);
  // a file cut short by a size limit would only add errors about what is missing
  if (truncated) return { doc, errors: sortUnique(errors), warnings: [] };
  return { doc, ...validateDocument(doc, errors, opts) };
}

/** Validate a parsed document; `parseErrors` are the reader's, merged in line order. */
export function validateDocument(doc: ConfigDocument, parseErrors: readonly ConfigError[], opts: ResolveOptions): ValidationResult {
  const v = new Validator(doc, opts);
  v.errors.push(...parseErrors);
  for (const section of doc.sections) v.section(section);
  v.subsets();
  v.defaults();
  return { errors: sortUnique(v.errors), warnings: sortUnique(v.warnings) };
}

class Validator {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigError[] = [];
  /** resolver for the local node: section kinds, types, node lists */
  private readonly r: Resolver;
  /** one resolver per node the values are checked for */
  private readonly perNode = new Map<string, Resolver>();
  /** what expanding references may cost, all nodes together */
  private readonly budget = new ExpansionBudget();
  /** the expansion budget ran out (reported once): values are no longer resolved */
  private expansionStopped = false;
  private readonly nodeSets = new Map<string, string[]>();
  private readonly knownNodes: Set<string>;

  constructor(
    private readonly doc: ConfigDocument,
    private readonly opts: ResolveOptions,
  ) {
    this.r = new Resolver(doc, { ...opts, budget: this.budget });
    this.perNode.set(opts.nodename, this.r);
    this.knownNodes = new Set([...this.r.effectiveNodes(), ...this.r.drpnodes].map((n) => n.toLowerCase()));
  }

  private resolverFor(node: string): Resolver {
    let r = this.perNode.get(node);
    if (!r) {
      r = new Resolver(this.doc, { ...this.opts, nodename: node, budget: this.budget, index: this.r.index });
      this.perNode.set(node, r);
    }
    return r;
  }

  /**
   * Nodes an entry with this scope applies to. A file is checked for every node of the
   * service (and this one), so every node gives the same verdict on the same file.
   */
  private nodesFor(scope: string | undefined): string[] {
    const cached = this.nodeSets.get(scope ?? '');
    if (cached) return cached;
    const all = scope === undefined ? [this.opts.nodename, ...this.r.effectiveNodes(), ...this.r.drpnodes]
      : scope === 'nodes' ? this.r.effectiveNodes()
        : scope === 'drpnodes' ? this.r.drpnodes
          : [scope];
    // node names compare case-insensitively: keep the first spelling of each
    const byName = new Map<string, string>();
    for (const n of all) if (!byName.has(n.toLowerCase())) byName.set(n.toLowerCase(), n);
    const nodes = [...byName.values()];
    this.nodeSets.set(scope ?? '', nodes);
    return nodes;
  }

  private error(line: number, message: string): void {
    this.errors.push(new ConfigError(this.doc.file, line, message));
  }
  private warn(line: number, message: string): void {
    this.warnings.push(new ConfigError(this.doc.file, line, message, 'warning'));
  }

  section(sec: Section): void {
    const kind = this.r.kind(sec.name);
    if (kind.kind === 'invalid') {
      this.error(sec.line, kind.message);
      return;
    }
    const table = sectionTable(kind);
    const type = this.r.resourceType(sec.name);
    // with a bad `type` (reported on its line), per-type checks would only add noise
    const typeKnown = kind.kind !== 'resource' || type === undefined || kind.driver.types.includes(type);
    const seen = new Map<string, number>();
    for (const e of sec.entries) {
      const kw = table ? findKeyword(table, e.key) : undefined;
      if (table && !kw) {
        this.error(e.line, `unknown keyword "${e.key}" in [${sec.name}]`);
        continue;
      }
      if (kw && typeKnown && !keywordAppliesToType(kw, type)) {
        this.error(e.line, `keyword "${e.key}" is not valid for type "${type ?? ''}" of [${sec.name}] (only for type ${kw.types?.join(', ')})`);
        continue;
      }
      const id = `${canonicalKey(kind, e.key)}@${e.scope ?? ''}`;
      const previous = seen.get(id);
      if (previous !== undefined) this.warn(e.line, `keyword "${fullKey(e)}" set again in [${sec.name}] (overrides line ${previous})`);
      seen.set(id, e.line);
      this.scope(sec, e, kw);
      this.value(sec, kind, e, kw);
    }
    if (table) this.required(sec, table, typeKnown ? type : undefined);
    if (kind.kind === 'resource' && table && typeKnown && kind.driver.check) this.driverCheck(sec, kind.driver, table, type ?? kind.driver.types[0] ?? '');
  }

  /** the driver's checks across its keywords, on the values of this node; each at its keyword's line */
  private driverCheck(sec: Section, driver: DriverSchema, table: readonly Keyword[], type: string): void {
    const m = new Map<string, KeywordValue>();
    for (const kw of table) {
      if (!keywordAppliesToType(kw, type) || !this.r.effective(sec.name, kw.name)) continue;
      try {
        const v = this.r.value(sec.name, kw);
        if (v !== undefined) m.set(kw.name, v);
      } catch {
        return; // a bad value, reported on its line already
      }
    }
    const defaults = this.defaultValues();
    if (!defaults) return; // a bad [DEFAULT] value, reported on its line already
    for (const c of driver.check!(new TableValues(table, m), { type, nodes: this.r.effectiveNodes(), rid: sec.name, defaults })) {
      this.error((c.keyword && this.r.effective(sec.name, c.keyword)?.line) || sec.line, `[${sec.name}] ${c.message}`);
    }
  }

  private defaultsMemo: TableValues | null | undefined;
  /** the [DEFAULT] values of this node, typed; null when one of them is bad */
  private defaultValues(): TableValues | null {
    if (this.defaultsMemo !== undefined) return this.defaultsMemo;
    const m = new Map<string, KeywordValue>();
    try {
      for (const kw of defaultKeywords) {
        if (!this.r.effective('DEFAULT', kw.name)) continue;
        const v = this.r.value('DEFAULT', kw);
        if (v !== undefined) m.set(kw.name, v);
      }
      this.defaultsMemo = new TableValues(defaultKeywords, m);
    } catch {
      this.defaultsMemo = null;
    }
    return this.defaultsMemo;
  }

  /** rules across [DEFAULT] keywords (service-rules.ts), each at its keyword's line */
  defaults(): void {
    if (!this.doc.sections.some((s) => s.name === 'DEFAULT')) return;
    const d = this.defaultValues();
    if (!d) return;
    for (const c of defaultsProblems(d)) this.error(this.r.effective('DEFAULT', c.keyword)?.line ?? 0, `[DEFAULT] ${c.message}`);
  }

  private scope(sec: Section, e: Entry, kw: Keyword | undefined): void {
    if (e.scope === undefined) return;
    // [env] keys are free and scopable
    if (kw && !kw.scopable) {
      this.error(e.line, `keyword "${e.key}" is not scopable: "${fullKey(e)}" in [${sec.name}]`);
      return;
    }
    if (e.scope === 'nodes' || e.scope === 'drpnodes') return;
    if (!NODE_NAME.test(e.scope)) {
      this.error(e.line, `unknown scope "@${e.scope}" in "${fullKey(e)}": expected @nodes, @drpnodes or @<nodename>`);
      return;
    }
    if (!this.knownNodes.has(e.scope.toLowerCase())) {
      this.warn(e.line, `"${fullKey(e)}": node "${e.scope}" is not in nodes or drpnodes`);
    }
  }

  private value(sec: Section, kind: SectionKind, e: Entry, kw: Keyword | undefined): void {
    if (kw && LITERAL_KEYS.has(kw.name) && kind.kind === 'default') {
      // read literally before anything else: references would stay text, so they are refused
      if (findReferences(e.value).length > 0) this.error(e.line, `references are not allowed in ${kw.name}`);
      const count = nodeList(e.value).length;
      if (count > configLimits.nodes) this.error(e.line, `${kw.name} lists ${count} nodes, more than the limit of ${configLimits.nodes}`);
      return;
    }
    if (kind.kind === 'resource' && kw?.name === 'type') {
      this.type(sec, kind, e);
      return;
    }
    if ((!kw || kw.type === 'string' || kw.type === 'shlex') && /[ \t]$/m.test(e.value)) {
      this.warn(e.line, `trailing whitespace in the value of "${e.key}" is kept (values are used byte for byte)`);
    }
    const op = kw && triggerKeywords.includes(kw.name) ? shellOperator(e.value) : undefined;
    if (op !== undefined) this.warn(e.line, `"${op}" in ${kw?.name ?? ''} is passed to the command as an argument: triggers run without a shell (write /bin/sh -c "...")`);
    // a lone CR (a line ending "\r\r\n", an old Mac file) or an escape is data too: say so
    const control = controlCharacter(e.value);
    if (control !== undefined) this.warn(e.line, `control character ${quote(control)} in the value of "${e.key}" is kept (values are used byte for byte)`);
    if (this.expansionStopped) return;
    // references and typed values may differ per node: check each node the entry applies to,
    // as long as the resolution showed it depends on the node
    for (const node of this.nodesFor(e.scope)) {
      const res = this.resolverFor(node).resolveEntryAll(sec.name, e);
      if (!res.ok) {
        for (const err of res.errors) {
          if (err.kind !== 'budget') this.error(err.line, err.message);
          else if (!this.expansionStopped) {
            this.error(err.line, `${err.message}: values are not checked further`);
            this.expansionStopped = true;
          }
        }
        if (this.expansionStopped) return;
      } else if (kw) {
        const c = convertValue(kw, res.value);
        if ('error' in c) this.error(e.line, c.error);
        else if (kind.kind === 'resource' && requiresKeywords.includes(kw.name)) this.requires(sec, e, kw.name, String(c.value));
      }
      if (!res.nodeDependent) return;
    }
  }

  /** `start_requires` / `stop_requires` name other resources of this service */
  private requires(sec: Section, e: Entry, keyword: string, value: string): void {
    const parsed = parseRequires(value);
    if ('error' in parsed) return; // reported by the keyword's check
    for (const req of parsed.requirements) {
      if (req.rid === sec.name) this.error(e.line, `${keyword} of [${sec.name}] requires the resource itself`);
      else if (!this.doc.sections.some((s) => s.name === req.rid && this.r.kind(s.name).kind === 'resource')) {
        this.error(e.line, `${keyword} of [${sec.name}]: no resource ${req.rid} in this service`);
      }
    }
  }

  private type(sec: Section, kind: SectionKind & { kind: 'resource' }, e: Entry): void {
    const t = e.value.trim();
    const types = kind.driver.types;
    if (types.length === 0) this.error(e.line, `bad type ${quote(t)} for [${sec.name}]: ${kind.group} resources take no type`);
    else if (!types.includes(t)) this.error(e.line, `bad type ${quote(t)} for [${sec.name}]: expected one of ${types.join(', ')}`);
  }

  /** `type` undefined when unknown: then only the keywords required for every type are checked */
  private required(sec: Section, table: readonly Keyword[], type: string | undefined): void {
    const all = this.nodesFor(undefined);
    for (const kw of table) {
      if (!kw.required || !keywordAppliesToType(kw, type)) continue;
      const e = this.r.effective(sec.name, kw.name);
      // an unscoped entry is in effect on every node
      if (e?.scope === undefined && e !== undefined) continue;
      const missing = !e && !this.r.isScoped(sec.name, kw.name) ? all : all.filter((n) => !this.resolverFor(n).effective(sec.name, kw.name));
      if (missing.length === 0) continue;
      const where = forNodes(missing, all.length);
      this.error(sec.line, `missing required keyword "${kw.name}" in [${sec.name}]${where}`);
    }
  }

  /** A subset section no resource belongs to is probably a typo in a `subset =` value. */
  subsets(): void {
    // "<group>\0<type>\0<subset name>" of every resource naming a subset, with and without its type
    const used = new Set<string>();
    for (const s of this.doc.sections) {
      const k = this.r.kind(s.name);
      if (k.kind !== 'resource') continue;
      const name = this.r.effective(s.name, 'subset')?.value.trim();
      if (name === undefined) continue;
      used.add(`${k.group}\0\0${name}`);
      used.add(`${k.group}\0${this.r.resourceType(s.name) ?? ''}\0${name}`);
    }
    for (const sec of this.doc.sections) {
      const kind = this.r.kind(sec.name);
      if (kind.kind !== 'subset') continue;
      if (!used.has(`${kind.group}\0${kind.type ?? ''}\0${kind.name}`)) this.warn(sec.line, `subset [${sec.name}] matches no resource`);
    }
  }
}

/** " (for node2)" when the keyword is missing on some nodes only */
function forNodes(missing: string[], total: number): string {
  return missing.length === total ? '' : ` (for ${missing.join(', ')})`;
}

function fullKey(e: Entry): string {
  return e.scope === undefined ? e.key : `${e.key}@${e.scope}`;
}

function sortUnique(list: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return list
    .filter((e) => {
      const k = `${e.line}\0${e.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.line - b.line);
}
