// Durations as written in ferry files and options; a leaf.

/** "10" (seconds), "500ms", "10s", "2m", "1h", "1m30s" -> milliseconds */
export function parseDuration(v: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : unit === 'h' ? n * 3_600_000 : n * 86_400_000;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== v.length) return undefined;
  return Math.round(total);
}
