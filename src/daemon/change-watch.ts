// Which services may have changed on disk since their files were last stat'ed, so that the
// daemon's tick stats only those (docs/monitoring.md, "Intervals"): inotify (fs.watch) on
// the services directory and on each service's var dir. What it cannot watch (a var dir not
// made yet, a watch that failed or ran out of inotify watches) is stat'ed at every tick, as
// before; and every name is stat'ed again at least every `restatMs` anyway, since inotify can
// drop events (queue overflow) without telling Node.
import fs from 'node:fs';
import { SERVICE_FILE_NAME } from '../config/load.js';


export class ChangeWatch {
  private readonly dirty = new Set<string>();
  /** when each name was last reported unchanged-safe, i.e. stat'ed */
  private readonly lastStat = new Map<string, number>();
  /** per service: its var dir watcher and the inode it watches */
  private readonly varWatch = new Map<string, { w: fs.FSWatcher; ino: number }>();
  private servicesWatcher: fs.FSWatcher | undefined;

  /** when to try watching the services directory again (it may not exist yet at the start) */
  private retryAt = 0;

  constructor(
    private readonly servicesDir: string,
    private readonly varDirOf: (name: string) => string,
    private readonly restatMs: number,
  ) {}

  private watchServices(): void {
    try {
      const w = fs.watch(this.servicesDir, { persistent: false }, (_ev, file) => {
        const m = typeof file === 'string' ? SERVICE_FILE_NAME.exec(file) : null;
        if (m) this.dirty.add(m[1]!);
        // no file name: which one changed is unknown, so all are
        else if (typeof file !== 'string') this.lastStat.clear();
      });
      w.on('error', () => this.unwatchServices());
      this.servicesWatcher = w;
      // what changed before the watch began is found by the stats that follow
      this.lastStat.clear();
    } catch {
      // not watchable yet (no such directory): retried by mustStat
    }
  }

  private unwatchServices(): void {
    this.servicesWatcher?.close();
    this.servicesWatcher = undefined;
  }

  private unwatchVar(name: string): void {
    this.varWatch.get(name)?.w.close();
    this.varWatch.delete(name);
  }

  /**
   * Must the service's files be stat'ed now? True when a watched path changed, when one of
   * them is not watched, or when the last stat is restatMs old. A true answer is taken to be
   * followed by the stat, and the clock of the next forced stat starts again.
   */
  mustStat(name: string, now: number): boolean {
    if (this.servicesWatcher === undefined && now >= this.retryAt) {
      this.retryAt = now + this.restatMs;
      this.watchServices();
    }
    const last = this.lastStat.get(name);
    const must = this.servicesWatcher === undefined || !this.varWatch.has(name) || this.dirty.has(name) || last === undefined || now - last >= this.restatMs;
    if (must) {
      this.dirty.delete(name);
      this.lastStat.set(name, now);
    }
    return must;
  }

  /**
   * After a stat of the var dir (`ino` undefined: it does not exist): watch it, or again when
   * it was made anew (another inode), or stop watching it when it is gone.
   */
  varDirStat(name: string, ino: number | undefined): void {
    const cur = this.varWatch.get(name);
    if (cur && cur.ino === ino) return;
    this.unwatchVar(name);
    if (ino === undefined) return;
    try {
      const w = fs.watch(this.varDirOf(name), { persistent: false }, () => this.dirty.add(name));
      w.on('error', () => this.unwatchVar(name));
      this.varWatch.set(name, { w, ino });
      // a change between the stat and the watch would be missed: look once more
      this.dirty.add(name);
    } catch {
      // not watchable (gone since the stat, out of watches): stat'ed at every tick
    }
  }

  forget(name: string): void {
    this.unwatchVar(name);
    this.dirty.delete(name);
    this.lastStat.delete(name);
  }

  close(): void {
    this.retryAt = Infinity;
    this.unwatchServices();
    for (const name of [...this.varWatch.keys()]) this.unwatchVar(name);
  }
}
