// Size and time bounds of a service file. A service file is outside input: whatever it holds,
// reading, resolving and validating it must end quickly with `file:line: message`. Each
// limit is far above any real file (docs/configuration.md, "Limits") and named in its error.

export const configLimits = {
  /** bytes of a service file */
  fileBytes: 1024 * 1024,
  /** characters of one line */
  lineChars: 64 * 1024,
  /** sections in a file */
  sections: 1024,
  /** `keyword = value` entries in a file, duplicates included */
  entries: 50_000,
  /** names in `nodes`, and in `drpnodes` */
  nodes: 64,
  /** characters of one value: as written (continuation lines joined) or with its references expanded */
  valueChars: 64 * 1024,
  /** references followed from one value before reaching a plain one: {env.a} -> {env.b} -> ... */
  referenceDepth: 32,
  /** characters produced by expanding references, all values of the file on all nodes checked together */
  expansionChars: 16 * 1024 * 1024,
  /** references resolved (`{...}` in values, memoised ones included), all values on all nodes checked together */
  referenceResolutions: 100_000,
} as const;

/** "64 KiB", "1 MiB", "1000 bytes" */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
