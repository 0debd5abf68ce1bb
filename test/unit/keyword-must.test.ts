// The must* getters: a keyword's table default is its value when not given; a keyword
// without a default has no must* value (a driver bug, thrown at once).
import test from 'ava';
import { TableValues } from '../../src/config/values.js';
import type { Keyword } from '../../src/vocab/keywords.js';

const table: Keyword[] = [
  { name: 'timeout', type: 'duration', default: 3_600_000, description: '' },
  { name: 'keep', type: 'integer', default: 2, description: '' },
  { name: 'schedule', type: 'string', default: '', description: '' },
  { name: 'bare', type: 'duration', description: '' },
];

test('must* return the table default, or the value given', (t) => {
  const none = TableValues.from(table, {});
  t.is(none.mustDuration('timeout'), 3_600_000);
  t.is(none.mustInteger('keep'), 2);
  t.is(none.mustString('schedule'), '');
  const given = TableValues.from(table, { timeout: '5s', keep: '7', schedule: '@5m' });
  t.is(given.mustDuration('timeout'), 5_000);
  t.is(given.mustInteger('keep'), 7);
  t.is(given.mustString('schedule'), '@5m');
});

test('must* on a keyword without a table default throws when it is not given', (t) => {
  t.throws(() => TableValues.from(table, {}).mustDuration('bare'), { message: /keyword bare has no value and no default/ });
  t.is(TableValues.from(table, { bare: '1s' }).mustDuration('bare'), 1_000);
});
