// One pino record as a human line: time, level, node, resource, message, then the other
// fields as key=value. Pure; a line that is not a JSON object is shown as it is.
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** fields shown in the head of the line or not worth repeating */
const HEAD = new Set(['time', 'level', 'msg', 'node', 'svc', 'rid', 'pid', 'hostname', 'v']);
/** longest line read from a log file; a longer one is cut (a log line is not a data channel) */
export const MAX_LOG_LINE = 64 * 1024;

export function parseRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

export function humanLine(line: string): string {
  const r = parseRecord(line);
  if (!r) return line;
  const time = typeof r.time === 'number' ? new Date(r.time).toISOString() : String(r.time ?? '-');
  const level = typeof r.level === 'number' ? (LEVELS[r.level] ?? String(r.level)) : String(r.level ?? '-');
  const head = [time, level.padEnd(5), String(r.node ?? '-'), ...(r.rid !== undefined ? [String(r.rid)] : [])].join(' ');
  const rest = Object.entries(r)
    .filter(([k]) => !HEAD.has(k))
    .map(([k, v]) => `${k}=${value(v)}`);
  return [head, String(r.msg ?? ''), ...rest].filter((p) => p.length > 0).join(' ');
}
