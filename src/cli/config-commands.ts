// `svcmgr` configuration commands as plain functions: validate config, print config, get,
// set, unset. They return what to print and throw UserError for operator mistakes; the
// commander wiring lives in svcmgr-program.ts.
import type { FerryPaths } from '../paths.js';
import { UserError } from '../vocab/errors.js';
import type { ConfigError } from '../config/errors.js';
import { ConfigInvalid } from '../config/errors.js';
import type { Entry } from '../config/document.js';
import { parseDocument } from '../config/document.js';
import { EditError, setKeywords, unsetKeywords } from '../config/edit.js';
import type { KeywordChange, KeywordRef } from '../config/edit.js';
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import { findKeyword } from '../vocab/keywords.js';
import { locateService, readServiceText } from '../config/load.js';
import { RefError, renderValue, Resolver } from '../config/resolve.js';
import { canonicalKey, keywordAppliesToType } from '../config/sections.js';
import { validateText } from '../config/validate.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { LockTimeout, withFileLock } from '../util/file-lock.js';
import { serviceLogger } from '../log.js';
import { drivers } from '../resources/registry.js';

export interface ValidateOutput {
  /** 0: clean or warnings only; 1: errors */
  exitCode: 0 | 1;
  /** one `file:line: ...` line per problem, in line order; `<file>: ok` when there is none */
  lines: string[];
  /** the `--format json` document (docs/schemas/svcmgr-validate-config.schema.json) */
  json: { svcname: string; file: string; ok: boolean; problems: { line: number; severity: 'error' | 'warning'; message: string }[] };
}

export function cmdValidateConfig(paths: FerryPaths, svcname: string, nodename: string): ValidateOutput {
  const { svcname: name, file } = locateService(paths, svcname);
  const { errors, warnings } = validateText(readServiceText(file, name), file, { svcname: name, nodename, drivers });
  const all = [...errors, ...warnings].sort((a, b) => a.line - b.line);
  const problems = all.map((e) => ({ line: e.line, severity: e.severity, message: e.message }));
  return {
    exitCode: errors.length > 0 ? 1 : 0,
    // as `nodemgr validate`: one line saying so when there is nothing to say
    lines: all.length ? all.map((e) => e.toString()) : [`${file}: ok`],
    json: { svcname: name, file, ok: errors.length === 0, problems },
  };
}

export interface PrintConfigOptions {
  format: 'text' | 'json';
  /** every keyword of every section with its effective value on this node */
  evaluate: boolean;
}

/** Text to print (no final newline added beyond the file's own for the plain text form). */
export function cmdPrintConfig(paths: FerryPaths, svcname: string, nodename: string, opts: PrintConfigOptions): string {
  const { svcname: name, file } = locateService(paths, svcname);
  const text = readServiceText(file, name);
  if (!opts.evaluate) {
    if (opts.format === 'text') return text;
    const { doc } = parseDocument(text, file);
    const out: Record<string, Record<string, string>> = {};
    for (const s of doc.sections) {
      const sec = (out[s.name] ??= {});
      for (const e of s.entries) sec[e.scope === undefined ? e.key : `${e.key}@${e.scope}`] = e.value;
    }
    return JSON.stringify(out, null, 2);
  }
  const { doc, errors } = validateText(text, file, { svcname: name, nodename, drivers });
  if (errors.length > 0) throw new ConfigInvalid(errors);
  const r = new Resolver(doc, { svcname: name, nodename, drivers });
  const out: Record<string, Record<string, KeywordValue | null>> = {};
  // [DEFAULT] always shows: its defaults apply even when the section is absent
  const names = ['DEFAULT', ...doc.sections.map((s) => s.name).filter((n) => n !== 'DEFAULT')];
  for (const sname of names) {
    const sec = (out[sname] ??= {});
    const table = r.table(sname);
    if (!table) {
      for (const e of r.section(sname)?.entries ?? []) {
        const eff = r.effective(sname, e.key);
        if (eff) sec[e.key] = r.resolveEntry(sname, eff);
      }
      continue;
    }
    const type = r.resourceType(sname);
    for (const kw of table) {
      if (!keywordAppliesToType(kw, type)) continue;
      sec[kw.name] = kw.name === 'type' && r.kind(sname).kind === 'resource' ? (type ?? null) : (r.value(sname, kw) ?? null);
    }
  }
  if (opts.format === 'json') return JSON.stringify(out, null, 2);
  return Object.entries(out)
    .map(([s, kws]) => {
      const table = r.table(s);
      const lines = Object.entries(kws).flatMap(([k, v]) =>
        v === null ? [] : [assignment(k, renderValue(v, table ? findKeyword(table, k) : undefined))],
      );
      return [`[${s}]`, ...lines].join('\n');
    })
    .join('\n\n');
}

