// Fuzz target: the control socket's request checker (parseRequest) and line framer. For any
// bytes, parseRequest must return (never throw) either a request the daemon can act on or a
// short refusal, and the framer must cut exactly the first line, or refuse past its limit,
// whatever the chunking.
import type { FuzzTarget } from '../target.js';
import { LineFramer } from '../../../src/daemon/control-framer.js';
import { MAX_DRAIN_TIMEOUT_S, OPS, parseRequest, type Request } from '../../../src/daemon/control-protocol.js';

const REASONS = new Set(['not-utf8', 'not-json', 'invalid-request', 'line-too-long']);
/** a refusal is answered to the client: it must stay short whatever it quotes */
const MAX_ERROR_LENGTH = 512;
const FRAMER_MAX = 256;

function fail(what: string, input: Buffer): never {
  throw new Error(`${what} (input ${input.length} bytes: ${JSON.stringify(input.subarray(0, 120).toString('latin1'))})`);
}

function checkRequest(req: Request, input: Buffer): void {
  if (!OPS.includes(req.op)) fail(`accepted an unknown op ${String(req.op)}`, input);
  const keys = Object.keys(req).sort().join(',');
  const want = req.op === 'relocate' ? ['op,svc,to'] : req.op === 'clear' ? ['op,svc'] : req.op === 'events' ? ['op', 'follow,op'] : req.op === 'drain' ? ['op', 'op,timeout'] : ['op'];
  if (!want.includes(keys)) fail(`accepted request has fields ${keys}, expected ${want.join(' or ')}`, input);
  if (Object.getPrototypeOf(req) !== Object.prototype) fail('accepted request is not a plain object', input);
  if (req.op === 'drain' && req.timeout !== undefined && (!Number.isInteger(req.timeout) || req.timeout < 1 || req.timeout > MAX_DRAIN_TIMEOUT_S)) fail(`accepted a drain timeout ${String(req.timeout)}`, input);
  if (req.op === 'relocate') {
    for (const v of [req.svc, req.to]) if (typeof v !== 'string' || v.length === 0 || v.length > 255 || /[\s\u0000-\u001f]/.test(v)) fail(`accepted a bad name ${JSON.stringify(v)}`, input);
  }
}

function checkParse(input: Buffer): void {
  const r = parseRequest(input);
  if (r.ok) checkRequest(r.request, input);
  else {
    if (!REASONS.has(r.reason)) fail(`unknown refusal reason ${r.reason}`, input);
    if (typeof r.error !== 'string' || r.error.length === 0 || r.error.length > MAX_ERROR_LENGTH) fail(`refusal message of ${String(r.error?.length)} characters`, input);
  }
}

/** Split deterministically (from the input's own bytes) and check the framer's one answer. */
function checkFramer(input: Buffer): void {
  const f = new LineFramer(FRAMER_MAX);
  const nl = input.indexOf(0x0a);
  const lineLength = nl < 0 ? input.length : nl;
  let got: 'more' | 'too-long' | Buffer = 'more';
  let at = 0;
  let step = 1 + ((input[0] ?? 0) % 7);
  while (at < input.length) {
    const r = f.push(input.subarray(at, at + step));
    at += step;
    step = 1 + ((input[at % input.length] ?? 0) % 97);
    if (got !== 'more') {
      if (r.kind !== 'more') fail('framer answered twice', input);
      continue;
    }
    if (r.kind === 'line') got = r.line;
    else if (r.kind === 'too-long') got = 'too-long';
    if (f.pending > FRAMER_MAX) fail(`framer holds ${f.pending} bytes over its ${FRAMER_MAX}`, input);
  }
  if (lineLength > FRAMER_MAX) {
    if (got !== 'too-long') fail(`a ${lineLength}-byte line was not refused`, input);
  } else if (nl >= 0) {
    if (!Buffer.isBuffer(got) || !got.equals(input.subarray(0, nl))) fail('framer did not cut the first line exactly', input);
  } else if (got !== 'more') fail('framer answered without a newline', input);
}

export const target: FuzzTarget = {
  name: 'control',
  seeds() {
    return OPS.map((op) => Buffer.from(JSON.stringify(op === 'relocate' ? { op, svc: 'web', to: 'n2' } : op === 'clear' ? { op, svc: 'web' } : op === 'drain' ? { op, timeout: 300 } : { op }) + '\n'));
  },
  run(input) {
    const nl = input.indexOf(0x0a);
    // what the server hands parseRequest: the bytes before the newline (or all of them)
    checkParse(nl < 0 ? input : input.subarray(0, nl));
    checkParse(input);
    checkFramer(input);
  },
};
