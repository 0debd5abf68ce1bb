// The `view` answer's text, the same bytes as JSON.stringify({ ok: true, view }), without
// serializing 3 x 5000 services per request: each service state and config digest of a peer
// is serialized once and its text kept while the object lives (a WeakMap on the object). A
// peer's items are replaced, never edited, when it publishes (src/statechan/replica.ts keeps
// the parsed values; the node state is reassembled around the same objects), so an object's
// text stays its text. This node's own states are edited in place by the daemon: they are
// serialized afresh (`fresh`). `lean` (the `view` request's option, for svcmon's text):
// `configs` keeps only the digests that carry a conflict, the one thing of them it shows.
import type { ClusterView } from './control-protocol.js';

/** the text of each peer item (service state, config digest) */
const texts = new WeakMap<object, string>();

function itemText(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  let s = texts.get(v);
  if (s === undefined) {
    s = JSON.stringify(v);
    texts.set(v, s);
  }
  return s;
}

/** an object of items as JSON.stringify writes it (undefined values dropped), each item's text reused */
function mapText(m: Record<string, unknown>, keep?: (v: unknown) => boolean): string {
  let out = '';
  for (const k of Object.keys(m)) {
    const v = m[k];
    if (keep && !keep(v)) continue;
    const s = itemText(v);
    if (s === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(k)}:${s}`;
  }
  return `{${out}}`;
}

const hasConflict = (v: unknown): boolean => typeof v === 'object' && v !== null && (v as { conflict?: unknown }).conflict !== undefined;

/** a node's payload: its services and configs item by item, the rest as JSON.stringify writes it */
function payloadText(p: Record<string, unknown>, lean: boolean): string {
  let out = '';
  for (const k of Object.keys(p)) {
    const v = p[k];
    let s: string | undefined;
    const items = typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
    if (items && k === 'services') s = mapText(v as Record<string, unknown>);
    else if (items && k === 'configs') s = mapText(v as Record<string, unknown>, lean ? hasConflict : undefined);
    else s = JSON.stringify(v);
    if (s === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(k)}:${s}`;
  }
  return `{${out}}`;
}

export interface ViewTextOptions {
  /** configs: only the digests with a conflict */
  lean?: boolean;
  /** `spans`: where each node's payload text is in the line (svcmon json copies those texts as they are) */
  spans?: boolean;
}

const PREFIX = '{"ok":true,"view":{';

/**
 * `{"ok":true,"view":...}` for this view (with `,"spans":{...}` after the view when asked).
 * `fresh`: the node whose payload is not cached (this node: its states are edited in place).
 * The view's payloads are only read.
 */
export function viewAnswerText(view: ClusterView, fresh: string, o: ViewTextOptions = {}): string {
  let nodes = '';
  const at: Record<string, [number, number]> = {};
  for (const n of Object.keys(view.nodes)) {
    const nv = view.nodes[n]!;
    nodes += `${nodes ? ',' : ''}${JSON.stringify(n)}:{"state":${JSON.stringify(nv.state)}`;
    const p = nv.payload as unknown as Record<string, unknown> | undefined;
    const s = typeof p !== 'object' || p === null ? JSON.stringify(p) : n === fresh ? payloadFresh(p, o.lean === true) : payloadText(p, o.lean === true);
    if (s !== undefined) {
      nodes += ',"payload":';
      at[n] = [nodes.length, nodes.length + s.length];
      nodes += s;
    }
    nodes += '}';
  }
  // the other fields as JSON.stringify writes them, in the view's key order (nodes at its place)
  let body = '';
  let nodesAt = 0;
  for (const k of Object.keys(view)) {
    const s = k === 'nodes' ? `{${nodes}}` : JSON.stringify((view as unknown as Record<string, unknown>)[k]);
    if (s === undefined) continue;
    body += `${body ? ',' : ''}${JSON.stringify(k)}:`;
    if (k === 'nodes') nodesAt = PREFIX.length + body.length + 1;
    body += s;
  }
  if (!o.spans) return `${PREFIX}${body}}}`;
  const spans = Object.fromEntries(Object.entries(at).map(([n, [a, b]]) => [n, [nodesAt + a, nodesAt + b]]));
  return `${PREFIX}${body}},"spans":${JSON.stringify(spans)}}`;
}

/** this node's payload, lean: serialized afresh, the configs without conflict left out */
function payloadFresh(p: Record<string, unknown>, lean: boolean): string {
  if (!lean || typeof p.configs !== 'object' || p.configs === null) return JSON.stringify(p);
  const configs: Record<string, unknown> = {};
  const all = p.configs as Record<string, unknown>;
  for (const k of Object.keys(all)) if (hasConflict(all[k])) configs[k] = all[k];
  return JSON.stringify({ ...p, configs });
}
