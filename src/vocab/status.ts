// Status values and the OpenSVC merge rules (GUIDE §3).
export type Status = 'up' | 'down' | 'warn' | 'n/a' | 'undef' | 'stdby up' | 'stdby down';

export const statusExitCode: Record<Status, number> = {
  up: 0,
  down: 1,
  warn: 2,
  'n/a': 3,
  undef: 5,
  'stdby up': 6,
  'stdby down': 7,
};

/** Merge two statuses. undef and n/a are neutral. */
export function mergeStatus(a: Status, b: Status): Status {
  if (a === 'undef' || a === 'n/a') return b === 'undef' ? a : b;
  if (b === 'undef' || b === 'n/a') return a;
  if (a === 'warn' || b === 'warn') return 'warn';
  if (a === b) return a;
  const pair = (x: Status, y: Status) => (a === x && b === y) || (a === y && b === x);
  if (pair('up', 'down')) return 'warn';
  if (pair('down', 'stdby down')) return 'stdby down';
  if (pair('up', 'stdby down')) return 'warn';
  if (pair('down', 'stdby up')) return 'stdby up';
  if (pair('up', 'stdby up')) return 'up';
  if (pair('stdby up', 'stdby down')) return 'warn';
  return 'warn';
}

export function mergeAll(statuses: Iterable<Status>, start: Status = 'n/a'): Status {
  let acc = start;
  for (const s of statuses) acc = mergeStatus(acc, s);
  return acc;
}
