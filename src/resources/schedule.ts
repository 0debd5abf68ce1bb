// The `schedule` keyword of tasks and rsync syncs, parsed once, and when a scheduled job is
// due as pure functions (docs/schedule.md). A schedule is one or more space-separated rules:
//   @5m                   every 5 minutes, any time of day
//   02:00-04:00@30m       every 30 minutes between 02:00 and 04:00 (node's local time)
//   02:00-04:00           once per window (the interval is the window's length)
//   22:00-02:00@1h        a window may cross midnight
// Times are HH:MM, the end minute included. Intervals are durations of at least 1s.
import { parseDuration } from '../vocab/duration.js';

export interface ScheduleRule {
  /** minutes after local midnight; undefined: any time */
  window: { start: number; end: number } | undefined;
  intervalMs: number;
}

export interface Schedule {
  text: string;
  rules: ScheduleRule[];
}

const DAY_MIN = 24 * 60;
const HINT = 'expected @<interval> (at least 1s, like @5m) or HH:MM-HH:MM[@<interval>]';

function hhmm(s: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  return h < 24 && mi < 60 ? h * 60 + mi : undefined;
}

/** window length in ms, end minute included */
function windowMs(w: { start: number; end: number }): number {
  const len = w.end >= w.start ? w.end - w.start + 1 : DAY_MIN - w.start + w.end + 1;
  return len * 60_000;
}

/** '' → undefined (no schedule); a Schedule; or an error text naming the bad rule. */
export function parseSchedule(v: string): Schedule | undefined | { error: string } {
  const text = v.trim();
  if (text === '') return undefined;
  const rules: ScheduleRule[] = [];
  for (const item of text.split(/\s+/)) {
    const bad = { error: `bad schedule "${text}": ${item === text ? '' : `"${item}": `}${HINT}` };
    const at = item.indexOf('@');
    const win = at < 0 ? item : item.slice(0, at);
    let window: ScheduleRule['window'];
    if (win !== '') {
      const [a, b, ...rest] = win.split('-');
      const start = a === undefined ? undefined : hhmm(a);
      const end = b === undefined ? undefined : hhmm(b);
      if (start === undefined || end === undefined || rest.length) return bad;
      window = { start, end };
    }
    let intervalMs: number | undefined;
    if (at >= 0) {
      intervalMs = parseDuration(item.slice(at + 1));
      if (intervalMs === undefined || intervalMs < 1000) return bad;
    } else if (window) intervalMs = windowMs(window);
    if (intervalMs === undefined) return bad;
    rules.push({ window, intervalMs });
  }
  return { text, rules };
}

/** local minutes after midnight of an epoch ms, fractional */
function minuteOfDay(t: number): number {
  const d = new Date(t);
  return d.getHours() * 60 + d.getMinutes() + d.getSeconds() / 60 + d.getMilliseconds() / 60_000;
}

function inWindow(w: { start: number; end: number }, t: number): boolean {
  const m = minuteOfDay(t);
  return w.end >= w.start ? m >= w.start && m < w.end + 1 : m >= w.start || m < w.end + 1;
}

/** the first instant ≥ t inside the window (within the next two days) */
function nextInWindow(w: { start: number; end: number }, t: number): number {
  if (inWindow(w, t)) return t;
  const d = new Date(t);
  for (let day = 0; day <= 2; day++) {
    const s = new Date(d.getFullYear(), d.getMonth(), d.getDate() + day, Math.floor(w.start / 60), w.start % 60).getTime();
    if (s >= t) return s;
  }
  return t + DAY_MIN * 60_000;
}

/**
 * When the job should run next, given when it last began (undefined: never): the earliest
 * instant of any rule at least one interval after the last run and inside the rule's window.
 * A job never run is due at once (inside a window).
 */
export function nextRun(s: Schedule, lastMs: number | undefined, nowMs: number): number {
  let best = Infinity;
  for (const r of s.rules) {
    const earliest = lastMs === undefined ? nowMs : Math.max(nowMs, lastMs + r.intervalMs);
    const at = r.window ? nextInWindow(r.window, earliest) : earliest;
    best = Math.min(best, at);
  }
  return best;
}

/** Is the job due now? */
export function isDue(s: Schedule, lastMs: number | undefined, nowMs: number): boolean {
  return nextRun(s, lastMs, nowMs) <= nowMs;
}
