// Every problem kind, each reported as file:line: message, all at once.
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import { opts } from './config-fake-drivers.js';
import { drivers } from '../../src/resources/registry.js';

const check = (text: string, nodename = 'node1') => {
  const r = validateText(text, 'svc.env', opts(nodename));
  return { errors: r.errors.map(String), warnings: r.warnings.map(String) };
};

const head = '[DEFAULT]\nnodes = node1 node2\n';

test('a clean file has no problem; aliases are accepted', (t) => {
  const text = head + [
    '[ip#1]', 'ipname = a.example.com', 'ipdev@node1 = eth0', 'dev@node2 = eth1',
    '[vg#1]', 'vgname = vg1', 'scsireserv = false',
    '[container#1]', 'type = podman', 'image = busybox', 'command = /bin/sh -c "sleep 1; true"', 'subset = 01a',
    '[subset#container.podman:01a]', 'parallel = yes',
    '[app#1]', 'start = /bin/true', 'timeout = 1m30s',
    '[env]', 'x = 1', 'x@node2 = 2',
  ].join('\n');
  t.deepEqual(check(text), { errors: [], warnings: [] });
});

test('each error kind with its line', (t) => {
  const cases: [string, string][] = [
    ['[foo#1]\nx = 1\n', 'svc.env:3: unknown section [foo#1]: no resource group "foo" (known: app, container, fs, ip, vg)'],
    ['[general]\n', 'svc.env:3: unknown section [general]: expected [DEFAULT], [env], [<group>#<index>] or [subset#<group>[.<type>]:<name>]'],
    ['[app#a.b]\n', 'svc.env:3: unknown section [app#a.b]: bad index "a.b" (letters, digits, \'_\' and \'-\' only)'],
    ['[subset#nope:x]\n', 'svc.env:3: unknown section [subset#nope:x]: no resource group "nope" (known: app, container, fs, ip, vg)'],
    ['[subset#container.lxc:x]\n', 'svc.env:3: unknown section [subset#container.lxc:x]: bad type "lxc" for container: expected one of docker, podman'],
    ['[app#1]\nstrat = /bin/true\n', 'svc.env:4: unknown keyword "strat" in [app#1]'],
    ['[app#1]\ntype = ocf\nagent = x\nstart = /bin/true\n', 'svc.env:6: keyword "start" is not valid for type "ocf" of [app#1] (only for type forking)'],
    ['[fs#1]\nmnt = /a\n', 'svc.env:3: missing required keyword "dev" in [fs#1]'],
    ['[app#1]\ntype = ocf\n', 'svc.env:3: missing required keyword "agent" in [app#1]'],
    ['[fs#1]\nmnt = /a\ndev = /b\ntype = zfs\n', 'svc.env:6: bad type "zfs" for [fs#1]: expected one of ext4, xfs'],
    ['[app#1]\ntype = systemd\nstart = /bin/true\n', 'svc.env:4: bad type "systemd" for [app#1]: expected one of forking, ocf'],
    ['[ip#1]\nipname = a\nipdev = b\ntype = x\n', 'svc.env:6: bad type "x" for [ip#1]: ip resources take no type'],
    ['[app#1]\ntimeout = soon\n', 'svc.env:4: bad value "soon" for timeout: expected a duration like 500ms, 10s, 2m, 1h'],
    ['[app#1]\noptional = perhaps\n', 'svc.env:4: bad value "perhaps" for optional: expected true or false'],
    ['[app#1]\nrestart = many\n', 'svc.env:4: bad value "many" for restart: expected an integer'],
    ['[app#1]\nstart = /bin/sh -c "oops\n', 'svc.env:4: bad value for start: unterminated double quote'],
    ['[app#1]\nstart = {env.none}\n', 'svc.env:4: unknown reference {env.none}: env.none is not set'],
    ['[env]\na = {env.a}\n', 'svc.env:4: reference cycle: {env.a} -> {env.a}'],
    ['[app#1]\nmonitor_action@node1 = switch\n', 'svc.env:4: keyword "monitor_action" is not scopable: "monitor_action@node1" in [app#1]'],
    ['[app#1]\noptional@no*de = true\n', 'svc.env:4: unknown scope "@no*de" in "optional@no*de": expected @nodes, @drpnodes or @<nodename>'],
    ['[app#1]\n[app#1]\n', 'svc.env:4: duplicate section [app#1] (first defined at line 3)'],
    ['nodes@node1 = x\n', 'svc.env:3: keyword "nodes" is not scopable: "nodes@node1" in [DEFAULT]'],
    ['drpnodes = {env.x}\n[env]\nx = n3\n', 'svc.env:3: references are not allowed in drpnodes'],
  ];
  for (const [body, expected] of cases) {
    t.deepEqual(check(head + body).errors, [expected], body);
  }
  t.deepEqual(check('[DEFAULT]\norchestrate = maybe\n').errors, ['svc.env:2: bad value "maybe" for orchestrate: expected one of no, start, ha']);
});

