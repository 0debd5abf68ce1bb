// What the arbitrator drops, counted by reason. Hostile or broken clients can send thousands
// of bad requests a second: each one is counted, but only the first of a reason in a window
// is logged at warn (the rest at debug), so the log cannot be flooded; a summary line with
// every counter (`event: "arbitrator.drops"`) is logged when they changed, at most once a
// minute. The counters are also answered on GET /status from loopback (server.ts).
import type { Logger } from '../log.js';
import { LogThrottle } from '../util/log-throttle.js';

/** Every reason a request is refused or a connection cut, as counted. */
export const DROP_REASONS = [
  'bad_request', // unparsable HTTP (request line, header syntax, framing)
  'headers_too_large', // request head over MAX_HEADER_BYTES (431)
  'timeout', // head or whole request not received in time (408): slow clients
  'body_too_large', // body over MAX_BODY_BYTES (413)
  'connection_limit', // more open connections than MAX_CONNECTIONS: closed at once
  'bad_target', // request target that is no path nor http URL
  'not_found', // another path (404)
  'bad_method', // not a POST to the vote path, not a GET to /status (405)
  'status_not_local', // GET /status from a non-loopback address (403)
  'malformed_json', // body is not JSON (400)
  'bad_fields', // missing, mistyped or oversized fields (400)
  'unknown_cluster', // no secret for that cluster (403)
  'bad_mac', // MAC does not verify (403)
  'clock_skew', // ts more than MAX_CLOCK_SKEW_MS away (403)
  'bad_members', // members unsorted, duplicated, or without the asker (400)
  'replay', // ts not after the last one accepted from that node (403)
  'nodes_table_full', // too many distinct authenticated nodes in the skew window (503)
  'internal_error', // a bug: the request got a 500, the arbitrator kept serving
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** The log message of each drop: `refused: <label>`. */
export const DROP_LABELS: Record<DropReason, string> = {
  bad_request: 'malformed HTTP',
  headers_too_large: 'request head too large',
  timeout: 'request too slow',
  body_too_large: 'body too large',
  connection_limit: 'too many connections',
  bad_target: 'bad request target',
  not_found: 'no such endpoint',
  bad_method: 'wrong method',
  status_not_local: 'status asked from afar',
  malformed_json: 'malformed JSON',
  bad_fields: 'bad fields',
  unknown_cluster: 'unknown cluster',
  bad_mac: 'bad MAC',
  clock_skew: 'clock skew',
  bad_members: 'bad members',
  replay: 'replayed request',
  nodes_table_full: 'too many nodes',
  internal_error: 'internal error',
};

/** Answers that are not drops: grants, renewals, refusals because another partition holds the vote, the restart hold. */
export const ANSWER_KINDS = ['granted', 'renewed', 'held_by_other', 'restart_hold'] as const;
export type AnswerKind = (typeof ANSWER_KINDS)[number];

export interface ArbitratorCounters {
  drops: Record<DropReason, number>;
  answers: Record<AnswerKind, number>;
}

const WARN_WINDOW_MS = 10_000;
const SUMMARY_EVERY_MS = 60_000;

const zeroes = <K extends string>(keys: readonly K[]): Record<K, number> => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export class DropCounters {
  private readonly counts: ArbitratorCounters = { drops: zeroes(DROP_REASONS), answers: zeroes(ANSWER_KINDS) };
  private readonly warn = new LogThrottle<DropReason>(WARN_WINDOW_MS);
  private lastSummary = 0;
  private changed = false;

  constructor(private readonly log: Logger) {}

  /** Count one drop; log it at warn unless this reason was warned about in the last 10 s. */
  drop(reason: DropReason, fields: Record<string, unknown>, msg: string, now: number): void {
    this.counts.drops[reason]++;
    this.changed = true;
    const line = { event: 'arbitrator.drop', reason, count: this.counts.drops[reason], ...fields };
    if (this.warn.due(reason, now)) {
      this.log.warn(line, msg);
    } else {
      this.log.debug(line, msg);
    }
    this.summarize(now);
  }

  answer(kind: AnswerKind, now: number): void {
    this.counts.answers[kind]++;
    this.changed = true;
    this.summarize(now);
  }

  /** Log every counter when something changed and the last summary is a minute old. */
  summarize(now: number, force = false): void {
    if (!this.changed || (!force && now - this.lastSummary < SUMMARY_EVERY_MS)) return;
    if (this.lastSummary === 0 && !force) {
      // the first summary comes a minute after the first count, not with it
      this.lastSummary = now;
      return;
    }
    this.lastSummary = now;
    this.changed = false;
    this.log.info({ event: 'arbitrator.drops', ...this.snapshot() }, 'arbitrator counters');
  }

  snapshot(): ArbitratorCounters {
    return { drops: { ...this.counts.drops }, answers: { ...this.counts.answers } };
  }
}
