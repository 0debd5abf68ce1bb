// When a long-running process copies its log lines to stdout (src/log-stdout.ts).
import test from 'ava';
import { stdoutLogMode, syslogPriority } from '../../src/log-stdout.js';

const out = { dev: 24, ino: 9931 };

test('JOURNAL_STREAM naming our stdout: journal lines; naming another stream: off', (t) => {
  t.is(stdoutLogMode({ JOURNAL_STREAM: '24:9931' }, out), 'journal');
  t.is(stdoutLogMode({ JOURNAL_STREAM: '24:9931', INVOCATION_ID: 'x' }, out), 'journal');
  // a descendant of a unit (a lab daemon under a CI unit) whose stdout goes elsewhere
  t.is(stdoutLogMode({ JOURNAL_STREAM: '24:1', INVOCATION_ID: 'x' }, out), 'off');
  t.is(stdoutLogMode({ JOURNAL_STREAM: 'garbage' }, out), 'off');
  t.is(stdoutLogMode({ JOURNAL_STREAM: '24:9931' }, undefined), 'off');
});

test('INVOCATION_ID without JOURNAL_STREAM (a unit whose stdout is not the journal): JSON lines', (t) => {
  t.is(stdoutLogMode({ INVOCATION_ID: 'abc' }, out), 'json');
  t.is(stdoutLogMode({}, out), 'off');
});

test('the flag and FERRY_LOG_STDOUT=1 force JSON lines; FERRY_LOG_STDOUT=0 forbids', (t) => {
  t.is(stdoutLogMode({}, out, true), 'json');
  t.is(stdoutLogMode({ FERRY_LOG_STDOUT: '1' }, out), 'json');
  t.is(stdoutLogMode({ FERRY_LOG_STDOUT: '0', JOURNAL_STREAM: '24:9931' }, out, true), 'off');
});

test('pino levels map to syslog priorities', (t) => {
  t.deepEqual([10, 20, 30, 40, 50, 60].map(syslogPriority), [7, 7, 6, 4, 3, 2]);
});
