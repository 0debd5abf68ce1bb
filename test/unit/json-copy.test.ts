// jsonCopy is JSON.parse(JSON.stringify(x)) without the text: the daemon's view copies its
// own state with it. Same result on plain data and on JSON's odd cases, and a real copy.
import test from 'ava';
import { jsonCopy } from '../../src/util/json-copy.js';

const roundTrip = (x: unknown): unknown => {
  const s = JSON.stringify(x);
  return s === undefined ? undefined : JSON.parse(s);
};

test('jsonCopy: the JSON round trip of plain and odd values', (t) => {
  const cases: unknown[] = [
    { a: 1, b: 'x', c: [1, 'two', { d: null }], e: { f: { g: true } } },
    { u: undefined, f: () => 1, s: Symbol('s'), n: NaN, i: -Infinity, z: -0 },
    [undefined, () => 1, NaN, 3],
    { d: new Date(Date.UTC(2026, 11, 3)), nested: { toJSON: (k: string) => `key ${k}` } },
    JSON.parse('{"__proto__": {"x": 1}, "y": 2}'),
    'text', 42, null, true, undefined,
    { [Symbol('k')]: 1, '1': 'one', b: 'b', '0': 'zero' },
    [new Number(3), new String('s'), new Boolean(false)],
  ];
  for (const c of cases) {
    const copy = jsonCopy(c);
    t.deepEqual(copy, roundTrip(c));
    t.is(JSON.stringify(copy), JSON.stringify(c));
  }
  t.throws(() => jsonCopy({ b: 1n }), { instanceOf: TypeError });
});

test('jsonCopy: a deep copy (nothing shared with the original)', (t) => {
  const x = { services: { web: { nodes: ['n1'], groups: { ip: 'up' } } } };
  const y = jsonCopy(x) as typeof x;
  y.services.web.nodes.push('n2');
  y.services.web.groups.ip = 'down';
  t.deepEqual(x, { services: { web: { nodes: ['n1'], groups: { ip: 'up' } } } });
  const proto = jsonCopy(JSON.parse('{"__proto__": {"x": 1}}')) as Record<string, unknown>;
  t.true(Object.hasOwn(proto, '__proto__'));
  t.is(Object.getPrototypeOf(proto), Object.prototype);
});
