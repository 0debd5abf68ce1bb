// The daemon's memory of recent events: the last `capacity` log records that carry an
// `event` field (src/events.ts), each numbered, and the followers (`nodemgr events --follow`)
// they are pushed to. Bounded everywhere: the number of records, the size of each (a larger
// one is kept as its small fields), and what a follower may have pending (the control server
// drops a follower that does not read: src/daemon/control-server.ts). Followers are told
// outside the logger's call (next turn of the event loop), in batches.

/** One event as `nodemgr events` shows it: the pino record plus its number in this daemon. */
export interface EventRecord {
  seq: number;
  time: number;
  level: number;
  event: string;
  msg?: string;
  [field: string]: unknown;
}

/** A serialised record longer than this is kept without its other fields. */
export const MAX_EVENT_BYTES = 16 * 1024;
export const EVENT_RING_CAPACITY = 1000;

/** the fields kept of a record too large to keep whole */
const KEPT = ['time', 'level', 'event', 'node', 'svc', 'rid', 'peer', 'target'] as const;

export type Follower = (records: readonly EventRecord[]) => void;

export class EventRing {
  private readonly records: EventRecord[] = [];
  private seq = 0;
  private readonly followers = new Set<Follower>();
  private pending: EventRecord[] = [];
  private scheduled = false;

  constructor(private readonly capacity = EVENT_RING_CAPACITY) {}

  /** One serialised pino line (from the log tap). Lines that are not an event record are ignored. */
  pushLine(line: string): void {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    const o = v as Record<string, unknown>;
    if (typeof o.event !== 'string') return;
    let rec: Record<string, unknown> = o;
    if (line.length > MAX_EVENT_BYTES) {
      rec = Object.fromEntries(KEPT.filter((k) => o[k] !== undefined && (typeof o[k] !== 'string' || (o[k] as string).length <= 256)).map((k) => [k, o[k]]));
      rec.msg = typeof o.msg === 'string' ? o.msg.slice(0, 512) : undefined;
      rec.truncated = true;
    }
    this.push({ ...rec, time: typeof o.time === 'number' ? o.time : Date.now(), level: typeof o.level === 'number' ? o.level : 30, event: o.event } as Omit<EventRecord, 'seq'>);
  }

  push(r: Omit<EventRecord, 'seq'>): EventRecord {
    const rec = { ...r, seq: ++this.seq } as EventRecord;
    this.records.push(rec);
    if (this.records.length > this.capacity) this.records.splice(0, this.records.length - this.capacity);
    if (this.followers.size) {
      this.pending.push(rec);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    }
    return rec;
  }

  /** The records held, oldest first. */
  snapshot(): EventRecord[] {
    return [...this.records];
  }

  /** Get every record pushed from now on (in batches). Returns the unsubscribe function. */
  follow(f: Follower): () => void {
    this.followers.add(f);
    return () => this.followers.delete(f);
  }

  get followerCount(): number {
    return this.followers.size;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    for (const f of [...this.followers]) {
      try {
        f(batch);
      } catch {
        this.followers.delete(f);
      }
    }
  }
}
