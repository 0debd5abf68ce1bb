// The cluster file: typed config for the node reading it, and file:line errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { generateSecret, loadClusterConfig, parseClusterConfig, SECRET_FILE_MAX_BYTES } from '../../src/cluster/config.js';
import { readSecretFile } from '../../src/cli/arbitrator-command.js';
import { UserError } from '../../src/vocab/errors.js';
import { ConfigInvalid } from '../../src/config/errors.js';
import { ferryPaths } from '../../src/paths.js';
import { repoRoot } from '../helpers/env.js';

const SECRET = 'ab'.repeat(32);
const base = (extra: string, secret = `secret = ${SECRET}`) =>
  // quorum explicit: a two-node cluster without tie-breaker must say what it wants (tested below)
  ['[cluster]', 'name = prod', 'nodes = n1 n2', secret, 'quorum = false', extra].join('\n');
const parse = (text: string, node = 'n1') => parseClusterConfig(text, 'cluster.conf', node, '/nonexistent');
const errs = (text: string, node = 'n1') => parse(text, node).errors.filter((e) => e.severity === 'error').map(String);

test('unicast, multicast and disk heartbeats with defaults and per-node scoping', (t) => {
  const text = base(
    [
      '[hb#1]',
      'type = unicast',
      'addr@n1 = 10.0.0.1',
      'addr@n2 = 10.0.0.2',
      'port = 10001',
      'port@n2 = 10002',
      '',
      '[hb#2]',
      'type = multicast',
      'addr = 239.1.2.3',
      'port = 10003',
      'intf = eth0',
      'intf@n2 = eth1',
      'interval = 500ms',
      'timeout = 2s',
      '',
      '[hb#3]',
      'type = disk',
      'dev = /dev/sdb',
      'dev@n2 = /dev/sdc',
      '',
      '[stonith#n2]',
      'agent = fence_dummy',
      'params = type=file "comment=a b"',
      '',
      '[arbitrator#1]',
      'addr = 10.0.0.9',
    ].join('\n'),
  );
  const r = parse(text, 'n2');
  t.deepEqual(r.errors.map(String), ['cluster.conf:5: warning: quorum = false and no [stonith#<node>] for n1: when the nodes lose each other, both sides run the failover services (split brain)']);
  const c = r.config!;
  t.is(c.name, 'prod');
  t.deepEqual(c.nodes, ['n1', 'n2']);
  t.is(c.secret, SECRET);
  const [u, m, d] = c.heartbeats;
  t.deepEqual(u, { id: 'hb#1', type: 'unicast', interval: 1000, timeout: 3000, intf: undefined, endpoints: { n1: { addr: '10.0.0.1', port: 10001 }, n2: { addr: '10.0.0.2', port: 10002 } } });
  t.deepEqual(m, { id: 'hb#2', type: 'multicast', interval: 500, timeout: 2000, group: '239.1.2.3', port: 10003, intf: 'eth1' });
  t.deepEqual(d, { id: 'hb#3', type: 'disk', interval: 1000, timeout: 3000, dev: '/dev/sdc', slotSize: 65536 });
  t.deepEqual(c.stonith, [{ node: 'n2', agent: 'fence_dummy', params: { type: 'file', comment: 'a b' }, timeout: 60000 }]);
  t.deepEqual(c.arbitrators, [{ id: 'arbitrator#1', addr: '10.0.0.9', port: 1215, timeout: 2000 }]);
  t.false(c.quorum);
});

test('errors name file and line', (t) => {
  t.deepEqual(errs(base('[hb#1]\ntype = unicast\naddr@n1 = 10.0.0.1\n')), ['cluster.conf:6: [hb#1] no address for node n2: add addr@n2 = <ip>']);
  t.deepEqual(errs(base('[hb#1]\ntype = unicast\naddr@n1 = 10.0.0.1\naddr@n2 = 10.0.0.300\n')), ['cluster.conf:9: [hb#1] bad address "10.0.0.300" for node n2: expected an IPv4 or IPv6 address']);
  t.deepEqual(errs(base('[hb#1]\ntype = carrier-pigeon\n')), ['cluster.conf:7: bad value "carrier-pigeon" for type: expected one of unicast, multicast, disk']);
  t.deepEqual(errs(base('[hb#1]\ntype = disk\ndev = /dev/sdb\ninterval = 5s\ntimeout = 2s\n')), ['cluster.conf:10: [hb#1] timeout (2000ms) must be longer than interval (5000ms)']);
  t.deepEqual(errs(base('[hb#1]\ntype = disk\ndev = /dev/sdb\nslot_size = 1000\n')), ['cluster.conf:9: [hb#1] bad slot_size 1000: a multiple of 4096 is required (O_DIRECT alignment)']);
  t.deepEqual(errs(base('[hb#1]\ntype = disk\ndev = /dev/sdb\nport = 3\n')), ['cluster.conf:9: keyword "port" does not apply to a disk heartbeat']);
  t.deepEqual(errs(base('[hb#1]\ntype = multicast\naddr = 10.1.1.1\n')), ['cluster.conf:8: [hb#1] bad multicast group "10.1.1.1": expected an IPv4 address in 224.0.0.0/4']);
  t.deepEqual(errs(base('[hb#1]\ntype = disk\ndev@n9 = /dev/sdb\n')), ['cluster.conf:8: scope @n9: "n9" is not a cluster node', 'cluster.conf:6: [hb#1] dev is required for a disk heartbeat (for node n1)']);
  t.deepEqual(errs(base('[hb#1]\ntype = disk\ndev = /x\nfrobnicate = 1\n')), ['cluster.conf:9: unknown keyword "frobnicate" in [hb#1] (known: type, interval, timeout, addr, port, intf, statechan_port, dev, slot_size, comment)']);
  t.deepEqual(errs(base('[heartbeat#1]\n')), ['cluster.conf:6: unknown section [heartbeat#1]: expected [cluster], [hb#<index>], [stonith#<node>] or [arbitrator#<index>]']);
  t.deepEqual(errs(base('[stonith#n7]\nagent = fence_dummy\n')), ['cluster.conf:6: [stonith#n7]: "n7" is not a cluster node']);
});

