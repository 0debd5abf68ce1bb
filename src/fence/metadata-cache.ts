// Which actions each fence agent declares (its `metadata` answer), kept in memory and, when
// the daemon names a file, on disk: a Python agent costs ~100 ms to start, and a daemon that
// restarts and must fence at once should not pay it again for an answer that changes only
// when the agent's executable does. An entry is keyed by the executable's path, size and
// mtime, so an upgraded agent is asked again. The file is a cache: unreadable, too large or
// malformed, it is ignored and rewritten.
import fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readRegularFile } from '../util/bounded-read.js';

/** a cache of a few agents; more than this is not a cache file of ours */
const FILE_LIMIT = 256 * 1024;
const ENTRY_LIMIT = 256;

type Actions = string[] | null;

export class AgentMetadataCache {
  private readonly entries = new Map<string, Actions>();
  private loaded = false;

  constructor(private file: string | undefined = undefined) {}

  /** Keep the cache in `file` from now on (the daemon's var dir): what it holds is loaded on next use. */
  persistIn(file: string): void {
    if (this.file === file) return;
    this.file = file;
    this.entries.clear();
    this.loaded = false;
  }

  /** The key of an executable as it is now, or undefined when it cannot be stat'ed. */
  static keyOf(executable: string): string | undefined {
    try {
      const st = fs.statSync(executable);
      return `${executable}\0${st.size}\0${st.mtimeMs}`;
    } catch {
      return undefined;
    }
  }

  has(key: string): boolean {
    this.load();
    return this.entries.has(key);
  }

  get(key: string): Set<string> | null {
    this.load();
    const a = this.entries.get(key);
    return a ? new Set(a) : null;
  }

  set(key: string, actions: Set<string> | null): void {
    this.load();
    // entries of the same executable with another size/mtime are an older version of it
    const exe = key.split('\0')[0];
    for (const k of [...this.entries.keys()]) if (k.split('\0')[0] === exe) this.entries.delete(k);
    this.entries.set(key, actions ? [...actions].sort() : null);
    while (this.entries.size > ENTRY_LIMIT) this.entries.delete(this.entries.keys().next().value as string);
    this.save();
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.file) return;
    let text: string;
    try {
      const r = readRegularFile(this.file, FILE_LIMIT);
      if (!r.ok) return;
      text = r.text;
    } catch {
      return;
    }
    try {
      const doc: unknown = JSON.parse(text);
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return;
      for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
        if (this.entries.size >= ENTRY_LIMIT) break;
        if (v === null) this.entries.set(k, null);
        else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) this.entries.set(k, v as string[]);
      }
    } catch {
      // a torn or foreign file: start afresh, the next entry rewrites it
    }
  }

  private save(): void {
    if (!this.file) return;
    try {
      writeFileAtomic(this.file, `${JSON.stringify(Object.fromEntries(this.entries))}\n`);
    } catch {
      // a cache that cannot be written is only slower
    }
  }
}
