// One human line per event record (`nodemgr events`): UTC time, level, event name, the
// fields that say what it is about, and the message.
import type { EventRecord } from '../daemon/event-ring.js';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** fields shown before the message, when present */
const KEYS = ['svc', 'rid', 'peer', 'target', 'action', 'kind', 'state', 'ok', 'ms'] as const;

export function isEventRecord(v: unknown): v is EventRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.seq === 'number' && typeof r.time === 'number' && typeof r.event === 'string';
}

function short(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function eventLine(r: EventRecord): string {
  const level = (LEVELS[r.level] ?? String(r.level)).padEnd(5);
  const fields = KEYS.filter((k) => r[k] !== undefined).map((k) => `${k}=${short(r[k])}`);
  // eslint-disable-next-line no-control-regex
  const msg = typeof r.msg === 'string' ? r.msg.replace(/[\u0000-\u001f\u007f]/g, ' ') : '';
  return [new Date(r.time).toISOString(), level, r.event, ...fields, ...(msg ? [`: ${msg}`] : [])].join(' ');
}