/** "key = value", or "key =" for an empty value (no trailing blank) */
const assignment = (k: string, v: string): string => (v.length > 0 ? `${k} = ${v}` : `${k} =`);

/** `section.keyword[@scope]`; a bare keyword is in [DEFAULT]. Keywords never contain '.'. */
export function parseKeywordParam(param: string): KeywordRef {
  const at = param.indexOf('@');
  const left = at < 0 ? param : param.slice(0, at);
  const scope = at < 0 ? undefined : param.slice(at + 1);
  const dot = left.lastIndexOf('.');
  const section = dot < 0 ? 'DEFAULT' : left.slice(0, dot);
  const key = dot < 0 ? left : left.slice(dot + 1);
  if (section.length === 0 || key.length === 0 || scope === '' || /[\s=[\]]/.test(left) || (scope !== undefined && /\s/.test(scope))) {
    throw new UserError(`bad keyword "${param}": expected [<section>.]<keyword>[@<scope>], e.g. app#1.start or orchestrate`);
  }
  return { section, key, scope };
}

/** "app#1.start=/bin/true": split at the first '=' (the value may hold more). */
export function parseAssignment(text: string): KeywordChange {
  const eq = text.indexOf('=');
  if (eq < 0) throw new UserError(`bad assignment "${text}": expected [<section>.]<keyword>=<value>`);
  return { ...parseKeywordParam(text.slice(0, eq)), value: text.slice(eq + 1) };
}

interface Located {
  svcname: string;
  file: string;
  text: string;
  r: Resolver;
}

function locate(paths: FerryPaths, svcname: string, nodename: string): Located {
  const { svcname: name, file } = locateService(paths, svcname);
  const text = readServiceText(file, name);
  const { doc } = parseDocument(text, file);
  return { svcname: name, file, text, r: new Resolver(doc, { svcname: name, nodename, drivers }) };
}

/** Checks the section and keyword exist for `get`; returns the keyword (undefined in [env]). */
function knownKeyword(l: Located, ref: KeywordRef): Keyword | undefined {
  const kind = l.r.kind(ref.section);
  if (kind.kind === 'invalid') throw new UserError(kind.message);
  if (!l.r.section(ref.section) && ref.section !== 'DEFAULT') throw new UserError(`no section [${ref.section}] in ${l.file}`);
  const table = l.r.table(ref.section);
  if (!table) return undefined;
  const kw = findKeyword(table, ref.key);
  if (!kw) throw new UserError(`unknown keyword "${ref.key}" in [${ref.section}]`);
  return kw;
}

export interface GetOptions {
  /** references resolved, value typed (`get --eval`) */
  evaluate?: boolean;
}

/** The value alone: as written in the entry in effect on this node, or the default. */
export function cmdGet(paths: FerryPaths, svcname: string, nodename: string, param: string, opts: GetOptions = {}): string {
  const l = locate(paths, svcname, nodename);
  const ref = parseKeywordParam(param);
  const kw = knownKeyword(l, ref);
  const kind = l.r.kind(ref.section);
  let entry: Entry | undefined;
  if (ref.scope !== undefined) {
    const want = canonicalKey(kind, ref.key);
    entry = l.r.section(ref.section)?.entries.filter((e) => e.scope === ref.scope && canonicalKey(kind, e.key) === want).at(-1);
  } else {
    entry = l.r.effective(ref.section, ref.key);
  }
  if (!entry) {
    if (kw?.name === 'type' && kind.kind === 'resource') {
      const t = l.r.resourceType(ref.section);
      if (t !== undefined) return t;
    }
    if (kw?.default !== undefined) return renderValue(kw.default, kw);
    throw new UserError(`${param} is not set in ${l.file}`);
  }
  if (!opts.evaluate) return entry.value;
  try {
    const resolved = l.r.resolveEntry(ref.section, entry);
    if (!kw) return resolved;
    const r = l.r.value(ref.section, kw);
    return ref.scope === undefined && r !== undefined ? renderValue(r, kw) : resolved;
  } catch (e) {
    if (e instanceof RefError) throw new UserError(`${l.file}:${e.line}: ${e.message}`);
    throw e;
  }
}

