// The daemon's HTTP listener ([cluster] metrics_listen) on a real daemon: /metrics parsed by a
// strict Prometheus text parser agrees with `svcmon --format json`, /status.json is the
// svcmon document, and hostile HTTP input (huge headers, slowloris, bad methods, bodies,
// garbage) is refused while the daemon stays up and keeps answering.
import test from 'ava';
import net from 'node:net';
import { requireRoot, runCli } from '../helpers/env.js';
import { startHttpDaemon, until, type HttpDaemon, type SvcmonJson } from '../helpers/http-daemon.js';
import { parsePromText, sampleValue, samplesOf } from '../helpers/prom-text.js';
import { schemaErrors } from '../helpers/schemas.js';
import { askDaemon } from '../../src/daemon/control-client.js';
import { startSingleDaemon } from '../helpers/single-daemon.js';

const scrape = async (h: HttpDaemon) => {
  const r = await fetch(`${h.base}/metrics`);
  if (r.status !== 200) throw new Error(`/metrics: ${r.status}`);
  return { type: r.headers.get('content-type') ?? '', fams: parsePromText(await r.text()) };
};

/** the one status of an instance whose ferry_service_<kind> sample is 1 */
const current = (fams: ReturnType<typeof parsePromText>, kind: 'avail' | 'overall', svc: string, node: string) => {
  const on = samplesOf(fams, `ferry_service_${kind}`).filter((s) => s.labels.service === svc && s.labels.node === node && s.value === 1);
  return on.length === 1 ? on[0]!.labels.status : `${on.length} current statuses`;
};

test('/metrics agrees with svcmon --format json, before and after a stop; /status.json is the svcmon document', async (t) => {
  requireRoot();
  const h = await startHttpDaemon('mx');
  t.teardown(() => h.close());
  await until('the daemon to start the service', async () => (await h.svcmon()).services[h.svc]?.instances.a?.avail === 'up');
  // the daemon's own start was counted, with its duration
  await until('the start counted', async () => samplesOf((await scrape(h)).fams, 'ferry_actions_total').some((s) => s.labels.service === h.svc && s.labels.kind === 'start' && s.labels.result === 'ok'));
  const { type, fams } = await scrape(h);
  t.regex(type, /^text\/plain; version=0\.0\.4/);
  const sm: SvcmonJson = await h.svcmon();
  const inst = sm.services[h.svc]!.instances.a!;
  t.is(current(fams, 'avail', h.svc, 'a'), inst.avail ?? 'no avail');
  t.is(current(fams, 'overall', h.svc, 'a'), inst.overall ?? 'no overall');
  t.is(sampleValue(fams, 'ferry_service_frozen', { service: h.svc, node: 'a' }), inst.frozen ? 1 : 0);
  t.is(sampleValue(fams, 'ferry_service_running_nodes', { service: h.svc }), sm.services[h.svc]!.runningOn.length);
  t.is(sampleValue(fams, 'ferry_info', { node: 'a', cluster: 'single' }), 1);
  t.is(samplesOf(fams, 'ferry_peer_up').length, Object.keys(sm.nodes).length - 1);
  t.is(sampleValue(fams, 'ferry_quorum_ok'), 1);
  t.is(sampleValue(fams, 'ferry_actions_total', { service: h.svc, kind: 'start', result: 'ok' }), 1);
  t.true(sampleValue(fams, 'ferry_action_duration_seconds_count', { kind: 'start', result: 'ok' }) >= 1);
  for (const name of ['ferry_heartbeat_tx_total', 'ferry_heartbeat_drops_total', 'ferry_fence_attempts_total', 'ferry_last_failover_duration_seconds']) t.true(fams.has(name), name);

  // a state change shows in both
  const stop = await runCli('svcmgr', ['-s', h.svc, 'stop'], h.d.root.env);
  t.is(stop.exitCode, 0, stop.stderr);
  await until('svcmon to show the stop', async () => (await h.svcmon()).services[h.svc]?.instances.a?.avail === 'down');
  const after = (await scrape(h)).fams;
  t.is(current(after, 'avail', h.svc, 'a'), 'down');
  t.is(current(after, 'avail', h.svc, 'a'), (await h.svcmon()).services[h.svc]!.instances.a!.avail ?? 'no avail');

  const st = await fetch(`${h.base}/status.json`);
  t.is(st.status, 200);
  t.regex(st.headers.get('content-type') ?? '', /^application\/json/);
  const doc = (await st.json()) as SvcmonJson & { events: { event: string }[] };
  t.is(schemaErrors('svcmon', doc), '');
  t.is(doc.nodename, 'a');
  t.is(doc.services[h.svc]!.instances.a!.avail, 'down');
  t.true(doc.events.some((e) => e.event === 'daemon.started'));
  t.true(h.d.logEntries().some((e) => e.event === 'http.listening' && e.port === h.port));
});

