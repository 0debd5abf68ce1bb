// GET /: the live status page. One self-contained HTML document (inline style and script, no
// external resource: the CSP of server.ts forbids any) that polls /status.json every second
// and redraws the svcmon table, the node table, the heartbeats and the recent events. Data is
// only ever put in the DOM as text (textContent), never as markup.

export const PAGE_POLL_MS = 1_000;

/** What the page shows of one instance of a service (the svcmon model's InstanceView). */
export interface CellInstance {
  stale: boolean;
  avail?: string;
  overall?: string;
  frozen?: boolean;
  monitor?: string;
  last?: { avail: string };
}

/**
 * The text and class of the svcmon table cell of one instance (none: the node is not one of
 * the service's). Runs in the page (injected by its source text), so plain JS only: no
 * import, no outer name.
 */
export function instanceCell(i: CellInstance | undefined): { text: string; cls: string } {
  if (!i) return { text: '', cls: '' };
  if (i.stale) return { text: 'stale (' + (i.last ? i.last.avail : '?') + ')', cls: 'st stale' };
  const text = String(i.avail) + (i.overall !== i.avail ? ' / ' + String(i.overall) : '') + (i.frozen ? ' frozen' : '') + (i.monitor && i.monitor !== 'idle' ? ' ' + i.monitor : '');
  return { text, cls: 'st ' + String(i.avail).replace(/[^a-z]/g, '-') };
}

const SCRIPT = String.raw`
'use strict';
const instanceCell = ${instanceCell.toString()};
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(cells, cls) {
  const tr = el('tr', undefined, cls);
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c));
  return tr;
}
function status(s) {
  const td = el('td', s, 'st ' + String(s).replace(/[^a-z]/g, '-'));
  return td;
}
// a table is replaced only when what it shows changed: a poll that brings the same rows
// leaves the DOM (selection, a reader's place, an element being looked at) alone
function fill(id, head, rows) {
  const t = $(id);
  const next = document.createElement('table');
  const thead = el('thead');
  thead.appendChild(row(head.map((h) => el('th', h))));
  const tbody = el('tbody');
  for (const r of rows) tbody.appendChild(r);
  next.append(thead, tbody);
  if (next.innerHTML === t.innerHTML) return;
  t.replaceChildren(thead, tbody);
}
function ago(ms) {
  if (ms === null || ms === undefined) return '-';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s + ' s ago';
}
function draw(d) {
  $('title').textContent = 'ferry ' + (d.cluster || '') + ' — ' + d.nodename;
  const nodes = Object.keys(d.nodes);
  const svcRows = [];
  for (const [name, s] of Object.entries(d.services)) {
    const cells = [el('td', name, 'svc'), el('td', s.placement), el('td', (s.runningOn || []).join(' ') || '-')];
    for (const n of nodes) {
      const c = instanceCell(s.instances[n]);
      const td = el('td', c.text, c.cls);
      td.dataset.node = n;
      cells.push(td);
    }
    const tr = row(cells);
    tr.dataset.service = name;
    svcRows.push(tr);
  }
  fill('services', ['service', 'placement', 'running on', ...nodes], svcRows);
  fill('nodes', ['node', 'state', 'frozen', 'quorum', 'last seen'], nodes.map((n) => {
    const e = d.nodes[n];
    const q = e.payload && e.payload.quorum;
    const tr = row([el('td', n), status(e.state), el('td', e.payload ? (e.payload.frozen ? 'yes' : 'no') : '-'), el('td', q ? q.state + ' ' + q.votes + '/' + q.total : '-'), el('td', n === d.nodename ? 'self' : ago(e.lastSeen))]);
    tr.dataset.node = n;
    return tr;
  }));
  const hbRows = [];
  for (const h of (d.hb && d.hb.heartbeats) || []) {
    const drops = Object.values(h.drops).reduce((a, b) => a + b, 0);
    hbRows.push(row([el('td', h.id), el('td', h.type), el('td', '-'), status(h.txState), el('td', h.tx), el('td', '-'), el('td', drops)]));
    for (const [p, ps] of Object.entries(h.peers)) hbRows.push(row([el('td', ''), el('td', ''), el('td', p), status(ps.rxState), el('td', '-'), el('td', ps.rx), el('td', Object.values(ps.drops).reduce((a, b) => a + b, 0))]));
  }
  fill('heartbeats', ['heartbeat', 'type', 'peer', 'state', 'tx', 'rx', 'drops'], hbRows);
  const evs = (d.events || []).slice(-30).reverse();
  fill('events', ['time', 'event', 'about', 'message'], evs.map((e) => row([el('td', new Date(e.time).toISOString().slice(11, 23)), el('td', e.event), el('td', e.svc || e.peer || e.target || ''), el('td', e.msg || '')])));
}
async function poll() {
  try {
    const r = await fetch('/status.json', { cache: 'no-store' });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    draw(await r.json());
    $('updated').textContent = 'updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
    $('updated').className = '';
  } catch (e) {
    $('updated').textContent = 'no answer from the daemon: ' + e.message;
    $('updated').className = 'error';
  }
}
poll();
setInterval(poll, ${PAGE_POLL_MS});
`;

export function statusPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferry status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin-top: 1.5em; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #e8e8e8; }
.st.up { background: #c8f0c8; } .st.down { background: #f4c4c4; } .st.warn { background: #f8e4a8; }
.st.stale, .st.left, .st.unknown { background: #ddd; color: #555; } .st.error, .st.stalled { background: #f4c4c4; }
.svc { font-weight: bold; } #updated { color: #666; } #updated.error { color: #b00; font-weight: bold; }
</style>
</head>
<body>
<h1 id="title">ferry</h1>
<div id="updated">loading…</div>
<h2>Services</h2><table id="services"></table>
<h2>Nodes</h2><table id="nodes"></table>
<h2>Heartbeats</h2><table id="heartbeats"></table>
<h2>Recent events</h2><table id="events"></table>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
