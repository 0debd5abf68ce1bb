// What svcmon prints of a daemon's view, as one string each: the text (the service table,
// its notes, the node table, the heartbeats) and the JSON model (src/daemon/svcmon-model.ts).
// The JSON is one compact line (docs/svcmon.md): pretty-printed, 3 nodes x 5000 services made
// 22 MB, most of it indentation, and its stringify and write were a third of svcmon's time.
import { crypto } from '../util/lazy-crypto.js';
import type { ClusterView, PayloadSpans } from '../daemon/control-protocol.js';
import { modelOfView } from '../daemon/svcmon-model.js';
import { renderClusterSvcmon } from './render-cluster.js';
import { renderHeartbeats } from './render-heartbeats.js';

export function svcmonText(view: ClusterView, wanted: readonly string[] = [], now = Date.now()): string {
  return `${renderClusterSvcmon(view, [...wanted], now)}\n\n${renderHeartbeats(view.hb, now).join('\n')}\n`;
}

/** The daemon's answer line and where each node's payload is in it (the `view` request's `spans`). */
export interface ViewText {
  text: string;
  spans: PayloadSpans;
}

/**
 * The model as one JSON line. With the answer's text (`raw`) and no `--service`, a live node's
 * payload, which the model carries unchanged, is copied from the answer instead of serialized
 * again (two thirds of the output at 5000 services): a placeholder string, unique to this run,
 * stands in for it in the stringify and is replaced by the daemon's text of it, the same bytes.
 */
export function svcmonJson(view: ClusterView, wanted: readonly string[] = [], raw?: ViewText): string {
  const model = modelOfView(view, wanted);
  if (!raw || wanted.length) return JSON.stringify(model) + '\n';
  const copied: [string, string][] = [];
  const tag = crypto().randomUUID();
  for (const n in model.nodes) {
    const e = model.nodes[n]!;
    const span = raw.spans[n];
    if (e.stale || !e.payload || !span) continue;
    const placeholder = `\u0000ferry-payload ${tag} ${n}`;
    copied.push([JSON.stringify(placeholder), raw.text.slice(span[0], span[1])]);
    (e as { payload: unknown }).payload = placeholder;
  }
  let out = JSON.stringify(model);
  for (const [placeholder, text] of copied) {
    const i = out.indexOf(placeholder);
    if (i < 0) throw new Error('svcmon: internal error: a payload placeholder is missing from the output');
    out = out.slice(0, i) + text + out.slice(i + placeholder.length);
  }
  return out + '\n';
}
