// The failover bench's client: run inside a lab node, it fetches `GET /` from each target
// every `interval` ms (a fresh TCP connection each time, a short timeout) and writes one JSON
// line per state change of a target: the first failure after successes, the first success
// after failures, and a success served by another node than the previous one (the body of
// the page is the serving node's name). Attempts overlap: one is started every interval
// whatever the previous ones do, so a dead address does not stretch the sampling period; a
// result is taken only if no later-started attempt has finished already (a timeout landing
// after a success of a later attempt is stale).
//
//   node dist/bench/failover-client.js <interval ms> <timeout ms> <name>=<host>:<port> ...
//
// Lines: {"target","ok":true|false,"start":epoch ms,"end":epoch ms,"body"?,"prevOkEnd"?}: prevOkEnd
// is when the latest success before this line ended, so a switch that no attempt saw fail (the
// failing attempts' timeouts land after a later attempt's success: stale, not taken) still
// shows how long the client was not served.
import net from 'node:net';

interface Target {
  name: string;
  host: string;
  port: number;
  ok: boolean | undefined;
  body: string | undefined;
  inflight: number;
  /** start of the latest attempt whose result was taken: older results arriving late are stale */
  lastStart: number;
  /** end of the latest success taken: a line says when the client was last served before it */
  lastOkEnd: number | undefined;
}

const now = (): number => performance.timeOrigin + performance.now();
const [intervalArg, timeoutArg, ...specs] = process.argv.slice(2);
const interval = Number(intervalArg ?? 20);
const timeout = Number(timeoutArg ?? 200);
const MAX_INFLIGHT = Math.ceil(timeout / interval) + 4;

const targets: Target[] = specs.map((s) => {
  const m = /^([^=]+)=([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`bad target ${s}: want name=host:port`);
  return { name: m[1]!, host: m[2]!, port: Number(m[3]), ok: undefined, body: undefined, inflight: 0, lastStart: 0, lastOkEnd: undefined };
});

function fetchOnce(t: Target): Promise<{ ok: boolean; body?: string }> {
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    const finish = (ok: boolean, body?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(body === undefined ? { ok } : { ok, body });
    };
    const sock = net.connect({ host: t.host, port: t.port });
    const timer = setTimeout(() => finish(false), timeout);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('GET / HTTP/1.0\r\n\r\n'));
    sock.on('data', (d: string) => (data += d));
    sock.on('error', () => finish(false));
    sock.on('end', () => {
      const ok = /^HTTP\/1\.[01] 200/.test(data);
      finish(ok, ok ? data.slice(data.indexOf('\r\n\r\n') + 4).trim() : undefined);
    });
  });
}

function attempt(t: Target): void {
  if (t.inflight >= MAX_INFLIGHT) return;
  t.inflight++;
  const start = now();
  void fetchOnce(t).then((r) => {
    t.inflight--;
    const end = now();
    if (start < t.lastStart) return;
    t.lastStart = start;
    const changed = r.ok !== t.ok || (r.ok && r.body !== t.body);
    t.ok = r.ok;
    const prevOkEnd = t.lastOkEnd;
    if (r.ok) {
      t.body = r.body;
      t.lastOkEnd = end;
    }
    if (changed) process.stdout.write(`${JSON.stringify({ target: t.name, ok: r.ok, start, end, ...(r.ok ? { body: r.body } : {}), ...(prevOkEnd !== undefined ? { prevOkEnd } : {}) })}\n`);
  });
}

setInterval(() => {
  for (const t of targets) attempt(t);
}, interval);
process.on('SIGTERM', () => process.exit(0));