/** Send raw bytes, collect what comes back until the server closes (or `ms`). */
function raw(port: number, chunks: (string | Buffer)[], opts: { gapMs?: number; ms?: number } = {}): Promise<{ text: string; closedBy: 'server' | 'timeout'; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let i = 0;
    let done = false;
    const finish = (closedBy: 'server' | 'timeout') => {
      if (done) return;
      done = true;
      clearInterval(iv);
      clearTimeout(to);
      s.destroy();
      resolve({ text, closedBy, ms: Date.now() - t0 });
    };
    const iv = setInterval(() => {
      if (i < chunks.length && s.writable) s.write(chunks[i++]!);
    }, opts.gapMs ?? 1);
    const to = setTimeout(() => finish('timeout'), opts.ms ?? 10_000);
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => finish('server'));
    s.on('close', () => finish('server'));
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

test('hostile HTTP input is refused and the daemon stays up', async (t) => {
  requireRoot();
  const h = await startHttpDaemon('mh');
  t.teardown(() => h.close());
  const p = h.port;
  const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`;

  t.is(statusOf((await raw(p, [get('/nosuch')])).text), 404);
  t.is(statusOf((await raw(p, [get('/metrics/../etc/passwd')])).text), 404);
  t.is(statusOf((await raw(p, [get('/__proto__')])).text), 404);
  t.is(statusOf((await raw(p, [get('/metrics?x=1')])).text), 200);
  for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']) {
    const r = await raw(p, [`${m} /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    t.is(statusOf(r.text), 405, m);
    t.regex(r.text, /\r\nallow: GET, HEAD\r\n/i);
  }
  // a body is never read
  const body = await raw(p, [`GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n`, Buffer.alloc(65536, 0x41)]);
  t.is(statusOf(body.text), 413);
  const chunked = await raw(p, [`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, 'ffffff\r\n', Buffer.alloc(65536, 0x41)]);
  t.true([405, 413].includes(statusOf(chunked.text)), chunked.text.slice(0, 80));
  // HEAD: the headers, no body
  const head = await raw(p, [`HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
  t.is(statusOf(head.text), 200);
  t.is(head.text.split('\r\n\r\n')[1], '');
  // huge headers: refused before they are all read
  const huge = await raw(p, [get('/', `X-Big: ${'a'.repeat(20_000)}\r\n`)]);
  t.is(statusOf(huge.text), 431);
  const many = await raw(p, [get('/', Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(30)}\r\n`).join(''))]);
  t.is(statusOf(many.text), 431);
  // garbage
  t.is(statusOf((await raw(p, ['HELLO WORLD\r\n\r\n'])).text), 400);
  t.is(statusOf((await raw(p, [Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10])])).text), 400);
  t.is(statusOf((await raw(p, ['GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'])).text), 400);
  // slowloris: a header line a second never completes; dropped after the headers timeout
  const slow = await raw(p, ['GET / HTTP/1.1\r\n', ...Array.from({ length: 30 }, (_, i) => `X-S${i}: 1\r\n`)], { gapMs: 1000, ms: 25_000 });
  t.is(slow.closedBy, 'server');
  t.true(slow.ms < 9_000, `slowloris held ${slow.ms} ms`);
  // an idle connection that never sends anything is dropped too
  const idle = await raw(p, [], { ms: 25_000 });
  t.is(idle.closedBy, 'server');
  t.true(idle.ms < 16_000, `idle held ${idle.ms} ms`);
  // a crowd of connections at once, then a normal request still works
  const crowd = await Promise.all(Array.from({ length: 150 }, () => raw(p, ['GET /metrics HTTP/1.1\r\nHost: x\r\n'], { ms: 3_000 })));
  t.true(crowd.length === 150);

  t.true(h.d.alive(), h.d.output().slice(-2000));
  t.true((await askDaemon(h.d.paths, { op: 'ping' }, 2_000)).ok);
  const ok = await fetch(`${h.base}/metrics`);
  t.is(ok.status, 200);
  parsePromText(await ok.text());
  const page = await fetch(`${h.base}/`);
  t.is(page.status, 200);
  t.regex(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  t.regex(await page.text(), /<table id="services">/);
});

test('a metrics_listen address in use: http.error logged, the daemon runs on without the listener', async (t) => {
  requireRoot();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => void blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const d = await startSingleDaemon('a', {}, [`metrics_listen = 127.0.0.1:${port}`]);
  t.teardown(() => d.close());
  await until('http.error', () => d.logEntries().some((e) => e.event === 'http.error' && e.port === port));
  t.true(d.alive());
  t.true((await askDaemon(d.paths, { op: 'ping' }, 2_000)).ok);
  t.false(d.logEntries().some((e) => e.event === 'http.listening'));
});
