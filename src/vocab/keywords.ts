// The keyword schema: what a keyword is, its typed values, and the part of a resource
// driver the configuration layer reads (its section, types and keyword table). Shared by
// src/config (parsing, validation, docs) and src/resources (the drivers' tables); a leaf:
// it imports nothing from the rest of ferry.

export type KeywordType =
  | 'string'   // kept byte for byte
  | 'integer'
  | 'boolean'  // true/false, yes/no, 1/0, on/off
  | 'duration' // "10", "10s", "500ms", "2m", "1h" -> milliseconds
  | 'list'     // whitespace separated words
  | 'shlex';   // shell-like words, quotes honoured; kept raw, split by the driver

export type KeywordValue = string | number | boolean | string[];

export interface Keyword {
  name: string;
  aliases?: string[];
  type: KeywordType;
  default?: KeywordValue;
  required?: boolean;
  /** may be given as `key@node` / `key@nodes` */
  scopable?: boolean;
  candidates?: string[];
  /** only valid for these values of the section's `type` keyword */
  types?: string[];
  /**
   * The driver's own rule for a typed value: why it is refused, or undefined when it is
   * good. Checked wherever the value is converted (validation and loading), after the
   * type and candidates, so a bad value is a `file:line` problem before anything runs.
   */
  check?: (value: KeywordValue) => string | undefined;
  description: string;
}

/** Typed, scoped, reference-resolved, defaulted keyword values of one section. */
export interface KeywordValues {
  get(name: string): KeywordValue | undefined;
  string(name: string): string | undefined;
  integer(name: string): number | undefined;
  boolean(name: string): boolean;
  /** milliseconds */
  duration(name: string): number | undefined;
  list(name: string): string[];
  /** The value of a keyword whose table has a default (so it always has one); throws otherwise. */
  mustString(name: string): string;
  mustInteger(name: string): number;
  mustDuration(name: string): number;
}

/** A problem a driver finds across its keywords, reported at the keyword's line (or the section's). */
export interface DriverCheck {
  keyword?: string;
  message: string;
}

/**
 * What the configuration layer knows of a resource driver: its section, types and keyword
 * table, and its checks across keywords. The driver contract (src/resources/types.ts
 * DriverSpec) adds what the service layer needs to run it.
 */
export interface DriverSchema {
  /** section group name: `[<section>#<index>]` */
  section: string;
  /** accepted values of `type`; the first is the default. Empty: `type` is not used. */
  types: string[];
  /** driver-specific keywords; the common resource keywords are added by the config layer */
  keywords: Keyword[];
  description: string;
  /** checks across keywords (and the service's nodes), run by validation for this type */
  check?(kw: KeywordValues, ctx: { type: string; nodes: readonly string[]; rid: string; defaults: KeywordValues }): DriverCheck[];
}

export function findKeyword(table: readonly Keyword[], name: string): Keyword | undefined {
  return table.find((k) => k.name === name || (k.aliases?.includes(name) ?? false));
}
