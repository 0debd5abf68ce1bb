// Borderless tables in the v1 style (svcmon): columns separated by one space, no frame.
import Table from 'cli-table3';

const blank = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: ' ',
};

/** printable ASCII only: a cell's width is its length (what cli-table3 measures too) */
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * The table as cli-table3 draws it with `blank` (cells padded to their column's width (at least 1), one
 * space between columns, lines trimmed), computed directly: cli-table3 takes seconds for the
 * 15000 rows of 5000 services on 3 nodes. Anything else (other characters, ragged rows)
 * is left to cli-table3.
 */
export function plainTable(rows: string[][]): string {
  const n = rows[0]?.length ?? 0;
  if (n > 0 && rows.every((r) => r.length === n && r.every((c) => PLAIN.test(c)))) {
    const widths = Array.from({ length: n }, (_, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), 1));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(' ').trimEnd()).join('\n');
  }
  return tablePlain(rows);
}

function tablePlain(rows: string[][]): string {
  const t = new Table({ chars: blank, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true } });
  for (const r of rows) t.push(r);
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
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