test('this node must be a cluster node', (t) => {
  t.deepEqual(errs(base(''), 'n3'), ['cluster.conf:3: this node "n3" is not in the cluster nodes (n1 n2)']);
});

test('secret: required, hex, at least 32 bytes, never echoed', (t) => {
  t.deepEqual(errs(base('', '')), ['cluster.conf:1: [cluster] secret or secret_file is required (generate one with: openssl rand -hex 32)']);
  t.deepEqual(errs(base('', 'secret = abcd')), ['cluster.conf:4: bad secret: 2 bytes, at least 32 required']);
  const bad = errs(base('', `secret = ${'zz'.repeat(32)}`));
  t.deepEqual(bad, ['cluster.conf:4: bad secret: expected an even number of hex digits']);
  t.is(generateSecret().length, 64);
  t.not(generateSecret(), generateSecret());
});

test('secret_file relative to etc, with a warning when others can read it', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-hbcfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'secret'), generateSecret() + '\n', { mode: 0o644 });
  fs.chmodSync(path.join(dir, 'secret'), 0o644);
  const r = parseClusterConfig(base('', 'secret_file = secret'), 'cluster.conf', 'n1', dir);
  t.is(r.config?.secret.length, 64);
  t.deepEqual(r.errors.filter((e) => e.line === 4).map(String), [`cluster.conf:4: warning: secret_file ${dir}/secret is readable by group or others: chmod 600 it`]);
  const both = parseClusterConfig(base('', `secret = ${SECRET}\nsecret_file = secret`), 'cluster.conf', 'n1', dir);
  t.deepEqual(both.errors.filter((e) => e.severity === 'error').map(String), ['cluster.conf:5: give secret or secret_file, not both']);
});

test('loadClusterConfig reads <etc>/cluster.conf and throws ConfigInvalid with every error', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-hbcfg-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const paths = ferryPaths({ FERRY_ROOT: root });
  fs.mkdirSync(paths.etc, { recursive: true });
  fs.writeFileSync(path.join(paths.etc, 'cluster.conf'), base('[hb#1]\ntype = disk\ndev = /tmp/x\n'));
  t.is(loadClusterConfig(paths, 'n1').heartbeats.length, 1);
  fs.writeFileSync(path.join(paths.etc, 'cluster.conf'), base('[hb#1]\ntype = nope\n[hb#2]\ntype = unicast\n'));
  const e = t.throws(() => loadClusterConfig(paths, 'n1'), { instanceOf: ConfigInvalid });
  t.deepEqual(e?.errors.map((x) => x.toString().replace(/^.*cluster\.conf/, 'cluster.conf')), [
    'cluster.conf:7: bad value "nope" for type: expected one of unicast, multicast, disk',
    'cluster.conf:8: [hb#2] no address for node n1: add addr@n1 = <ip>',
    'cluster.conf:8: [hb#2] no address for node n2: add addr@n2 = <ip>',
  ]);
});

test('the shipped examples are valid for each of their nodes', (t) => {
  const dir = path.join(repoRoot, 'heartbeat');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.conf'));
  t.true(files.length >= 2);
  // the examples point at secret_file = cluster.secret: no secret is shipped
  const etc = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-hbcfg-'));
  t.teardown(() => fs.rmSync(etc, { recursive: true, force: true }));
  fs.writeFileSync(path.join(etc, 'cluster.secret'), generateSecret(), { mode: 0o600 });
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const nodes = /^nodes\s*=\s*(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
    t.true(nodes.length >= 2, f);
    for (const n of nodes) {
      const r = parseClusterConfig(text, f, n, etc);
      t.deepEqual(r.errors.filter((e) => e.severity === 'error').map(String), [], `${f} for ${n}`);
      t.truthy(r.config, `${f} for ${n}`);
    }
  }
});

