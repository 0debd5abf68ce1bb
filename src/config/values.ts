// Typed keyword values: conversion of raw strings by keyword type, defaults, aliases.
import type { Keyword, KeywordValue, KeywordValues } from '../vocab/keywords.js';
import { findKeyword } from '../vocab/keywords.js';
import { parseDuration } from '../vocab/duration.js';
import { shlexSplit, ShlexError } from '../util/shlex.js';
import { quote } from '../util/one-line.js';

const TRUE = new Set(['true', 'yes', 'y', '1', 'on']);
const FALSE = new Set(['false', 'no', 'n', '0', 'off']);

/** Convert a raw value; returns an error message instead of throwing. */
export function convertValue(kw: Keyword, raw: string): { value: KeywordValue } | { error: string } {
  const c = convertType(kw, raw);
  if ('error' in c || !kw.check) return c;
  const why = kw.check(c.value);
  return why === undefined ? c : { error: `bad value ${quote(renderRaw(c.value))} for ${kw.name}: ${why}` };
}

function renderRaw(v: KeywordValue): string {
  return Array.isArray(v) ? v.join(' ') : String(v);
}

function convertType(kw: Keyword, raw: string): { value: KeywordValue } | { error: string } {
  const v = raw.trim();
  switch (kw.type) {
    case 'string':
    case 'shlex': {
      if (kw.type === 'shlex') {
        try {
          shlexSplit(raw);
        } catch (e) {
          if (e instanceof ShlexError) return { error: `bad value for ${kw.name}: ${e.message}` };
          throw e;
        }
      }
      if (kw.candidates && !kw.candidates.includes(v)) {
        return { error: `bad value ${quote(v)} for ${kw.name}: expected one of ${kw.candidates.join(', ')}` };
      }
      return { value: kw.candidates ? v : raw };
    }
    case 'integer': {
      if (!/^[+-]?\d+$/.test(v)) return { error: `bad value ${quote(v)} for ${kw.name}: expected an integer` };
      return { value: Number.parseInt(v, 10) };
    }
    case 'boolean': {
      const l = v.toLowerCase();
      if (TRUE.has(l)) return { value: true };
      if (FALSE.has(l)) return { value: false };
      return { error: `bad value ${quote(v)} for ${kw.name}: expected true or false` };
    }
    case 'duration': {
      const ms = parseDuration(v);
      if (ms === undefined) return { error: `bad value ${quote(v)} for ${kw.name}: expected a duration like 500ms, 10s, 2m, 1h` };
      return { value: ms };
    }
    case 'list': {
      return { value: v.length === 0 ? [] : v.split(/[\s,]+/).filter((w) => w.length > 0) };
    }
  }
}

/** KeywordValues over a table: canonical names, aliases, defaults. */
export class TableValues implements KeywordValues {
  constructor(
    private readonly table: readonly Keyword[],
    private readonly values: ReadonlyMap<string, KeywordValue>,
  ) {}

  /** Build from already-typed values keyed by canonical name or alias (tests, defaults). */
  static from(table: readonly Keyword[], record: Record<string, KeywordValue>): TableValues {
    const m = new Map<string, KeywordValue>();
    for (const [k, v] of Object.entries(record)) {
      const kw = findKeyword(table, k);
      if (!kw) throw new Error(`unknown keyword ${k}`);
      m.set(kw.name, typeof v === 'string' && kw.type !== 'string' && kw.type !== 'shlex' ? mustConvert(kw, v) : v);
    }
    return new TableValues(table, m);
  }

  get(name: string): KeywordValue | undefined {
    const kw = findKeyword(this.table, name);
    if (!kw) throw new Error(`keyword ${name} is not declared by this driver`);
    return this.values.get(kw.name) ?? kw.default;
  }
  /** true when the keyword was given (not defaulted) */
  has(name: string): boolean {
    const kw = findKeyword(this.table, name);
    return kw !== undefined && this.values.has(kw.name);
  }
  string(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : Array.isArray(v) ? v.join(' ') : String(v);
  }
  integer(name: string): number | undefined {
    const v = this.get(name);
    return typeof v === 'number' ? v : undefined;
  }
  boolean(name: string): boolean {
    return this.get(name) === true;
  }
  duration(name: string): number | undefined {
    const v = this.get(name);
    return typeof v === 'number' ? v : undefined;
  }
  list(name: string): string[] {
    const v = this.get(name);
    return Array.isArray(v) ? v : v === undefined ? [] : [String(v)];
  }
  mustString(name: string): string {
    return defined(name, this.string(name));
  }
  mustInteger(name: string): number {
    return defined(name, this.integer(name));
  }
  mustDuration(name: string): number {
    return defined(name, this.duration(name));
  }
  entries(): [string, KeywordValue][] {
    return [...this.values.entries()];
  }
}

/** A must* getter on a keyword without a table default is a driver bug, not a user error. */
function defined<T>(name: string, v: T | undefined): T {
  if (v === undefined) throw new Error(`keyword ${name} has no value and no default in its table`);
  return v;
}

function mustConvert(kw: Keyword, raw: string): KeywordValue {
  const r = convertValue(kw, raw);
  if ('error' in r) throw new Error(r.error);
  return r.value;
}
