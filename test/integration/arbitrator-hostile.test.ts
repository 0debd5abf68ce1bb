// A real `nodemgr arbitrator` process against hostile and careless clients: a request line
// that used to crash it (`GET http://[ HTTP/1.1`: an uncaught TypeError, the process exited),
// bad and oversized heads, oversized bodies, clients that dribble their head or body (cut off
// in bounded time while others are served), garbage JSON, bad MACs, a replayed signed request
// (refused, the lease not extended). After all of it the process still runs, counted every
// drop by reason (GET /status from loopback), and a legitimate node still gets its vote.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { askVote } from '../../src/arbitrator/client.js';
import type { DropReason } from '../../src/arbitrator/drops.js';
import type { StatusAnswer } from '../../src/arbitrator/handler.js';
import type { UnsignedVoteRequest, VoteAnswer } from '../../src/arbitrator/protocol.js';
import { arbitratorKey, MAX_BODY_BYTES, MAX_HEADER_BYTES, signRequest } from '../../src/arbitrator/protocol.js';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, startArbitrator } from '../../src/arbitrator/server.js';
import { silentLogger } from '../../src/log.js';
import { distCli } from '../helpers/env.js';

const SECRET = 'ab'.repeat(32);
const prod = { name: 'prod', secret: SECRET };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Arb {
  child: ChildProcess;
  port: number;
  dir: string;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** A real `nodemgr arbitrator` on 127.0.0.1 (no restart hold), killed at teardown. */
async function startArb(t: ExecutionContext): Promise<Arb> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-arbh-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const env = { ...process.env, FERRY_ROOT: dir, FERRY_NODENAME: 'arb', FERRY_LOG_LEVEL: 'info' };
  const child = spawn(process.execPath, [distCli('nodemgr'), 'arbitrator', '--listen', '127.0.0.1:0', '--cluster', 'prod', '--secret-file', secretFile, '--restart-hold', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => void (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => void (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));
  for (let i = 0; i < 200; i++) {
    const m = /listening on 127\.0\.0\.1:(\d+)\/vote/.exec(stdout);
    if (m) return { child, port: Number(m[1]), dir, exited, stderr: () => stderr };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`nodemgr arbitrator did not start; stdout: ${stdout} stderr: ${stderr}`);
}

interface RawResult {
  /** status of the first response line, 0 if none */
  status: number;
  text: string;
  /** the server closed the connection (not our timeout) */
  closed: boolean;
  ms: number;
}

/** Write raw bytes (or a sequence of them, `gapMs` apart) and read until the server closes or `timeoutMs`. */
function raw(port: number, data: string | Buffer | Array<string | Buffer>, o: { timeoutMs?: number; gapMs?: number } = {}): Promise<RawResult> {
  const parts = Array.isArray(data) ? data : [data];
  const started = Date.now();
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), o.timeoutMs ?? 10_000);
    s.on('data', (c: Buffer) => void (text += c.toString('latin1')));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', () => {
      void (async () => {
        for (const p of parts) {
          if (done || s.destroyed) return;
          s.write(p);
          if (o.gapMs) await sleep(o.gapMs);
        }
      })();
    });
  });
}

/** The JSON body of a raw HTTP response. */
function bodyOf(r: RawResult): Record<string, unknown> {
  const i = r.text.indexOf('\r\n\r\n');
  return JSON.parse(r.text.slice(i + 4)) as Record<string, unknown>;
}

function signed(over: Partial<UnsignedVoteRequest> = {}): string {
  const r: UnsignedVoteRequest = { cluster: 'prod', node: 'n1', members: ['n1', 'n2'], ttl: 6000, ts: Date.now(), ...over };
  return JSON.stringify(signRequest(arbitratorKey(SECRET, 'prod'), r));
}

async function post(port: number, body: string): Promise<{ status: number; answer: VoteAnswer }> {
  const res = await fetch(`http://127.0.0.1:${port}/vote`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, answer: (await res.json()) as VoteAnswer };
}

