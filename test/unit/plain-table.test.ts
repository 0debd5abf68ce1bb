// plainTable draws in one pass per line (svcmon of 3 x 5000 services): the same bytes as the
// straightforward layout (each cell padded to its column's width, one space between
// columns, trailing blanks trimmed) on random ragged tables with empty and blank cells.
import test from 'ava';
import { plainTable } from '../../src/cli/table.js';

function reference(rows: string[][]): string {
  const n = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' ').trimEnd()).join('\n');
}

test('plainTable: the same bytes as the reference layout on 3000 random tables', (t) => {
  let seed = 7;
  const rnd = (k: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % k;
  };
  const words = ['', ' ', 'a', 'up', 'n/a', 'down ', ' x', 'stdby up', 'False', '-', 'hosted', 'a  b'];
  for (let k = 0; k < 3000; k++) {
    const rows = Array.from({ length: rnd(6) }, () => Array.from({ length: rnd(5) }, () => words[rnd(words.length)]!));
    t.is(plainTable(rows), reference(rows), JSON.stringify(rows));
  }
  t.is(plainTable([]), '');
  t.is(plainTable([['a', 'bb'], ['ccc']]), 'a   bb\nccc');
});
