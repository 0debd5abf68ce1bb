// The heartbeat block of svcmon: one line per heartbeat (tx side), one per peer under it
// (rx side), from a snapshot. Plain text rows; the CLI decides where to print them.
import type { HbSnapshot } from '../heartbeat/types.js';
import { alignedRows } from './table.js';

const ago = (at: number | null, now: number): string => (at === null ? '-' : `${((now - at) / 1000).toFixed(1)}s ago`);

export function renderHeartbeats(snap: HbSnapshot, now = Date.now()): string[] {
  const rows: string[][] = [['heartbeat', 'state', 'last', 'count', 'drops']];
  for (const h of snap.heartbeats) {
    const tx = h.txState === 'error' && h.txError ? `tx error: ${h.txError}` : `tx ${h.txState}`;
    const total = Object.values(h.drops).reduce((a, b) => a + b, 0);
    rows.push([`${h.id} ${h.type}`, tx, ago(h.lastSent, now), `${h.tx} sent`, String(total)]);
    for (const [peer, p] of Object.entries(h.peers)) {
      const drops = Object.entries(p.drops)
        .filter(([, n]) => n > 0)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ');
      rows.push([`  ${peer}`, `rx ${p.rxState}`, ago(p.lastSeen, now), `${p.rx} recv`, drops || '0']);
    }
  }
  return alignedRows(rows);
}
