// Pure parts of fencing: the two-node race rule, the retry schedule, the agent's stdin, the
// masking of secrets, and the fence_delay keyword.
import test from 'ava';
import { parseClusterConfig } from '../../src/cluster/config.js';
import { agentInput, maskParams, maskSecrets, summarize } from '../../src/fence/agent.js';
import { fenceBackoffMs, FenceRetries } from '../../src/fence/backoff.js';
import { fenceDelayMs } from '../../src/fence/race.js';

const SECRET = 'ab'.repeat(32);

test('two nodes: the first listed fences at once, the second waits fence_delay', (t) => {
  const c = { nodes: ['n1', 'n2'], fenceDelay: 5000 };
  t.is(fenceDelayMs(c, 'n1', 'n2'), 0);
  t.is(fenceDelayMs(c, 'n2', 'n1'), 5000);
  t.is(fenceDelayMs({ nodes: ['n1', 'n2'] }, 'n2', 'n1'), 10_000, 'default');
  t.is(fenceDelayMs({ nodes: ['n1', 'n2', 'n3'], fenceDelay: 5000 }, 'n3', 'n1'), 0, 'quorum decides with 3 nodes');
  t.is(fenceDelayMs(c, 'n2', 'n2'), 0);
});

test('backoff doubles from 2 s up to 60 s; retries are due after it', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 100].map((a) => fenceBackoffMs(a)), [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  const r = new FenceRetries({ baseMs: 100 });
  t.true(r.due('n2', 0));
  t.is(r.failed('n2', 'boom', 0), 100);
  t.false(r.due('n2', 50));
  t.true(r.due('n2', 100));
  t.is(r.failed('n2', 'boom again', 100), 200);
  t.deepEqual(r.info('n2'), { failures: 2, nextAt: 300, lastError: 'boom again' });
  r.reset('n2');
  t.true(r.due('n2', 101));
});

test('agent stdin: action, nodename and plug unless the params name the port', (t) => {
  t.is(agentInput({ node: 'n2', agent: 'x', params: { ip: '10.0.0.9', password: 's' }, timeout: 1 }, 'off'), 'action=off\nnodename=n2\nplug=n2\nip=10.0.0.9\npassword=s\n');
  t.is(agentInput({ node: 'n2', agent: 'x', params: { port: 'vm-2' }, timeout: 1 }, 'status'), 'action=status\nnodename=n2\nport=vm-2\n');
  // an action in the params never overrides the one asked for
  t.is(agentInput({ node: 'n2', agent: 'x', params: { action: 'on', plug: '3' }, timeout: 1 }, 'off'), 'action=off\nnodename=n2\nplug=3\n');
});

test('secrets never reach logs or messages', (t) => {
  const params = { login: 'admin', password: 'hunter2', passwd_script: '/x' };
  t.deepEqual(maskParams(params), { login: 'admin', password: '****', passwd_script: '****' });
  t.is(maskSecrets('ipmitool -P hunter2 failed', params), 'ipmitool -P **** failed');
});

test('the one line: last error on failure, last output on success, fence-agents prefixes dropped', (t) => {
  t.is(summarize('', "WARNING:root:Parse error: Ignoring unknown option 'plug=n2'\n2026-11-22 02:35:45,922 ERROR: Failed: Timed out waiting to power OFF\n", true), 'ERROR: Failed: Timed out waiting to power OFF');
  t.is(summarize('Success: Powered OFF\n', "WARNING:root:Parse error: Ignoring unknown option 'plug=n2'\n", false), 'Success: Powered OFF');
});

test('[cluster] fence_delay is a duration', (t) => {
  const text = ['[cluster]', 'name = c', 'nodes = n1 n2', `secret = ${SECRET}`, 'quorum = false', 'fence_delay = 3s', '[hb#1]', 'type = unicast', 'addr@n1 = 10.0.0.1', 'addr@n2 = 10.0.0.2'].join('\n');
  t.is(parseClusterConfig(text, 'cluster.conf', 'n1', '/nonexistent').config?.fenceDelay, 3000);
});