test('two nodes need a tie-breaker or an explicit quorum; quorum = false without STONITH is warned about', (t) => {
  const text = (cluster: string[], extra = '') =>
    ['[cluster]', 'name = prod', 'nodes = n1 n2', `secret = ${SECRET}`, ...cluster, '', '[hb#1]', 'type = unicast', 'addr@n1 = 10.0.0.1', 'addr@n2 = 10.0.0.2', '', extra].join('\n');
  const all = (s: string) => parse(s).errors.map(String);
  t.deepEqual(errs(text([])), [
    'cluster.conf:1: two-node cluster without a tie-breaker: a node alone never has a majority, so a dead peer\'s services would never be taken over; add an [arbitrator#1] (nodemgr arbitrator), [stonith#<node>] sections for both nodes, or set quorum explicitly (true: no failover without an arbitrator; false: a split runs both sides)',
  ]);
  t.deepEqual(all(text(['quorum = true'])), [
    'cluster.conf:5: warning: two-node cluster with quorum and no tie-breaker (arbitrator, or STONITH for both nodes): a dead peer\'s services are never taken over, and when the nodes lose each other both stop them',
  ]);
  t.deepEqual(all(text(['quorum = false'])), ['cluster.conf:5: warning: quorum = false and no [stonith#<node>] for n1, n2: when the nodes lose each other, both sides run the failover services (split brain)']);
  const stonith = ['[stonith#n1]', 'agent = fence_dummy', '[stonith#n2]', 'agent = fence_dummy'].join('\n');
  t.deepEqual(all(text([], stonith)), [], 'STONITH for both nodes: the tie is settled by fencing');
  t.deepEqual(all(text([], '[arbitrator#1]\naddr = 10.0.0.9')), [], 'an arbitrator');
  t.deepEqual(errs(text([], '[stonith#n1]\nagent = fence_dummy')).length, 1, 'STONITH for one node only is not a tie-breaker');
  const c = parse(text([], stonith)).config!;
  t.like(c, { quorum: true, splitAction: 'stop', splitGrace: 10_000 });
  t.deepEqual(errs(text(['quorum = false', 'split_action = reboot'])), ['cluster.conf:6: bad value "reboot" for split_action: expected one of stop, freeze, crash']);
  t.like(parse(text(['quorum = false', 'split_action = freeze', 'split_grace = 3s'])).config, { splitAction: 'freeze', splitGrace: 3000 });
});

test('statechan_port: the heartbeat port by default, per node when scoped, checked', (t) => {
  const u = '[hb#1]\ntype = unicast\naddr@n1 = 10.0.0.1\naddr@n2 = 10.0.0.2\nport = 10001\n';
  const plain = parseClusterConfig(base(u), 'cluster.conf', 'n1', '/tmp').config!.heartbeats[0]!;
  t.deepEqual(plain.type === 'unicast' && plain.endpoints, { n1: { addr: '10.0.0.1', port: 10001 }, n2: { addr: '10.0.0.2', port: 10001 } });
  const scoped = parseClusterConfig(base(`${u}statechan_port@n2 = 11002\n`), 'cluster.conf', 'n1', '/tmp').config!.heartbeats[0]!;
  t.deepEqual(scoped.type === 'unicast' && scoped.endpoints.n2, { addr: '10.0.0.2', port: 10001, chanPort: 11002 });
  t.deepEqual(errs(base(`${u}statechan_port = 70000\n`)), ['cluster.conf:11: [hb#1] bad statechan_port 70000: expected 1-65535', 'cluster.conf:11: [hb#1] bad statechan_port 70000: expected 1-65535']);
  t.deepEqual(errs(base('[hb#1]\ntype = disk\ndev = /x\nstatechan_port = 1\n')), ['cluster.conf:9: keyword "statechan_port" does not apply to a disk heartbeat']);
  const disk = parseClusterConfig(base('[hb#1]\ntype = disk\ndev = /x\n'), 'cluster.conf', 'n1', '/tmp');
  t.true(disk.errors.some((e) => e.severity === 'warning' && /state channel/.test(e.message)), 'a cluster without network heartbeat is warned about');
});

test('issue 8: secret_file is read up to 64 KiB, never past it; the arbitrator reads its secret file the same way', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-hbcfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.is(SECRET_FILE_MAX_BYTES, 64 * 1024);
  const write = (name: string, bytes: number) => fs.writeFileSync(path.join(dir, name), SECRET + ' '.repeat(bytes - SECRET.length), { mode: 0o600 });
  write('limit', SECRET_FILE_MAX_BYTES);
  write('over', SECRET_FILE_MAX_BYTES + 1);
  const at = (name: string) => parseClusterConfig(base('', `secret_file = ${name}`), 'cluster.conf', 'n1', dir).errors.filter((e) => e.severity === 'error').map(String);
  t.deepEqual(at('limit'), []);
  t.deepEqual(at('over'), [`cluster.conf:4: secret_file ${dir}/over is larger than the limit of 64 KiB (65537 bytes)`]);
  t.deepEqual(readSecretFile(path.join(dir, 'limit')), { secret: SECRET });
  t.throws(() => readSecretFile(path.join(dir, 'over')), { instanceOf: UserError, message: `secret file ${dir}/over is larger than the limit of 64 KiB (65537 bytes)` });
  // (a FIFO and /dev/zero: test/integration/nodemgr-validate.test.ts, in a child process that cannot hang this one)
});
