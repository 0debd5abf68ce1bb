// An in-memory heartbeat medium for engine tests: every engine attached to a bus gets the
// others' beats on the same heartbeat id, unless the test cut that heartbeat.
import type { HbConfig } from '../../src/cluster/config.js';
import type { Transport, TransportHost } from '../../src/heartbeat/transport.js';

export class MemoryBus {
  private readonly members = new Map<string, { node: string; host: TransportHost }[]>();
  readonly cut = new Set<string>();

  transport(cfg: HbConfig, host: TransportHost, node: string): Transport {
    const list = this.members.get(cfg.id) ?? [];
    this.members.set(cfg.id, list);
    const me = { node, host };
    return {
      start: async () => void list.push(me),
      beat: async (message) => {
        host.sent(undefined);
        if (this.cut.has(cfg.id)) return;
        for (const m of list) if (m !== me) m.host.receive(Buffer.from(message), {});
      },
      stop: async () => {
        const i = list.indexOf(me);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  /** deliver raw bytes on a heartbeat to every member (injection) */
  inject(hb: string, bytes: Buffer): void {
    for (const m of this.members.get(hb) ?? []) m.host.receive(bytes, {});
  }
}
