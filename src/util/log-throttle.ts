// Which events of a flood to log loudly: the first of each key, then at most one per key per
// window; the others are only counted by the caller. Shared by the servers that face hostile
// clients (the arbitrator, the control socket), so a flood cannot fill the disk.
export class LogThrottle<K> {
  private readonly loudAt = new Map<K, number>();

  constructor(private readonly windowMs: number) {}

  /** True when an event of `key` at `now` should be logged loudly (and remembers it). */
  due(key: K, now: number): boolean {
    const last = this.loudAt.get(key);
    if (last !== undefined && now - last < this.windowMs) return false;
    this.loudAt.set(key, now);
    return true;
  }
}
