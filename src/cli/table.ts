// Borderless tables in the v1 style (svcmon): columns separated by one space, no frame.
// Drawn by hand, as cli-table3 drew it (borderless, padding 0): each cell padded to its
// column's width, one space between columns, trailing blanks trimmed. cli-table3 took longer
// to load than svcmon took to answer (docs/benchmarks.md, "CLI").

export function plainTable(rows: readonly (readonly string[])[]): string {
  // one pass for the widths, one per line: thousands of rows (svcmon of 3 x 5000 services)
  let n = 0;
  for (const r of rows) if (r.length > n) n = r.length;
  const widths = new Array<number>(n).fill(0);
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) {
      const len = (r[i] ?? '').length;
      if (len > widths[i]!) widths[i] = len;
    }
  }
  // the padding after each cell, separator included, from strings made once (no string per cell)
  let widest = 0;
  for (const w of widths) if (w > widest) widest = w;
  const spaces = Array.from({ length: widest + 2 }, (_, k) => ' '.repeat(k));
  const lines = new Array<string>(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    let line = '';
    for (let i = 0; i < n; i++) {
      const cell = r[i] ?? '';
      // the last column is not padded: its padding would be trimmed with the line's end
      line += i === n - 1 ? cell : cell + spaces[widths[i]! - cell.length + 1]!;
    }
    lines[k] = line.trimEnd();
  }
  return lines.join('\n');
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
