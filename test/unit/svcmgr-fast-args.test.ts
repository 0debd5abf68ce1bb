// svcmgr's entry answers `print status` (from the daemon, or read here without commander) only
// for the plain command lines.
import test from 'ava';
import { printStatusArgs } from '../../src/cli/svcmgr-args.js';

test('the plain print status forms are recognised', (t) => {
  t.deepEqual(printStatusArgs(['node', '/x/svcmgr.js', '-s', 'a,b', 'print', 'status']), { services: ['a', 'b'], format: 'text' });
  t.deepEqual(printStatusArgs(['node', '/x/svcmgr.js', '--service=a', 'print', 'status', '--format', 'json']), { services: ['a'], format: 'json' });
  // the CommonJS launcher run by its own name (scripts/bundle-cli.mjs) is svcmgr, not a service
  t.deepEqual(printStatusArgs(['node', '/x/svcmgr.cjs', '-s', 'a', 'print', 'status']), { services: ['a'], format: 'text' });
  // the v1 symlink named after the service
  t.deepEqual(printStatusArgs(['node', '/usr/bin/web', 'print', 'status']), { services: ['web'], format: 'text' });
});

test('anything else goes to the full program', (t) => {
  t.is(printStatusArgs(['node', 'svcmgr', '-s', 'a', 'print', 'config']), undefined);
  t.is(printStatusArgs(['node', 'svcmgr', '-s', 'a', '--rid', 'app#1', 'print', 'status']), undefined);
  t.is(printStatusArgs(['node', 'svcmgr', '-s', 'a', 'print', 'status', '--format', 'yaml']), undefined);
  t.is(printStatusArgs(['node', 'svcmgr', 'print', 'status']), undefined);
  t.is(printStatusArgs(['node', 'svcmgr', 'a', 'print', 'status']), undefined);
  t.is(printStatusArgs(['node', 'svcmgr', '-s', './a.env', 'print', 'status']), undefined);
  // a repeated option: commander keeps the last one, with or without a daemon
  t.is(printStatusArgs(['node', 'svcmgr', '-s', 'a', '-s', 'b', 'print', 'status']), undefined);
  t.is(printStatusArgs(['node', 'svcmgr', '-s', 'a', 'print', 'status', '--format', 'json', '--format', 'text']), undefined);
});
