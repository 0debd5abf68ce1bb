// Resource ids in the v1 order (its own module: status readers load it without the drivers).

/** "container#10" after "container#2"; non-numeric indexes ("app#web") after numeric ones, by name. */
export function compareRid(a: string, b: string): number {
  const [ga, ia = ''] = a.split('#');
  const [gb, ib = ''] = b.split('#');
  if (ga !== gb) return (ga ?? '') < (gb ?? '') ? -1 : 1;
  const na = /^\d+$/.test(ia) ? Number(ia) : Number.NaN;
  const nb = /^\d+$/.test(ib) ? Number(ib) : Number.NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