async function status(port: number): Promise<StatusAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}/status`);
  if (res.status !== 200) throw new Error(`GET /status: HTTP ${res.status}`);
  return (await res.json()) as StatusAnswer;
}

const arbAt = (port: number) => ({ id: 'arbitrator#1', addr: '127.0.0.1', port, timeout: 5000 });

test('a malformed request line is a 400, and the arbitrator process keeps serving', async (t) => {
  const a = await startArb(t);
  const crash = await raw(a.port, 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(crash.status, 400, crash.text);
  t.true(crash.closed);
  t.regex(String(bodyOf(crash).reason), /bad request target/);
  // other broken request lines and heads
  for (const bad of ['POST http://[::1 HTTP/1.1\r\n\r\n', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', 'GARBAGE\r\n\r\n', 'POST /vote HTTP/1.1\r\nContent-Length: abc\r\n\r\n', Buffer.from([0, 255, 13, 10, 13, 10]), 'POST /vote HTTP/9.9\r\n\r\n', 'POST /vote HTTP/1.1\r\nBad Header: x\r\n\r\n', 'CONNECT arb:1 HTTP/1.1\r\n\r\n']) {
    const r = await raw(a.port, bad);
    t.true(r.status >= 400 && r.status < 500, `${JSON.stringify(bad.toString())} → ${JSON.stringify(r.text.slice(0, 80))}`);
  }
  // clients that send and reset at once, mid-answer
  await Promise.all(
    ['CONNECT arb:1 HTTP/1.1\r\n\r\n', 'GET http://[ HTTP/1.1\r\n\r\n', `POST /vote HTTP/1.1\r\nContent-Length: 5\r\n\r\n{"a":`, `POST /vote HTTP/1.1\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(70_000)}`].flatMap((req) =>
      Array.from({ length: 10 }, () => new Promise<void>((resolve) => {
        const s = net.connect(a.port, '127.0.0.1', () => {
          s.write(req);
          setImmediate(() => s.resetAndDestroy());
        });
        s.on('error', () => undefined);
        s.on('close', () => resolve());
      })),
    ),
  );
  await sleep(300);
  t.is(a.child.exitCode, null, `the arbitrator exited: ${a.stderr()}`);
  t.deepEqual(await askVote(arbAt(a.port), prod, 'n1', ['n1', 'n2'], 6000), { granted: true, holder: ['n1', 'n2'] });
  const st = await status(a.port);
  t.true(st.counters.drops.bad_target >= 2, JSON.stringify(st.counters.drops));
  t.true(st.counters.drops.bad_request >= 3, JSON.stringify(st.counters.drops));
  t.false(/TypeError|Invalid URL/.test(a.stderr()), a.stderr());
  a.child.kill('SIGTERM');
  t.is(await a.exited, 0);
});

test('hostile clients are refused and counted; the process survives; a legitimate node still gets its vote', async (t) => {
  const a = await startArb(t);
  const drops = async (): Promise<Record<DropReason, number>> => (await status(a.port)).counters.drops;

  // oversized head: one huge header, and many headers
  const bigHeader = await raw(a.port, `POST /vote HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(MAX_HEADER_BYTES * 2)}\r\n\r\n`);
  t.is(bigHeader.status, 431, bigHeader.text.slice(0, 200));
  const manyHeaders = await raw(a.port, `POST /vote HTTP/1.1\r\n${Array.from({ length: 2000 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`);
  t.is(manyHeaders.status, 431);
  // oversized body: declared, and chunked without a length
  const declared = await raw(a.port, `POST /vote HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_BODY_BYTES * 100}\r\n\r\n${'x'.repeat(1000)}`);
  t.is(declared.status, 413);
  const chunk = 'x'.repeat(16 * 1024);
  const chunked = await raw(a.port, [`POST /vote HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, ...Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`), '0\r\n\r\n']);
  t.is(chunked.status, 413);
  const viaFetch = await post(a.port, JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES + 1) }));
  t.is(viaFetch.status, 413);
  // garbage JSON, wrong shapes, oversized names
  t.is((await post(a.port, '{"cluster":')).status, 400);
  t.is((await post(a.port, '\u0000\uffff')).status, 400);
  t.is((await post(a.port, 'null')).status, 400);
  t.is((await post(a.port, JSON.stringify({ cluster: 'prod', node: 'n'.repeat(300), members: ['n'.repeat(300)], ttl: 1, ts: 1, mac: 'a'.repeat(64) }))).status, 400);
  t.is((await post(a.port, JSON.stringify({ cluster: 'prod', node: 'n1', members: Array.from({ length: 1000 }, (_, i) => `n${i}`), ttl: 1, ts: 1, mac: 'a'.repeat(64) }))).status, 400);
  // bad signatures: wrong key, a field changed after signing, a mac of the wrong length
  const wrong = JSON.parse(signed()) as Record<string, unknown>;
  wrong.mac = 'f'.repeat(64);
  t.is((await post(a.port, JSON.stringify(wrong))).status, 403);
  const tampered = JSON.parse(signed({ node: 'n3', members: ['n3'] })) as Record<string, unknown>;
  tampered.ttl = 60_000;
  t.is((await post(a.port, JSON.stringify(tampered))).status, 403);
  wrong.mac = 'f'.repeat(63);
  t.is((await post(a.port, JSON.stringify(wrong))).status, 400);
  // /status from loopback only: a GET of /vote is 405, an unknown path 404
  t.is((await fetch(`http://127.0.0.1:${a.port}/vote`)).status, 405);
  t.is((await fetch(`http://127.0.0.1:${a.port}/nope`)).status, 404);

  // a replayed signed request: the first copy is granted, the copies are refused and do not extend the lease
  const once = signed({ node: 'n1', members: ['n1', 'n2'] });
  const first = await post(a.port, once);
  t.is(first.status, 200);
  t.true(first.answer.granted);
  await sleep(50);
  for (let i = 0; i < 2; i++) {
    const again = await post(a.port, once);
    t.is(again.status, 403);
    t.false(again.answer.granted);
    t.regex(again.answer.reason ?? '', /replayed/);
    t.deepEqual(again.answer.holder, []);
  }
  const other = await post(a.port, signed({ node: 'n3', members: ['n3'] }));
  t.is(other.status, 409);
  t.is(other.answer.expires, first.answer.expires, 'the replays did not move the lease forward');

  const d = await drops();
  for (const reason of ['headers_too_large', 'body_too_large', 'malformed_json', 'bad_fields', 'bad_mac', 'bad_method', 'not_found'] as const) t.true(d[reason] >= 1, `${reason}: ${JSON.stringify(d)}`);
  t.is(d.replay, 2);
  t.is(d.headers_too_large, 2);
  t.is(d.body_too_large, 3);

  t.is(a.child.exitCode, null, a.stderr());
  // a legitimate node of the holding partition renews; the lease moves forward
  t.deepEqual(await askVote(arbAt(a.port), prod, 'n2', ['n1', 'n2'], 6000), { granted: true, holder: ['n1', 'n2'] });
  const after = await post(a.port, signed({ node: 'n3', members: ['n3'] }));
  t.true(after.answer.expires > first.answer.expires);
  const logText = fs.readFileSync(path.join(a.dir, 'log', 'arbitrator.log'), 'utf8');
  t.regex(logText, /"event":"arbitrator.drop","reason":"replay"/);
  a.child.kill('SIGTERM');
  t.is(await a.exited, 0);
  t.regex(fs.readFileSync(path.join(a.dir, 'log', 'arbitrator.log'), 'utf8'), /"event":"arbitrator.drops"/, 'the counters are logged at stop');
});

