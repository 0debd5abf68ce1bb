// svcmon's plain command lines are read without commander; anything else goes to commander,
// and both read the plain forms the same way.
import test from 'ava';
import { quickSvcmonArgs } from '../../src/cli/svcmon-args.js';
import { buildProgram } from '../../src/cli/svcmon-program.js';

const viaCommander = (args: string[]) => buildProgram().parse(['node', 'svcmon', ...args]).opts();

test('the plain forms: the same options as commander reads', (t) => {
  for (const args of [[], ['--format', 'json'], ['--format=text'], ['--service', 'a,b'], ['--service=a', '--format', 'json'], ['--format', 'json', '--service', 'web']]) {
    t.deepEqual(quickSvcmonArgs(args), viaCommander(args), args.join(' '));
  }
});

test('anything else is left to commander: help, repeats, unknown options, bad or missing values', (t) => {
  for (const args of [['--help'], ['-h'], ['--format', 'xml'], ['--format'], ['--service'], ['--service', '--format', 'json'], ['--service='], ['--format', 'json', '--format', 'text'], ['--bogus'], ['web'], ['--', 'x'], ['--service', '-x']]) {
    t.is(quickSvcmonArgs(args), undefined, args.join(' '));
  }
});