export interface WriteOptions {
  /** how long to wait for another writer of the same file (default 60 s, svcmgr --waitlock) */
  waitLockMs?: number;
}

const DEFAULT_WAIT_LOCK_MS = 60_000;

export async function cmdSet(paths: FerryPaths, svcname: string, nodename: string, assignments: readonly KeywordChange[], opts: WriteOptions = {}): Promise<void> {
  await rewrite(paths, svcname, nodename, opts, 'set', (text, canon) => setKeywords(text, assignments, canon));
}

export async function cmdUnset(paths: FerryPaths, svcname: string, nodename: string, params: readonly string[], opts: WriteOptions = {}): Promise<void> {
  const refs = params.map(parseKeywordParam);
  await rewrite(paths, svcname, nodename, opts, 'unset', (text, canon, l) => {
    for (const ref of refs) {
      const kind = l.r.kind(ref.section);
      const present = l.r.section(ref.section)?.entries.some((e) => e.scope === ref.scope && canon(ref.section, e.key) === canon(ref.section, ref.key));
      // an unknown keyword that is present may be removed (that is how a file gets fixed)
      if (!present) {
        if (kind.kind === 'invalid') throw new UserError(kind.message);
        const table = l.r.table(ref.section);
        if (table && !findKeyword(table, ref.key)) throw new UserError(`unknown keyword "${ref.key}" in [${ref.section}]`);
      }
    }
    return unsetKeywords(text, refs, canon);
  });
}

type Edit = (text: string, canon: (section: string, key: string) => string, l: Located) => string;

/**
 * Apply an edit holding the file's write lock: concurrent writers queue, and each one reads
 * the file only once it holds the lock, so its edit applies to what the previous writer left
 * (read-edit-write without the lock loses all but the last update).
 */
async function rewrite(paths: FerryPaths, svcname: string, nodename: string, opts: WriteOptions, verb: string, edit: Edit): Promise<void> {
  const { svcname: name, file } = locateService(paths, svcname);
  readServiceText(file, name); // a missing service is an operator error, before any lock file
  try {
    const lockOpts = { waitMs: opts.waitLockMs ?? DEFAULT_WAIT_LOCK_MS, purpose: `svcmgr ${verb}`, log: serviceLogger(paths, name, nodename) };
    await withFileLock(file, lockOpts, () => rewriteLocked(paths, svcname, nodename, edit));
  } catch (e) {
    if (e instanceof LockTimeout) {
      throw new UserError(`${file}: another writer holds it (pid ${e.holder.pid}, ${e.holder.purpose}, since ${e.holder.since}); nothing changed; retry later or raise --waitlock`);
    }
    throw e;
  }
}

/** Read, apply an edit, refuse it if the result has errors the file did not have, write atomically. */
function rewriteLocked(paths: FerryPaths, svcname: string, nodename: string, edit: Edit): void {
  const l = locate(paths, svcname, nodename);
  const canon = (section: string, key: string): string => canonicalKey(l.r.kind(section), key);
  let next: string;
  try {
    next = edit(l.text, canon, l);
  } catch (e) {
    if (e instanceof EditError) throw new UserError(e.message);
    throw e;
  }
  if (next === l.text) return;
  const opts = { svcname: l.svcname, nodename, drivers };
  const before = validateText(l.text, l.file, opts).errors;
  const after = validateText(next, l.file, opts).errors;
  const introduced = newErrors(before, after);
  if (introduced.length > 0) {
    const more = introduced.length > 1 ? ` (and ${introduced.length - 1} more)` : '';
    throw new UserError(`refused, the file would become invalid: ${introduced[0]!.toString()}${more}`);
  }
  writeFileAtomic(l.file, next);
}

/** Errors of `after` not already in `before`, compared by message (lines shift on edits). */
function newErrors(before: readonly ConfigError[], after: readonly ConfigError[]): ConfigError[] {
  const key = (e: ConfigError): string => e.message.replace(/line \d+/g, 'line N');
  const pool = before.map(key);
  return after.filter((e) => {
    const i = pool.indexOf(key(e));
    if (i < 0) return true;
    pool.splice(i, 1);
    return false;
  });
}
