// parseRequest: every line read from the control socket is checked before the daemon sees it.
import test from 'ava';
import { MAX_REQUEST_BYTES, OPS, parseRequest, parseResponse, type ParsedRequest } from '../../src/daemon/control-protocol.js';

const refused = (r: ParsedRequest) => (r.ok ? undefined : r);
const example = (op: string): Record<string, string> => (op === 'relocate' ? { op, svc: 'web', to: 'n2' } : op === 'clear' || op === 'status' ? { op, svc: 'web' } : { op });

test('one valid line per op gives exactly that request', (t) => {
  for (const op of OPS) {
    const r = parseRequest(Buffer.from(JSON.stringify(example(op))));
    t.true(r.ok, `${op}: ${JSON.stringify(r)}`);
    if (r.ok) t.deepEqual(r.request, example(op));
  }
  // a string works the same, with surrounding whitespace and a CR of a CRLF line
  t.deepEqual(parseRequest(' {"op":"ping"}\r'), { ok: true, request: { op: 'ping' } });
});

test('null, arrays, scalars and non-objects are refused with a reason, never thrown', (t) => {
  for (const [line, want] of [
    ['null', /expected a JSON object, got null/],
    ['[]', /expected a JSON object, got an array/],
    ['[{"op":"ping"}]', /got an array/],
    ['"ping"', /got "ping"/],
    ['42', /got number 42/],
    ['true', /got boolean true/],
    ['1e999', /got number Infinity/],
  ] as const) {
    const r = refused(parseRequest(line));
    t.truthy(r, line);
    t.is(r?.reason, 'invalid-request', line);
    t.regex(r?.error ?? '', want, line);
  }
});

test('op: missing, wrong type, unknown, inherited names', (t) => {
  t.regex(refused(parseRequest('{}'))?.error ?? '', /no "op" field/);
  t.regex(refused(parseRequest('{"op":123}'))?.error ?? '', /"op" must be a string, got number 123/);
  t.regex(refused(parseRequest('{"op":null}'))?.error ?? '', /"op" must be a string, got null/);
  t.regex(refused(parseRequest('{"op":["ping"]}'))?.error ?? '', /got an array/);
  t.regex(refused(parseRequest('{"op":"reboot"}'))?.error ?? '', /unknown op "reboot": expected one of ping, view, relocate/);
  // names of Object.prototype are not ops
  for (const op of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) t.regex(refused(parseRequest(JSON.stringify({ op })))?.error ?? '', /unknown op/, op);
  // an unknown op is quoted short: the answer stays small
  const long = refused(parseRequest(JSON.stringify({ op: 'x'.repeat(100_000) })));
  t.true((long?.error.length ?? Infinity) < 300);
});

test('prototype keys and unknown fields are refused, and pollute nothing', (t) => {
  for (const line of ['{"__proto__":{}}', '{"__proto__":{"op":"ping"}}', '{"op":"ping","__proto__":{"admin":true}}', '{"op":"ping","constructor":{"prototype":{"x":1}}}', '{"op":"view","extra":1}']) {
    const r = refused(parseRequest(line));
    t.is(r?.reason, 'invalid-request', line);
  }
  t.regex(refused(parseRequest('{"__proto__":{"op":"ping"}}'))?.error ?? '', /no "op" field/);
  t.regex(refused(parseRequest('{"op":"ping","__proto__":{}}'))?.error ?? '', /unknown field "__proto__" for op ping/);
  t.is(({} as Record<string, unknown>).admin, undefined);
  t.is(({} as Record<string, unknown>).x, undefined);
});

test('relocate: svc and to are checked names', (t) => {
  const reloc = (f: Record<string, unknown>) => refused(parseRequest(JSON.stringify({ op: 'relocate', ...f })))?.error ?? 'accepted';
  t.regex(reloc({ to: 'n2' }), /op relocate needs "svc"/);
  t.regex(reloc({ svc: 'web' }), /op relocate needs "to"/);
  t.regex(reloc({ svc: 1e308, to: 'n2' }), /"svc" must be a string, got number 1e\+308/);
  t.regex(reloc({ svc: 'web', to: null }), /"to" must be a string, got null/);
  t.regex(reloc({ svc: { a: 1 }, to: 'n2' }), /got an object/);
  t.regex(reloc({ svc: '', to: 'n2' }), /"svc" is empty/);
  t.regex(reloc({ svc: 'w'.repeat(256), to: 'n2' }), /longer than 255/);
  t.regex(reloc({ svc: 'web\nx', to: 'n2' }), /control characters/);
  t.regex(reloc({ svc: 'web', to: 'n 2' }), /whitespace/);
  t.is(reloc({ svc: 'w'.repeat(255), to: 'n2' }), 'accepted');
});

