// Hostile clients on a real daemon's control socket (issue 8 item 4): bad lines are answered
// {ok:false,error}, a huge line without a newline is refused without growing the daemon, a
// silent or dribbling client is closed after a bounded time, a crowd of connections is capped;
// after each the daemon is alive and `nodemgr daemon status` answers, and the drops are counted
// by reason in `daemon status --format json` and logged with event "control-drop".
import net from 'node:net';
import test from 'ava';
import { askDaemon } from '../../src/daemon/control-client.js';
import { requireRoot, runCli } from '../helpers/env.js';
import { startSingleDaemon, type SingleDaemon } from '../helpers/single-daemon.js';

let daemon: SingleDaemon | undefined;
const d = (): SingleDaemon => {
  if (!daemon) throw new Error('the daemon did not start (see the before hook)');
  return daemon;
};

interface Exchange {
  answer: string;
  /** ms from connect to the server closing the connection */
  closedAfterMs: number;
}

/** Connect, run the client's part, collect what the server sends until it closes. */
function exchange(socket: string, client: (c: net.Socket) => void, limitMs = 40_000, allowHalfOpen = false): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ path: socket, allowHalfOpen });
    let answer = '';
    let t0 = Date.now();
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`the server did not close the connection within ${limitMs} ms (got ${JSON.stringify(answer.slice(0, 200))})`));
    }, limitMs);
    c.on('connect', () => {
      t0 = Date.now();
      client(c);
    });
    c.on('data', (b: Buffer) => (answer += b.toString('utf8')));
    c.on('error', () => undefined);
    c.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, closedAfterMs: Date.now() - t0 });
    });
  });
}

const sendLine = (bytes: Buffer) => (c: net.Socket) => c.write(bytes);

function refusal(t: import('ava').ExecutionContext, answer: string, want: RegExp): void {
  const line = answer.split('\n')[0] ?? '';
  let r: { ok?: unknown; error?: unknown };
  try {
    r = JSON.parse(line) as typeof r;
  } catch {
    t.fail(`answer is not one JSON line: ${JSON.stringify(answer.slice(0, 200))}`);
    return;
  }
  t.is(r.ok, false, line);
  t.is(typeof r.error, 'string', line);
  t.regex(String(r.error), want);
}

interface StatusJson {
  nodename: string;
  control?: { connections: number; answered: number; drops: Record<string, number> };
}

