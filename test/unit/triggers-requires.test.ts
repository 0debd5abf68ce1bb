// Triggers and requirements: the requirement syntax, the load-time checks (each at file:line),
// the requirement rule and what a trigger set holds after loading.
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import { buildServiceConfig } from '../../src/config/load.js';
import { parseRequires } from '../../src/config/trigger-keywords.js';
import { describeUnmet, unmetRequirements } from '../../src/service/requires.js';
import { triggerEnv, triggerSetFrom } from '../../src/service/triggers.js';
import type { Status } from '../../src/vocab/status.js';
import { opts } from './config-fake-drivers.js';

const head = '[DEFAULT]\nnodes = node1 node2\n';
const errors = (text: string): string[] => validateText(text, 'svc.env', opts('node1')).errors.map(String);

test('requirement syntax: rid(state,...) words, a bare rid means up or stdby up', (t) => {
  t.deepEqual(parseRequires('fs#1(up) ip#1(up,stdby up)  app#2 container#web(down)'), {
    requirements: [
      { rid: 'fs#1', states: ['up'] },
      { rid: 'ip#1', states: ['up', 'stdby up'] },
      { rid: 'app#2', states: ['up', 'stdby up'] },
      { rid: 'container#web', states: ['down'] },
    ],
  });
  t.deepEqual(parseRequires('   '), { requirements: [] });
  t.deepEqual(parseRequires('fs#1( down , n/a )'), { requirements: [{ rid: 'fs#1', states: ['down', 'n/a'] }] });
});

test('requirement syntax errors name the word', (t) => {
  t.deepEqual(parseRequires('fs#1(upp)'), { error: 'bad state "upp" for fs#1: expected up, down, warn, n/a, undef, stdby up, stdby down' });
  t.deepEqual(parseRequires('fs#1(up'), { error: 'unclosed "(" after fs#1' });
  t.deepEqual(parseRequires('fs1(up)'), { error: 'bad resource id "fs1": expected <group>#<index>' });
  t.deepEqual(parseRequires('fs#1(up)x'), { error: 'expected a space after fs#1(up)' });
  t.deepEqual(parseRequires('fs#1()'), { error: 'bad state "" for fs#1: expected up, down, warn, n/a, undef, stdby up, stdby down' });
});

test('load-time checks of requirements and triggers, each at its line', (t) => {
  const text = head + [
    '[fs#1]', 'mnt = /a', 'dev = /b', // 3-5
    '[app#1]', // 6
    'start_requires = fs#1(up) fs#9(up)', // 7: unknown rid
    'stop_requires = app#1(down)', // 8: itself
    'pre_start = /bin/echo "unterminated', // 9
    '[app#2]', // 10
    'start_requires = fs#1(running)', // 11
    'stop_requires@node2 = ip#1', // 12: unknown on node2's value
    'trigger_timeout = soon', // 13
    'blocking_post_stop = /bin/true', // 14: fine
  ].join('\n') + '\n';
  t.deepEqual(errors(text), [
    'svc.env:7: start_requires of [app#1]: no resource fs#9 in this service',
    'svc.env:8: stop_requires of [app#1] requires the resource itself',
    'svc.env:9: bad value for pre_start: unterminated double quote',
    'svc.env:11: bad value "fs#1(running)" for start_requires: bad state "running" for fs#1: expected up, down, warn, n/a, undef, stdby up, stdby down',
    'svc.env:12: stop_requires of [app#2]: no resource ip#1 in this service',
    'svc.env:13: bad value "soon" for trigger_timeout: expected a duration like 500ms, 10s, 2m, 1h',
  ]);
  // [DEFAULT] takes the triggers too, not the requirements
  t.deepEqual(errors('[DEFAULT]\nnodes = node1\npre_start = /bin/true\nblocking_post_stop = /bin/true\nstart_requires = fs#1\n'), [
    'svc.env:5: unknown keyword "start_requires" in [DEFAULT]',
  ]);
});

