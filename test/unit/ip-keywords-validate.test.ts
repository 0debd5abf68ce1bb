// Issue 13: the ip keywords check_carrier, gateway, alias, netns, nsdev are validated by the
// real ip table, each problem on its line.
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import { drivers } from '../../src/resources/registry.js';
import { nextAliasLabel } from '../../src/resources/ip-link.js';

const head = '[DEFAULT]\nnodes = node1 node2\n';
const real = (text: string) => validateText(text, 'svc.env', { svcname: 'svc1', nodename: 'node1', drivers }).errors.map(String);
const ip = (...lines: string[]) => head + ['[ip#1]', 'ipname = 10.0.0.1', 'ipdev = eth0', ...lines].join('\n') + '\n';

test('good values pass', (t) => {
  t.deepEqual(real(ip('check_carrier = false', 'gateway = 10.0.0.254', 'alias = true')), []);
  t.deepEqual(real(ip('gateway = fd00::1')), []);
  t.deepEqual(real(ip('type = netns', 'netns = container#1', 'nsdev = eth1')), []);
  t.deepEqual(real(ip('type = host')), []);
});

test('bad values name file and line', (t) => {
  t.deepEqual(real(ip('gateway = router1')), ['svc.env:6: bad value "router1" for gateway: "router1" is not an IPv4 or IPv6 address']);
  t.deepEqual(real(ip('check_carrier = maybe')), ['svc.env:6: bad value "maybe" for check_carrier: expected true or false']);
  t.deepEqual(real(ip('type = netns', 'netns = web')), ['svc.env:7: bad value "web" for netns: "web" is not container#<index>']);
  t.deepEqual(real(ip('type = netns', 'netns = container#1', 'nsdev = a:b')), ['svc.env:8: bad value "a:b" for nsdev: not a valid network interface name: it contains \'/\', \':\' or a blank']);
  t.is(real(ip('type = netns')).length, 1);
  t.regex(real(ip('type = netns'))[0]!, /^svc\.env:\d+: .*type netns needs netns = container#<index>/);
  t.regex(real(ip('netns = container#1'))[0]!, /^svc\.env:6: keyword "netns" is not valid for type "(host)?"/);
  t.regex(real(ip('type = bridge'))[0]!, /^svc\.env:6: bad type "bridge" for \[ip#1\]: expected one of host, netns/);
});

test('alias labels: the first free dev:N, none past 15 bytes', (t) => {
  t.is(nextAliasLabel('eth0', []), 'eth0:0');
  t.is(nextAliasLabel('eth0', ['eth0', 'eth0:0', 'eth0:2']), 'eth0:1');
  t.is(nextAliasLabel('abcdefghijklm', []), 'abcdefghijklm:0');
  t.is(nextAliasLabel('abcdefghijklmn', []), undefined);
});