test('all problems are listed, in line order, syntax errors included', (t) => {
  const text = ['[DEFAULT]', 'orchestrate = maybe', 'bogus', '[app#1]', 'strat = x', '[nope]', 'k = v'].join('\n');
  t.deepEqual(check(text).errors, [
    'svc.env:2: bad value "maybe" for orchestrate: expected one of no, start, ha',
    'svc.env:3: expected "keyword = value", "[section]" or a comment, got: bogus',
    'svc.env:5: unknown keyword "strat" in [app#1]',
    'svc.env:6: unknown section [nope]: expected [DEFAULT], [env], [<group>#<index>] or [subset#<group>[.<type>]:<name>]',
  ]);
});

test('warnings: trailing blanks, unknown node scope, unused subset, keyword set twice', (t) => {
  const text = head + [
    '[app#1]',
    'start = /bin/true ',
    'start@node9 = /bin/false',
    'timeout = 10s ',
    'timeout = 20s',
    '[subset#app:zz]',
    'parallel = true',
  ].join('\n');
  const r = check(text);
  t.deepEqual(r.errors, []);
  t.deepEqual(r.warnings, [
    'svc.env:4: warning: trailing whitespace in the value of "start" is kept (values are used byte for byte)',
    'svc.env:5: warning: "start@node9": node "node9" is not in nodes or drpnodes',
    'svc.env:7: warning: keyword "timeout" set again in [app#1] (overrides line 6)',
    'svc.env:8: warning: subset [subset#app:zz] matches no resource',
  ]);
});

test('a resource naming a subset without a subset section is fine', (t) => {
  t.deepEqual(check(head + '[app#1]\nsubset = 01\n[app#2]\nsubset = 01\n'), { errors: [], warnings: [] });
});

test('values are checked for every node of the service, whatever node validates', (t) => {
  const missing = head + '[ip#1]\nipname = a\nipdev@node2 = eth0\n';
  for (const n of ['node1', 'node2']) {
    t.deepEqual(check(missing, n).errors, ['svc.env:3: missing required keyword "ipdev" in [ip#1] (for node1)']);
  }
  t.deepEqual(check(head + '[ip#1]\nipname = a\nipdev@node2 = eth0\nipdev@node1 = eth1\n').errors, []);
  // a scoped entry is resolved for its node only
  const scoped = head + '[env]\nx@node2 = 1\n[app#1]\nstart@node2 = /bin/echo {env.x}\nrestart@nodes = {env.n}\n';
  t.deepEqual(check(scoped, 'node1').errors, [
    'svc.env:7: unknown reference {env.n}: env.n is not set',
  ]);
  // an unscoped entry must resolve on every node
  const plain = head + '[env]\nx@node2 = 1\n[app#1]\nstart = /bin/echo {env.x}\n';
  t.deepEqual(check(plain, 'node2').errors, ['svc.env:6: unknown reference {env.x}: env.x is not set']);
  const typed = head + '[env]\nn = 1\nn@node2 = lots\n[app#1]\nrestart = {env.n}\n';
  t.deepEqual(check(typed, 'node1').errors, ['svc.env:7: bad value "lots" for restart: expected an integer']);
});

test('issue 8: a bare unknown reference is an error; every bad reference of a value is listed', (t) => {
  t.deepEqual(check(head + '[app#1]\nstart = /bin/echo {nodenam}\n').errors, [
    'svc.env:4: unknown reference {nodenam}: not one of {nodename}, {short_nodename}, {svcname}, {name}, {rid}',
  ]);
  t.deepEqual(check(head + '[app#1]\nstart = /bin/echo {env.a} {env.b}\n').errors, [
    'svc.env:4: unknown reference {env.a}: env.a is not set',
    'svc.env:4: unknown reference {env.b}: env.b is not set',
  ]);
  // shell, awk and template braces are still data
  t.deepEqual(check(head + "[app#1]\nstart = /bin/sh -c 'echo ${HOME} | awk \"{ print }\" {} {a,b}'\n").errors, []);
});

test('issue 8: references in nodes do not stop the check of the rest of the file', (t) => {
  const text = [
    '[DEFAULT]',
    'nodes = {nodename} {env.other}',
    'drpnodes = {nodenam}',
    'orchestrate = maybe',
    '[env]',
    'other = node2',
    '[app#1]',
    'start = /bin/echo {env.a} {env.b}',
    'strat = x',
    'restart = many',
  ].join('\n');
  t.deepEqual(check(text).errors, [
    'svc.env:2: references are not allowed in nodes',
    'svc.env:3: references are not allowed in drpnodes',
    'svc.env:4: bad value "maybe" for orchestrate: expected one of no, start, ha',
    'svc.env:8: unknown reference {env.a}: env.a is not set',
    'svc.env:8: unknown reference {env.b}: env.b is not set',
    'svc.env:9: unknown keyword "strat" in [app#1]',
    'svc.env:10: bad value "many" for restart: expected an integer',
  ]);
});

