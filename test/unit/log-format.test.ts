// svcmgr logs: a pino record as one human line; anything else as it is.
import test from 'ava';
import { humanLine, parseRecord } from '../../src/cli/log-format.js';

test('a pino record: time, level, node, rid, message, then the other fields', (t) => {
  const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), pid: 9, svc: 'web', node: 'n1', rid: 'app#1', event: 'resource_stopped', ms: 12, msg: 'resource stopped' });
  t.is(humanLine(line), '2026-01-02T03:04:05.006Z INFO  n1 app#1 resource stopped event=resource_stopped ms=12');
  t.is(humanLine(JSON.stringify({ level: 50, time: 0, node: 'n1', msg: 'x', err: 'a b' })), '1970-01-01T00:00:00.000Z ERROR n1 x err="a b"');
});

test('not a record: shown as it is; parseRecord refuses arrays and scalars', (t) => {
  t.is(humanLine('plain text'), 'plain text');
  t.is(humanLine('{broken'), '{broken');
  t.is(parseRecord('[1]'), undefined);
  t.is(parseRecord('42'), undefined);
  t.deepEqual(parseRecord('{"a":1}'), { a: 1 });
});
