// Several services: the exit code is the worst status by severity, not the largest number.
import test from 'ava';
import { statusesExitCode, worstStatus } from '../../src/cli/status-exit.js';

test('down is never hidden behind n/a, undef or stdby', (t) => {
  t.is(statusesExitCode(['n/a', 'down']), 1);
  t.is(statusesExitCode(['down', 'n/a']), 1);
  t.is(statusesExitCode(['undef', 'down', 'stdby up']), 1);
  t.is(statusesExitCode(['up', 'warn', 'n/a']), 2);
  t.is(worstStatus(['stdby down', 'warn']), 'stdby down');
});

test('n/a is the least severe; all n/a is n/a; nothing is 0', (t) => {
  t.is(statusesExitCode(['up', 'n/a']), 0);
  t.is(statusesExitCode(['n/a', 'n/a']), 3);
  t.is(statusesExitCode(['undef', 'up']), 5);
  t.is(statusesExitCode([]), 0);
});
