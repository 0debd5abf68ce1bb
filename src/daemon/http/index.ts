// The daemon's HTTP listener put together: the routes of docs/metrics.md over one view
// provider. The provider (the svcmon model of the daemon's view, src/daemon/svcmon-model.ts)
// and the event ring are handed in by whoever runs the daemon.
import type { SvcmonModel } from '../svcmon-model.js';
import type { Logger } from '../../log.js';
import type { HostPort } from '../../util/host-port.js';
import type { EventRecord, EventRing } from '../event-ring.js';
import { DaemonMetrics } from './metrics.js';
import { statusPage } from './page.js';
import { listenHttp, type HttpListener } from './server.js';

/** recent events /status.json carries */
export const STATUS_EVENTS = 100;

export interface StatusSource {
  model(): SvcmonModel;
  events: EventRing;
}

/** GET /status.json: the svcmon model plus the last events. */
export type StatusDoc = SvcmonModel & { events: EventRecord[] };

export async function startDaemonHttp(at: HostPort, src: StatusSource, log: Logger): Promise<HttpListener> {
  const metrics = new DaemonMetrics();
  metrics.observe(src.events.snapshot());
  const unfollow = src.events.follow((r) => metrics.observe(r));
  const page = statusPage();
  try {
    const l = await listenHttp(
      at,
      {
        '/': () => ({ type: 'text/html; charset=utf-8', body: page }),
        '/status.json': () => ({ type: 'application/json', body: JSON.stringify({ ...src.model(), events: src.events.snapshot().slice(-STATUS_EVENTS) } satisfies StatusDoc) }),
        '/metrics': async () => ({ type: metrics.contentType, body: await metrics.render(src.model()) }),
      },
      log,
    );
    return { address: () => l.address(), close: () => (unfollow(), l.close()) };
  } catch (e) {
    unfollow();
    throw e;
  }
}