test('a loaded trigger set: argv per keyword, the timeout inherited from [DEFAULT] unless set', (t) => {
  const text = head + 'trigger_timeout = 5s\npre_start = /bin/echo "a b"\n[app#1]\npost_stop = /bin/sh -c "echo x; echo y"\npre_stop@node1 =\n[app#2]\ntrigger_timeout = 200ms\nblocking_pre_start = /bin/false\n';
  const r = buildServiceConfig(text, 'svc.env', opts('node1'));
  t.deepEqual(r.errors.map(String), []);
  const cfg = r.config!;
  const svc = triggerSetFrom(cfg.defaults, 60_000);
  t.deepEqual([...svc.commands], [['pre_start', ['/bin/echo', 'a b']]]);
  t.is(svc.timeoutMs, 5000);
  const app1 = triggerSetFrom(cfg.resources.find((x) => x.rid === 'app#1')!.kw, svc.timeoutMs);
  t.deepEqual([...app1.commands], [['post_stop', ['/bin/sh', '-c', 'echo x; echo y']]], 'an empty value is no trigger');
  t.is(app1.timeoutMs, 5000);
  const app2 = triggerSetFrom(cfg.resources.find((x) => x.rid === 'app#2')!.kw, svc.timeoutMs);
  t.is(app2.timeoutMs, 200);
  t.deepEqual([...app2.commands.keys()], ['blocking_pre_start']);
});

test('the requirement rule: met by any listed state; a missing or unreadable resource is unmet', (t) => {
  const current = new Map<string, Status>([['fs#1', 'up'], ['ip#1', 'stdby up'], ['app#1', 'down']]);
  t.deepEqual(unmetRequirements([{ rid: 'fs#1', states: ['up'] }, { rid: 'ip#1', states: ['up', 'stdby up'] }], current), []);
  const unmet = unmetRequirements([{ rid: 'fs#1', states: ['down'] }, { rid: 'app#1', states: ['down'] }, { rid: 'app#9', states: ['up'] }], current);
  t.deepEqual(unmet, [
    { rid: 'fs#1', states: ['down'], current: 'up' },
    { rid: 'app#9', states: ['up'], current: undefined },
  ]);
  t.is(describeUnmet('stop', unmet[0]!), 'stop requires fs#1 in state down, current state up');
  t.is(describeUnmet('start', { rid: 'fs#1', states: ['up', 'stdby up'], current: 'down' }), 'start requires fs#1 in state up or stdby up, current state down');
  t.is(describeUnmet('start', unmet[1]!), 'start requires app#9 in state up, current state undef');
});

test('trigger environment: the v1 names, OPENSVC_RID only for a resource', (t) => {
  t.deepEqual(triggerEnv('s1', 'n1', 'start', 'app#1'), {
    OPENSVC_SVCNAME: 's1', OPENSVC_ACTION: 'start', OPENSVC_RID: 'app#1',
    FERRY_SVCNAME: 's1', FERRY_NODENAME: 'n1', FERRY_ACTION: 'start', FERRY_RID: 'app#1',
  });
  t.false('OPENSVC_RID' in triggerEnv('s1', 'n1', 'stop', undefined));
});

test('a shell operator in a trigger is a warning at its line: no shell runs it', (t) => {
  const r = validateText(head + '[app#1]\npre_start = /opt/a.sh && /opt/b.sh\npost_start = /bin/sh -c "a; b | c"\npre_stop = echo x;\npost_stop = /bin/echo "a ; b"\n', 'svc.env', opts('node1'));
  t.deepEqual(r.errors.map(String), []);
  t.deepEqual(r.warnings.map(String), [
    'svc.env:4: warning: "&&" in pre_start is passed to the command as an argument: triggers run without a shell (write /bin/sh -c "...")',
    'svc.env:6: warning: ";" in pre_stop is passed to the command as an argument: triggers run without a shell (write /bin/sh -c "...")',
  ]);
});
