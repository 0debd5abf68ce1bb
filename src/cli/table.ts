// Borderless tables in the v1 style (svcmon): columns separated by one space, no frame.
// Drawn by hand, as cli-table3 drew it (borderless, padding 0): each cell padded to its
// column's width, one space between columns, trailing blanks trimmed. cli-table3 took longer
// to load than svcmon took to answer (docs/benchmarks.md, "CLI").

export function plainTable(rows: string[][]): string {
  const n = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' ').trimEnd()).join('\n');
}

/** The three header rows of svcmon: two label lines and the dashes. */
export function headerRows(head: readonly [string, string][]): string[][] {
  return [head.map(([a]) => a), head.map(([, b]) => b), head.map(([a, b]) => '-'.repeat(Math.max(a.length, b.length, 6)))];
}

/** Left-aligned columns two spaces apart, the last column unpadded (svcmon's node and heartbeat tables). */
export function alignedRows(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('').trimEnd());
}
