// The `events` request: the ring's records in one answer, or (follow) that answer and then
// every new record pushed as one JSON line. The server bounds what a follower may hold.
import type { Request, Response } from './control-protocol.js';
import type { StreamAnswer } from './control-server.js';
import type { EventRecord, EventRing } from './event-ring.js';

const lines = (records: readonly EventRecord[]): string => records.map((r) => JSON.stringify(r) + '\n').join('');

export function answerEvents(ring: EventRing, req: Extract<Request, { op: 'events' }>): Response | StreamAnswer {
  // the snapshot and the subscription in the same turn: nothing falls between them
  const events = ring.snapshot();
  if (!req.follow) return { ok: true, events };
  return { stream: true, first: { ok: true, events, follow: true }, subscribe: (push) => ring.follow((batch) => push(lines(batch))) };
}