test('slow clients (head or body dribbled, idle connections) are cut off in bounded time while others are served', async (t) => {
  const a = await startArb(t);
  const dribbleHead = 'POST /vote HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(200);
  const slowHead = raw(a.port, [...dribbleHead], { gapMs: 100, timeoutMs: 30_000 });
  const body = signed();
  const slowBody = raw(a.port, [`POST /vote HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, ...body], { gapMs: 100, timeoutMs: 30_000 });
  const idle = Array.from({ length: 20 }, () => raw(a.port, [], { timeoutMs: 30_000 }));

  // meanwhile, a node asks every 500 ms and is answered quickly every time
  const latencies: number[] = [];
  let stop = false;
  const asker = (async () => {
    while (!stop) {
      const started = Date.now();
      const r = await askVote(arbAt(a.port), prod, 'n1', ['n1', 'n2'], 6000);
      latencies.push(Date.now() - started);
      t.true(r.granted, r.error);
      await sleep(500);
    }
  })();

  const head = await slowHead;
  t.true(head.closed, 'the slow head was cut off');
  t.true(head.ms >= HEADERS_TIMEOUT_MS - 1000 && head.ms < HEADERS_TIMEOUT_MS + 5000, `slow head cut after ${head.ms} ms`);
  t.true(head.status === 408 || head.status === 0, head.text);
  const slow = await slowBody;
  t.true(slow.closed, 'the slow body was cut off');
  t.true(slow.ms < REQUEST_TIMEOUT_MS + 5000, `slow body cut after ${slow.ms} ms`);
  t.is(slow.status === 200, false, 'a body that took longer than the request timeout is not served');
  for (const r of await Promise.all(idle)) t.true(r.closed && r.ms < HEADERS_TIMEOUT_MS + 5000, `idle connection closed after ${r.ms} ms`);
  stop = true;
  await asker;
  t.true(latencies.length >= 5, `only ${latencies.length} answers`);
  t.true(Math.max(...latencies) < 2000, `latencies ${latencies.join(' ')}`);
  const st = await status(a.port);
  t.true(st.counters.drops.timeout >= 2, JSON.stringify(st.counters.drops));
  t.is(a.child.exitCode, null, a.stderr());
  a.child.kill('SIGTERM');
  t.is(await a.exited, 0);
});

test('connections past the cap are closed on accept and counted; the ones within it are served', async (t) => {
  const h = await startArbitrator({ host: '127.0.0.1', port: 0, secrets: new Map([['prod', SECRET]]), log: silentLogger(), maxConnections: 3 });
  t.teardown(() => h.close());
  const held = Array.from({ length: 3 }, () => net.connect(h.port, '127.0.0.1'));
  t.teardown(() => held.forEach((s) => s.destroy()));
  await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
  await sleep(200);
  const extra = await Promise.all(Array.from({ length: 4 }, () => raw(h.port, 'GET /status HTTP/1.1\r\n\r\n', { timeoutMs: 5000 })));
  for (const r of extra) t.true(r.closed && r.status === 0, `past the cap: ${JSON.stringify(r)}`);
  t.is(h.counters().drops.connection_limit, 4);
  held.forEach((s) => s.destroy());
  await sleep(200);
  t.true((await askVote(arbAt(h.port), prod, 'n1', ['n1'], 6000)).granted);
});

test('a signed request sent three times: granted once, the copies refused, the lease not extended by them', async (t) => {
  const a = await startArb(t);
  const once = signed({ node: 'n1', members: ['n1', 'n2'] });
  const answers: Array<{ status: number; answer: VoteAnswer }> = [];
  for (let i = 0; i < 3; i++) {
    answers.push(await post(a.port, once));
    await sleep(100);
  }
  t.deepEqual(answers.map((x) => x.status), [200, 403, 403]);
  t.deepEqual(answers.map((x) => x.answer.granted), [true, false, false]);
  const other = await post(a.port, signed({ node: 'n3', members: ['n3'] }));
  t.is(other.status, 409);
  t.is(other.answer.expires, answers[0]!.answer.expires, 'expires did not move forward');
  t.deepEqual(await askVote(arbAt(a.port), prod, 'n2', ['n1', 'n2'], 6000), { granted: true, holder: ['n1', 'n2'] });
  a.child.kill('SIGTERM');
  t.is(await a.exited, 0);
});
