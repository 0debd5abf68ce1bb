// What svcmon prints of a daemon's view, as one string each: the text (the service table,
// its notes, the node table, the heartbeats) and the JSON model (src/daemon/svcmon-model.ts).
// The JSON is one compact line (docs/svcmon.md): pretty-printed, 3 nodes x 5000 services made
// 22 MB, most of it indentation, and its stringify and write were a third of svcmon's time.
import type { ClusterView } from '../daemon/control-protocol.js';
import { modelOfView } from '../daemon/svcmon-model.js';
import { renderClusterSvcmon } from './render-cluster.js';
import { renderHeartbeats } from './render-heartbeats.js';

export function svcmonText(view: ClusterView, wanted: readonly string[] = [], now = Date.now()): string {
  return `${renderClusterSvcmon(view, [...wanted], now)}\n\n${renderHeartbeats(view.hb, now).join('\n')}\n`;
}

export function svcmonJson(view: ClusterView, wanted: readonly string[] = []): string {
  return JSON.stringify(modelOfView(view, wanted)) + '\n';
}