test('drain: timeout optional, a whole number of seconds within bounds; drain-status takes nothing', (t) => {
  const drain = (f: Record<string, unknown>) => {
    const r = parseRequest(JSON.stringify({ op: 'drain', ...f }));
    return r.ok ? r.request : r.error;
  };
  t.deepEqual(drain({}), { op: 'drain' });
  t.deepEqual(drain({ timeout: 1 }), { op: 'drain', timeout: 1 });
  t.deepEqual(drain({ timeout: 86_400 }), { op: 'drain', timeout: 86_400 });
  for (const v of [0, -1, 1.5, 86_401, 1e308, '300', null, true, [300], { s: 1 }]) t.regex(String(drain({ timeout: v })), /^bad request: "timeout" must be a whole number from 1 to 86400, got /, JSON.stringify(v));
  t.regex(String(drain({ wait: true })), /unknown field "wait" for op drain/);
  t.regex(refused(parseRequest('{"op":"drain-status","timeout":3}'))?.error ?? '', /unknown field "timeout" for op drain-status/);
  t.regex(refused(parseRequest('{"op":"ping","timeout":3}'))?.error ?? '', /unknown field "timeout" for op ping/);
});

test('bytes: not UTF-8, not JSON, too long', (t) => {
  t.deepEqual(refused(parseRequest(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]))), { ok: false, reason: 'not-utf8', error: 'bad request: not UTF-8' });
  t.deepEqual(refused(parseRequest(Buffer.from([0x22, 0xc3, 0x22]))), { ok: false, reason: 'not-utf8', error: 'bad request: not UTF-8' });
  for (const line of ['', '{', '{"op":"ping"', 'op=ping', '\u0000']) t.is(refused(parseRequest(line))?.reason, 'not-json', JSON.stringify(line));
  t.is(refused(parseRequest(Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x20)))?.reason, 'line-too-long');
  // deep nesting within the size limit: refused, not a stack overflow
  t.is(refused(parseRequest('['.repeat(400_000) + ']'.repeat(400_000)))?.reason, 'invalid-request');
  t.is(refused(parseRequest('{"op":' + '['.repeat(400_000) + ']'.repeat(400_000) + '}'))?.reason, 'invalid-request');
});

test('parseResponse: an answer needs ok, and an error when not ok', (t) => {
  t.deepEqual(parseResponse('{"ok":true,"nodename":"a"}'), { ok: true, nodename: 'a' });
  t.deepEqual(parseResponse('{"ok":false,"error":"no"}'), { ok: false, error: 'no' });
  t.deepEqual(parseResponse('{"ok":false}'), { bad: 'no "ok" field, or ok = false without an error' });
  t.deepEqual(parseResponse('null'), { bad: 'not a JSON object' });
  t.deepEqual(parseResponse('nope'), { bad: 'not JSON' });
});

test('events: follow is an optional boolean', (t) => {
  t.deepEqual(parseRequest('{"op":"events"}'), { ok: true, request: { op: 'events' } });
  t.deepEqual(parseRequest('{"op":"events","follow":true}'), { ok: true, request: { op: 'events', follow: true } });
  t.deepEqual(parseRequest('{"op":"events","follow":false}'), { ok: true, request: { op: 'events', follow: false } });
  for (const v of ['"yes"', '1', 'null', '{}']) t.regex(refused(parseRequest(`{"op":"events","follow":${v}}`))?.error ?? '', /"follow" must be true or false/, v);
  t.regex(refused(parseRequest('{"op":"ping","follow":true}'))?.error ?? '', /unknown field "follow" for op ping/);
});

test('status: needs svc, takes nothing else', (t) => {
  t.deepEqual(parseRequest('{"op":"status","svc":"web"}'), { ok: true, request: { op: 'status', svc: 'web' } });
  t.regex(refused(parseRequest('{"op":"status"}'))?.error ?? '', /op status needs "svc"/);
  t.regex(refused(parseRequest('{"op":"status","svc":"web","to":"n2"}'))?.error ?? '', /unknown field "to" for op status/);
});