async function status(): Promise<StatusJson> {
  const r = await runCli('nodemgr', ['daemon', 'status', '--format', 'json'], d().root.env, 30_000);
  if (r.exitCode !== 0) throw new Error(`nodemgr daemon status: exit ${r.exitCode}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as StatusJson;
}

async function stillServing(t: import('ava').ExecutionContext, after: string): Promise<void> {
  t.true(d().alive(), `the daemon is alive after ${after}: ${d().output().slice(-2000)}`);
  t.is((await status()).nodename, 'a', `daemon status answers after ${after}`);
}

/** Slow clients started first: they run while the other checks go on. */
let slow: Promise<[Exchange, Exchange]> | undefined;

test.before(async () => {
  requireRoot();
  daemon = await startSingleDaemon('a');
  const silent = exchange(d().socket, () => undefined);
  // a byte every 300 ms, never a newline
  const dribble = exchange(d().socket, (c) => {
    const bytes = Buffer.from('{"op":"ping"' + ' '.repeat(1000));
    let i = 0;
    const iv = setInterval(() => (c.destroyed || i >= bytes.length ? clearInterval(iv) : c.write(bytes.subarray(i, ++i))), 300);
    c.on('close', () => clearInterval(iv));
  });
  slow = Promise.all([silent, dribble]);
  slow.catch(() => undefined);
});

test.after.always(async () => {
  await daemon?.close();
});

test.serial('bad request lines are answered {ok:false,error} and the daemon lives on', async (t) => {
  const cases: [string, Buffer, RegExp][] = [
    ['null', Buffer.from('null\n'), /expected a JSON object, got null/],
    ['[]', Buffer.from('[]\n'), /expected a JSON object, got an array/],
    ['{"op":123}', Buffer.from('{"op":123}\n'), /"op" must be a string/],
    ['{"__proto__":{}}', Buffer.from('{"__proto__":{}}\n'), /no "op" field/],
    ['{"op":"ping","__proto__":{"op":"shutdown"}}', Buffer.from('{"op":"ping","__proto__":{"op":"shutdown"}}\n'), /unknown field "__proto__"/],
    ['{"op":"relocate","svc":1e999,"to":"a"}', Buffer.from('{"op":"relocate","svc":1e999,"to":"a"}\n'), /"svc" must be a string/],
    ['non-UTF-8 bytes', Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]), /not UTF-8/],
    ['not JSON', Buffer.from('op=ping\n'), /not JSON/],
  ];
  for (const [what, bytes, want] of cases) {
    const x = await exchange(d().socket, sendLine(bytes));
    refusal(t, x.answer, want);
    await stillServing(t, what);
  }
  // a good request still works on the same socket
  t.deepEqual(await askDaemon(d().paths, { op: 'ping' }, 5_000), { ok: true, nodename: 'a' });
});

test.serial('200 MiB without a newline: refused at the line limit, daemon memory bounded, ping answered at once after', async (t) => {
  const before = d().rss();
  let peak = before;
  const sampler = setInterval(() => {
    if (d().alive()) peak = Math.max(peak, d().rss());
  }, 50);
  t.teardown(() => clearInterval(sampler));
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  let sent = 0;
  const x = await exchange(d().socket, (c) => {
    const pump = (): void => {
      while (!c.destroyed && sent < 200) {
        sent++;
        if (!c.write(chunk)) {
          c.once('drain', pump);
          return;
        }
      }
      if (!c.destroyed) c.end();
    };
    pump();
    // the server's answer and FIN do not stop this client: it pushes on until reset
  }, 60_000, true);
  clearInterval(sampler);
  refusal(t, x.answer, /longer than \d+ bytes/);
  t.log(`wrote ${sent} of 200 MiB before the daemon closed; daemon rss ${Math.round(before / 2 ** 20)} MiB before, peak ${Math.round(peak / 2 ** 20)} MiB`);
  t.true(peak - before < 150 * 2 ** 20, `daemon rss grew by ${Math.round((peak - before) / 2 ** 20)} MiB`);
  const t0 = Date.now();
  t.deepEqual(await askDaemon(d().paths, { op: 'ping' }, 5_000), { ok: true, nodename: 'a' });
  const ms = Date.now() - t0;
  t.true(ms < 2_000, `ping answered in ${ms} ms`);
  await stillServing(t, '200 MiB without a newline');
});

test.serial('a crowd of connections: those over the cap are refused at once, the daemon lives on', async (t) => {
  const crowd: net.Socket[] = [];
  t.teardown(() => crowd.forEach((c) => c.destroy()));
  const refusals: Promise<string | undefined>[] = [];
  for (let i = 0; i < 200; i++) {
    const c = net.connect(d().socket);
    crowd.push(c);
    c.on('error', () => undefined);
    // a refused connection gets its answer right away; an accepted one waits for a request
    refusals.push(new Promise((resolve) => {
      let got = '';
      c.on('data', (b: Buffer) => (got += b.toString()));
      c.on('close', () => resolve(got || undefined));
      setTimeout(() => resolve(got || undefined), 5_000);
    }));
  }
  const answers = (await Promise.all(refusals)).filter((a): a is string => a !== undefined);
  t.log(`${answers.length} of 200 connections refused`);
  t.true(answers.length >= 100, `${answers.length} refused`);
  for (const a of answers) refusal(t, a, /too many control connections/);
  crowd.forEach((c) => c.destroy());
  // the server frees the crowd's slots as it sees them go: a ping gets through again soon
  const t0 = Date.now();
  for (;;) {
    const r = await askDaemon(d().paths, { op: 'ping' }, 5_000);
    if (r.ok) break;
    t.regex(r.error, /too many control connections/);
    if (Date.now() - t0 > 10_000) t.fail(`still refused ${Date.now() - t0} ms after the crowd left`);
    await new Promise((res) => setTimeout(res, 100));
  }
  await stillServing(t, 'a crowd of connections');
});

test.serial('a silent and a dribbling client are closed after a bounded time; every drop is counted and logged', async (t) => {
  if (!slow) throw new Error('slow clients not started');
  const [silent, dribble] = await slow;
  for (const [what, x] of [['silent', silent], ['dribbling', dribble]] as const) {
    t.log(`${what} client closed after ${x.closedAfterMs} ms`);
    t.true(x.closedAfterMs >= 5_000 && x.closedAfterMs < 30_000, `${what} client closed after ${x.closedAfterMs} ms`);
    refusal(t, x.answer, /no complete request line within \d+ ms/);
  }
  await stillServing(t, 'slow clients');
  const s = await status();
  t.truthy(s.control, 'daemon status --format json has the control counters');
  const drops = s.control?.drops ?? {};
  t.log(JSON.stringify(s.control));
  t.true((drops['invalid-request'] ?? 0) >= 6);
  t.true((drops['not-utf8'] ?? 0) >= 1);
  t.true((drops['not-json'] ?? 0) >= 1);
  t.true((drops['line-too-long'] ?? 0) >= 1);
  t.true((drops['too-many-connections'] ?? 0) >= 100);
  t.true((drops.timeout ?? 0) >= 2);
  const logged = new Set(d().logEntries().filter((e) => e.event === 'control-drop').map((e) => e.reason));
  for (const reason of ['invalid-request', 'not-utf8', 'not-json', 'line-too-long', 'too-many-connections', 'timeout']) t.true(logged.has(reason), `a control-drop log line with reason ${reason}`);
});
