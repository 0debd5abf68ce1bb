// `nodemgr daemon run`: the daemon's HTTP listener ([cluster] metrics_listen, docs/metrics.md)
// beside it, serving the svcmon model of its view. A listener that cannot start (address in
// use, not local) is logged (http.error) and the daemon runs on without it: metrics are never
// a reason for an HA agent to stop.
import type { Daemon } from '../daemon/daemon.js';
import { startDaemonHttp } from '../daemon/http/index.js';
import type { HttpListener } from '../daemon/http/server.js';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';
import { modelOfView } from '../daemon/svcmon-model.js';

export async function startWebOf(d: Daemon, log: Logger): Promise<HttpListener | undefined> {
  const at = d.metricsListen;
  if (!at) return undefined;
  const hlog = log.child({ part: 'http' });
  try {
    return await startDaemonHttp(at, { model: () => modelOfView(d.view()), events: d.eventRing }, hlog);
  } catch (e) {
    hlog.error({ event: EVENT.httpError, err: e instanceof Error ? e.message : String(e), addr: at.host, port: at.port }, `metrics_listen ${at.host}:${at.port}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
