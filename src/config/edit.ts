// Rewriting a service file for `set` / `unset` while keeping every other byte: comments,
// order, blank lines, line endings, the key spelling (alias included) and its scope.
import type { ConfigDocument, Entry } from './document.js';
import { parseDocument } from './document.js';

export interface KeywordRef {
  section: string;
  /** keyword as the operator wrote it (an alias is fine) */
  key: string;
  /** text after '@', if any */
  scope?: string | undefined;
}

export interface KeywordChange extends KeywordRef {
  value: string;
}

/** Maps a key (or alias) of a section to its canonical keyword name, to find existing lines. */
export type CanonicalKey = (section: string, key: string) => string;

/** A value the file format cannot hold; the message is meant for the operator. */
export class EditError extends Error {}

interface Line {
  content: string;
  /** '\n', '\r\n' or '' (last line without end-of-line) */
  eol: string;
}

/** Same numbering as parseDocument: line N is element N-1. */
function splitLines(text: string): Line[] {
  const out: Line[] = [];
  const re = /\r?\n/g;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    out.push({ content: text.slice(pos, m.index), eol: m[0] });
    pos = m.index + m[0].length;
  }
  if (pos < text.length) out.push({ content: text.slice(pos), eol: '' });
  return out;
}

const joinLines = (lines: Line[]): string => lines.map((l) => l.content + l.eol).join('');
const isComment = (s: string): boolean => /^[ \t]*[#;]/.test(s);
const identity: CanonicalKey = (_s, k) => k;

/** Set keywords: replace the line in effect for that key+scope, else append, else create the section. */
export function setKeywords(text: string, changes: readonly KeywordChange[], canonical: CanonicalKey = identity): string {
  let out = text;
  // one change at a time on a fresh parse: later changes see earlier ones (same key twice)
  for (const c of changes) out = setOne(out, c, canonical);
  return out;
}

/** Remove every line defining key+scope in the section (continuation lines included). */
export function unsetKeywords(text: string, refs: readonly KeywordRef[], canonical: CanonicalKey = identity): string {
  let out = text;
  for (const r of refs) {
    const { doc } = parseDocument(out, '');
    const lines = splitLines(out);
    const found = matching(doc, r, canonical).sort((a, b) => b.line - a.line);
    for (const e of found) removeEntryLines(lines, e);
    out = joinLines(lines);
  }
  return out;
}

function matching(doc: ConfigDocument, r: KeywordRef, canonical: CanonicalKey): Entry[] {
  const want = canonical(r.section, r.key);
  return doc.sections
    .filter((s) => s.name === r.section)
    .flatMap((s) => s.entries)
    .filter((e) => e.scope === r.scope && canonical(r.section, e.key) === want);
}

/** Drop an entry's lines, keeping comment lines that sit between its continuation lines. */
function removeEntryLines(lines: Line[], e: Entry, keepFirst = false): void {
  for (let n = e.endLine; n >= e.line; n--) {
    if (n === e.line && keepFirst) continue;
    if (n !== e.line && isComment(lines[n - 1]?.content ?? '')) continue;
    const [gone] = lines.splice(n - 1, 1);
    // removing the last line of a file without a final end-of-line: keep it without one
    const prev = lines[n - 2];
    if (gone && gone.eol === '' && n - 1 === lines.length && prev) prev.eol = '';
  }
}

function valueLines(value: string, indent: string): string[] {
  if (value.includes('\r')) throw new EditError('a value cannot contain a carriage return');
  if (/^[ \t]/.test(value)) throw new EditError('a value cannot start with blanks (they are not kept by the file format)');
  const [first = '', ...rest] = value.split('\n');
  for (const l of rest) {
    if (l.trim().length === 0) throw new EditError('a multi-line value cannot contain an empty line');
    if (/^[ \t]/.test(l) || /^[#;[]/.test(l)) throw new EditError(`a continuation line cannot start with blanks, '#', ';' or '[': ${l}`);
  }
  return [first, ...rest.map((l) => `${indent}    ${l}`)];
}

function setOne(text: string, c: KeywordChange, canonical: CanonicalKey): string {
  const { doc } = parseDocument(text, '');
  const lines = splitLines(text);
  const eol = doc.eol;
  const fullKey = c.scope === undefined ? c.key : `${c.key}@${c.scope}`;
  const existing = matching(doc, c, canonical).at(-1);
  if (existing) {
    // keep everything up to the value: indent, key spelling, scope, blanks around '='
    const old = lines[existing.line - 1]!;
    const eq = old.content.indexOf('=');
    let lead = /^[ \t]*/.exec(old.content.slice(eq + 1))?.[0] ?? '';
    if (lead === '' && old.content[eq - 1] === ' ') lead = ' ';
    const indent = /^[ \t]*/.exec(old.content)?.[0] ?? '';
    const [first, ...more] = valueLines(c.value, indent);
    removeEntryLines(lines, existing, true);
    old.content = c.value === '' ? old.content.slice(0, eq + 1) : old.content.slice(0, eq + 1) + lead + first;
    insertAfter(lines, existing.line, more, eol);
    return joinLines(lines);
  }
  const newLines = valueLines(c.value, '');
  newLines[0] = c.value === '' ? `${fullKey} =` : `${fullKey} = ${newLines[0]}`;
  const section = doc.sections.find((s) => s.name === c.section);
  if (section) {
    const after = section.entries.at(-1)?.endLine ?? section.line;
    insertAfter(lines, after, newLines, eol);
    return joinLines(lines);
  }
  const block = [`[${c.section}]`, ...newLines];
  if (lines.length > 0 && lines.at(-1)!.content.trim().length > 0) block.unshift('');
  insertAfter(lines, lines.length, block, eol);
  return joinLines(lines);
}

/** Insert after line `n` (0 = top), giving the new lines the file's end-of-line style. */
function insertAfter(lines: Line[], n: number, contents: string[], eol: string): void {
  if (contents.length === 0) return;
  const fresh = contents.map((content) => ({ content, eol }));
  const prev = lines[n - 1];
  if (prev && prev.eol === '') {
    // the file had no final end-of-line: keep it that way
    prev.eol = eol;
    fresh[fresh.length - 1]!.eol = '';
  }
  lines.splice(n, 0, ...fresh);
}
