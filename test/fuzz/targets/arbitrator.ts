// Fuzz target: the arbitrator's request handling (src/arbitrator/handler.ts), without sockets.
// An input is a raw HTTP-ish request ("POST /vote HTTP/1.1\r\nheaders\r\n\r\nbody") or, when
// it does not start like one, a bare body POSTed to /vote. Seeds are valid signed requests
// (grant, renewal, another partition, a replay) and near misses, on a fake clock.
//
// Findings (thrown out of run()): a 500 (the core caught one of its own bugs), a status outside
// the protocol, a grant that is not 200 or not signed for this request, a lease changed by a
// refused request, a reason that is not one bounded line.
import type { Reply } from '../../../src/arbitrator/handler.js';
import { ArbitratorCore, STATUS_PATH, targetPath } from '../../../src/arbitrator/handler.js';
import type { UnsignedVoteRequest, VoteAnswer } from '../../../src/arbitrator/protocol.js';
import { arbitratorKey, macEqual, parseVoteRequest, signAnswer, signRequest, verifyRequest } from '../../../src/arbitrator/protocol.js';
import { silentLogger } from '../../../src/log.js';
import type { FuzzTarget } from '../target.js';

const SECRET = 'ab'.repeat(32);
const KEY = arbitratorKey(SECRET, 'prod');
/** The fake clock the seeds are signed for. */
const T0 = 1_800_000_000_000;
/** The clock advances 1 ms per input; after this many inputs the arbitrator "restarts" at T0. */
const EPOCH_INPUTS = 20_000;
const STATUSES = new Set([200, 400, 403, 404, 405, 409, 413, 503]);
const log = silentLogger();

let core: ArbitratorCore;
let inputs = 0;
const fresh = (): ArbitratorCore => new ArbitratorCore({ secrets: new Map([['prod', SECRET]]), log, startedAt: T0 });

interface Parsed {
  method: string;
  url: string;
  body: Buffer;
}

/** Lenient request parsing: the request line and the body; headers are read past (server.ts leaves them to Node). */
function parse(input: Buffer): Parsed {
  const text = input.toString('latin1');
  if (!/^[A-Z]{1,10} /.test(text)) return { method: 'POST', url: '/vote', body: input };
  const eol = text.indexOf('\r\n');
  const line = eol < 0 ? text : text.slice(0, eol);
  const [method = '', url = ''] = line.split(' ');
  const end = text.indexOf('\r\n\r\n');
  return { method, url, body: end < 0 ? Buffer.alloc(0) : input.subarray(end + 4) };
}

const signed = (over: Partial<UnsignedVoteRequest>): string =>
  JSON.stringify(signRequest(KEY, { cluster: 'prod', node: 'n1', members: ['n1', 'n2'], ttl: 6000, ts: T0 + 10, ...over }));
const http = (body: string, target = '/vote', method = 'POST'): Buffer =>
  Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: arb\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

function check(input: Buffer, p: Parsed, before: string, rep: Reply, after: string): void {
  const fail = (what: string): never => {
    throw new Error(`arbitrator fuzz: ${what}; input ${JSON.stringify(input.toString('latin1').slice(0, 300))}; answer ${rep.status} ${JSON.stringify(rep.body).slice(0, 300)}`);
  };
  if (!STATUSES.has(rep.status)) fail(`status ${rep.status}`);
  const text = JSON.stringify(rep.body);
  if (text.length > 100_000) fail(`answer of ${text.length} characters`);
  if (!('granted' in rep.body)) {
    if (rep.status !== 200 || targetPath(p.url) !== STATUS_PATH || p.method !== 'GET') fail('a status answer outside GET /status');
    return;
  }
  const a: VoteAnswer = rep.body;
  if (a.granted !== (rep.status === 200)) fail('granted does not match the status');
  if (a.reason !== undefined && (a.reason.length > 1000 || /[\r\n]/.test(a.reason))) fail('reason is not one bounded line');
  if (rep.status === 200 || rep.status === 409) {
    // an answer about the lease: signed for this very request
    let mac = '';
    try {
      const parsed = parseVoteRequest(JSON.parse(p.body.toString('utf8')));
      if ('error' in parsed) return fail(`a lease answer to a malformed request (${parsed.error})`);
      if (!verifyRequest(KEY, parsed.request)) fail('a lease answer to a request whose MAC does not verify');
      mac = parsed.request.mac.toLowerCase();
    } catch (e) {
      if (e instanceof SyntaxError) fail('a lease answer to a body that is not JSON');
      throw e;
    }
    if (a.mac === undefined || !macEqual(signAnswer(KEY, a, mac), a.mac)) fail('a lease answer not signed for its request');
  } else if (a.holder.length !== 0) fail('a refusal reveals the holder');
  if (rep.status !== 200 && before !== after) fail(`a refused request changed the lease from ${before} to ${after}`);
  if (rep.status === 200 && after !== JSON.stringify({ members: a.holder, expires: a.expires })) fail('granted, but the lease is not the one answered');
}

export const target: FuzzTarget = {
  name: 'arbitrator',
  seeds(): Buffer[] {
    const vote = signed({});
    return [
      http(vote),
      Buffer.from(vote),
      http(signed({ node: 'n2', ts: T0 + 20 })),
      http(signed({ node: 'n3', members: ['n3'], ts: T0 + 30 })),
      http(signed({ node: 'n1', members: ['n1'], ts: T0 + 40, ttl: 60_000 })),
      http(vote), // a replay of the first
      http(signed({ ts: T0 - 60_000 })),
      http(signed({ members: ['n2', 'n1'], ts: T0 + 50 })),
      http(signed({ cluster: 'other', ts: T0 + 60 })),
      http(vote.replace(/"mac":"[0-9a-f]{4}/, '"mac":"0000')),
      http(vote, 'http://[', 'GET'),
      http(vote, 'http://arb:1215/vote?x=1'),
      http('', '/status', 'GET'),
      http('', '/vote', 'GET'),
      http('{"cluster":"prod","node":"n1","members":["n1"],"ttl":1e309,"ts":1.5,"mac":"zz"}'),
      http('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['),
      Buffer.from('GET * HTTP/1.1\r\n\r\n'),
    ];
  },
  setup(): Promise<void> {
    core = fresh();
    inputs = 0;
    return Promise.resolve();
  },
  run(input: Buffer): void {
    if (core === undefined) core = fresh();
    if (inputs > 0 && inputs % EPOCH_INPUTS === 0) core = fresh();
    const now = T0 + (inputs % EPOCH_INPUTS);
    inputs++;
    const p = parse(input);
    const leaseText = (): string => {
      const l = core.lease('prod', now);
      return JSON.stringify(l ? { members: l.members, expires: l.expires } : null);
    };
    const before = leaseText();
    const rep = core.handle({ method: p.method, url: p.url, body: p.body, remote: 'fuzz', local: true }, now);
    check(input, p, before, rep, leaseText());
  },
};
