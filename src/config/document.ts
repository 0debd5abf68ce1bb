// The service file reader. We do not use the npm `ini` package on service files: it cuts
// values at `;`/`#`, drops the `#index` of section names and gives no line numbers (GUIDE §2).
// This reader keeps every value byte for byte and remembers where each thing came from.
import { ConfigError } from './errors.js';
import { configLimits, formatBytes } from './limits.js';

export interface Entry {
  /** keyword as written, without scope: "ipname" */
  key: string;
  /** text after '@' ("nodes", "deb1"), if any */
  scope: string | undefined;
  /** value as written: after '=' and the blanks that follow it, to the end of line (continuation lines joined by \n) */
  value: string;
  /** 1-based first and last line */
  line: number;
  endLine: number;
}

export interface Section {
  name: string;
  line: number;
  entries: Entry[];
}

export interface ConfigDocument {
  file: string;
  lines: string[];
  eol: '\n' | '\r\n';
  /** the text ended with an end-of-line */
  finalEol: boolean;
  sections: Section[];
}

export interface ParseResult {
  doc: ConfigDocument;
  errors: ConfigError[];
  /** a size limit stopped the reader: `doc` holds only what came before (see configLimits) */
  truncated: boolean;
}

const indentOf = (s: string): number => s.length - s.replace(/^[ \t]+/, '').length;

export function parseDocument(text: string, file: string): ParseResult {
  const errors: ConfigError[] = [];
  const limits = configLimits;
  // a UTF-16 unit is at most 3 UTF-8 bytes: only a long text needs counting
  if (text.length * 3 > limits.fileBytes && Buffer.byteLength(text, 'utf8') > limits.fileBytes) {
    errors.push(new ConfigError(file, 1, `file larger than the limit of ${formatBytes(limits.fileBytes)} (${Buffer.byteLength(text, 'utf8')} bytes)`));
    return { doc: { file, lines: [], eol: '\n', finalEol: true, sections: [] }, errors, truncated: true };
  }
  // the style new lines get on rewrite: the majority one, for files with mixed endings
  const crlf = text.split('\r\n').length - 1;
  const eol: '\n' | '\r\n' = crlf > 0 && crlf * 2 >= text.split('\n').length - 1 ? '\r\n' : '\n';
  const finalEol = text.length === 0 || text.endsWith('\n');
  const body = finalEol && text.length > 0 ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
  const lines = text.length === 0 ? [] : body.split(/\r?\n/);
  const sections: Section[] = [];
  const seen = new Map<string, number>();
  let current: Section | undefined;
  // after a malformed header, its keywords are skipped instead of each reported again
  let skipping = false;
  let lastEntry: { entry: Entry; indent: number; oversized: boolean } | undefined;
  let entries = 0;
  let truncated = false;

  for (let i = 0; i < lines.length && !truncated; i++) {
    const raw = lines[i] ?? '';
    const lineNo = i + 1;
    if (raw.length > limits.lineChars) {
      errors.push(new ConfigError(file, lineNo, `line longer than the limit of ${limits.lineChars} characters (${raw.length})`));
      lastEntry = undefined;
      continue;
    }
    const trimmed = raw.trim();
    if (trimmed.length === 0) {
      lastEntry = undefined;
      continue;
    }
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const indent = indentOf(raw);
    if (lastEntry && indent > lastEntry.indent && !trimmed.startsWith('[')) {
      // continuation of a multi-line value, as in Python's configparser
      const { entry } = lastEntry;
      entry.endLine = lineNo;
      if (lastEntry.oversized) continue;
      if (entry.value.length + 1 + raw.length - indent > limits.valueChars) {
        errors.push(new ConfigError(file, entry.line, `value of "${entry.key}" longer than the limit of ${limits.valueChars} characters (continued up to line ${lineNo})`));
        lastEntry.oversized = true;
        continue;
      }
      entry.value += '\n' + raw.slice(indent);
      continue;
    }
    lastEntry = undefined;
    if (trimmed.startsWith('[')) {
      const close = trimmed.indexOf(']');
      if (close < 0) {
        errors.push(new ConfigError(file, lineNo, `malformed section header ${trimmed}: missing ']'`));
        current = undefined;
        skipping = true;
        continue;
      }
      if (close !== trimmed.length - 1) {
        errors.push(new ConfigError(file, lineNo, `malformed section header ${trimmed}: text after ']'`));
        current = undefined;
        skipping = true;
        continue;
      }
      const name = trimmed.slice(1, -1).trim();
      if (name.length === 0) {
        errors.push(new ConfigError(file, lineNo, 'empty section name []'));
        current = undefined;
        skipping = true;
        continue;
      }
      if (sections.length >= limits.sections) {
        errors.push(new ConfigError(file, lineNo, `more sections than the limit of ${limits.sections}: the file is not read further`));
        truncated = true;
        continue;
      }
      const first = seen.get(name);
      if (first !== undefined) {
        errors.push(new ConfigError(file, lineNo, `duplicate section [${name}] (first defined at line ${first})`));
      } else {
        seen.set(name, lineNo);
      }
      skipping = false;
      current = { name, line: lineNo, entries: [] };
      sections.push(current);
      continue;
    }
    if (skipping) continue;
    const eq = raw.indexOf('=');
    if (eq < 0) {
      errors.push(new ConfigError(file, lineNo, `expected "keyword = value", "[section]" or a comment, got: ${trimmed}`));
      continue;
    }
    const fullKey = raw.slice(0, eq).trim();
    if (fullKey.length === 0) {
      errors.push(new ConfigError(file, lineNo, 'missing keyword before "="'));
      continue;
    }
    if (/\s/.test(fullKey)) {
      errors.push(new ConfigError(file, lineNo, `malformed keyword "${fullKey}": blanks inside a keyword`));
      continue;
    }
    if (!current) {
      errors.push(new ConfigError(file, lineNo, `keyword "${fullKey}" outside of any section`));
      continue;
    }
    const at = fullKey.indexOf('@');
    const key = at < 0 ? fullKey : fullKey.slice(0, at);
    const scope = at < 0 ? undefined : fullKey.slice(at + 1);
    if (key.length === 0 || scope === '') {
      errors.push(new ConfigError(file, lineNo, `malformed keyword "${fullKey}"`));
      continue;
    }
    if (entries >= limits.entries) {
      errors.push(new ConfigError(file, lineNo, `more keywords than the limit of ${limits.entries}: the file is not read further`));
      truncated = true;
      continue;
    }
    entries++;
    const value = raw.slice(eq + 1).replace(/^[ \t]+/, '');
    const entry: Entry = { key, scope, value, line: lineNo, endLine: lineNo };
    current.entries.push(entry);
    lastEntry = { entry, indent, oversized: false };
  }

  return { doc: { file, lines, eol, finalEol, sections }, errors, truncated };
}

export function findSection(doc: ConfigDocument, name: string): Section | undefined {
  return doc.sections.find((s) => s.name === name);
}