test('issue 8: the real ip table refuses an ipdev that is no interface name, on its line, for each node', (t) => {
  const real = (text: string) => validateText(text, 'svc.env', { svcname: 'svc1', nodename: 'node1', drivers }).errors.map(String);
  const ip = (dev: string) => `[ip#1]\nipname = 10.0.0.1\n${dev}\n`;
  const bad = (v: string, why: string) => `svc.env:5: bad value "${v}" for ipdev: not a valid network interface name: ${why}`;
  t.deepEqual(real(head + ip('ipdev = eth0')), []);
  t.deepEqual(real(head + ip('ipdev = -a')), [bad('-a', "it starts with '-'")]);
  // the alias is reported under the keyword's name, as every value problem is
  t.deepEqual(real(head + ip('dev = --all')), [bad('--all', "it starts with '-'")]);
  t.deepEqual(real(head + ip('ipdev = a/b')), [bad('a/b', "it contains '/', ':' or a blank")]);
  t.deepEqual(real(head + ip('ipdev = eth0 x')), [bad('eth0 x', "it contains '/', ':' or a blank")]);
  t.deepEqual(real(head + ip(`ipdev = ${'x'.repeat(16)}`)), [bad('x'.repeat(16), 'it is longer than 15 bytes')]);
  t.deepEqual(real(head + ip('ipdev = ..')), [bad('..', 'it is "." or ".."')]);
  // a reference is checked once expanded, and a scoped value on the node it applies to
  t.deepEqual(real(head + '[env]\nd = -x\n' + ip('ipdev = {env.d}')), ['svc.env:7: bad value "-x" for ipdev: not a valid network interface name: it starts with \'-\'']);
  t.deepEqual(real(head + '[ip#1]\nipname = 10.0.0.1\nipdev@node1 = eth0\nipdev@node2 = -x\n'), [
    'svc.env:6: bad value "-x" for ipdev: not a valid network interface name: it starts with \'-\'',
  ]);
});

test('issue 8: every problem is one line: lone CR, continuation LF and control characters are escaped', (t) => {
  const cases: [string, string[], string[]][] = [
    // a lone CR inside a line is data: the line is not split (line numbers count LF, as editors and grep -n do)
    ['[app#1]\nrestart = 1\r2\n', ['svc.env:4: bad value "1\\r2" for restart: expected an integer'], ['svc.env:4: warning: control character "\\r" in the value of "restart" is kept (values are used byte for byte)']],
    // a "\r\r\n" ending leaves a CR at the end of the value
    ['[ip#1]\nipname = a\nipdev = b\r\r\n', [], ['svc.env:5: warning: control character "\\r" in the value of "ipdev" is kept (values are used byte for byte)']],
    // a continuation line joins with LF
    ['[app#1]\nrestart = 1\n  2\n', ['svc.env:4: bad value "1\\n2" for restart: expected an integer'], []],
    ['[app#1]\noptional = \u001b[2Jyes\n', ['svc.env:4: bad value "\\u001b[2Jyes" for optional: expected true or false'], ['svc.env:4: warning: control character "\\u001b" in the value of "optional" is kept (values are used byte for byte)']],
    ['[app#1]\nst\u0001art = x\n', ['svc.env:4: unknown keyword "st\\u0001art" in [app#1]'], []],
    ['[app#1]\nst\rart = x\n', ['svc.env:4: malformed keyword "st\\rart": blanks inside a keyword'], []],
    ['[app#1\u0007]\n', ['svc.env:3: unknown section [app#1\\u0007]: bad index "1\\u0007" (letters, digits, \'_\' and \'-\' only)'], []],
    ['[ip#1]\nipname = a\nipdev = b\ntype = x\u0085\n', ['svc.env:6: bad type "x\\u0085" for [ip#1]: ip resources take no type'], []],
  ];
  for (const [body, errors, warnings] of cases) {
    const r = check(head + body);
    t.deepEqual(r, { errors, warnings }, JSON.stringify(body));
    for (const line of [...r.errors, ...r.warnings]) t.false(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(line), line);
  }
  // a file whose lines end in a lone CR (old Mac) is one long line: one error, one line
  const mac = check('[DEFAULT]\rnodes = node1\r[app#1]\rstart = /bin/true\r');
  t.deepEqual(mac.errors, ['svc.env:1: malformed section header [DEFAULT]\\rnodes = node1\\r[app#1]\\rstart = /bin/true: text after \']\'']);
});
