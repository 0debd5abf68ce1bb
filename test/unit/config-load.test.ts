// Loading: typed, scoped, resolved values per resource; subsets; locating services.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { buildServiceConfig, loadServiceConfig, locateService, readServiceConfig, serviceFile } from '../../src/config/load.js';
import { ConfigInvalid } from '../../src/config/errors.js';
import { UserError } from '../../src/vocab/errors.js';
import { ferryPaths } from '../../src/paths.js';
import { fakeDrivers, opts } from './config-fake-drivers.js';
import { drivers } from '../../src/resources/registry.js';

const text = [
  '[DEFAULT]',
  'nodes = node1 node2',
  'orchestrate = ha',
  'service_type@node2 = DEV',
  '[env]',
  'port = 80',
  'port@node2 = 81',
  '[ip#1]',
  'name = {short_nodename}-vip',
  'dev = eth0',
  'netmask = 24',
  '[container#1]',
  'image = busybox',
  'subset = 01a',
  'disable = true',
  '[container#2]',
  'type = podman',
  'run_image = busybox',
  'run_args = -p {env.port}:80 -e "A=a b"',
  'subset = 01a',
  '[subset#container.docker:01a]',
  'parallel = true',
  '[app#1]',
  'start = /bin/sh -c "echo {rid}; exit 0"',
  'timeout@nodes = 2m',
].join('\n');

test('resources carry typed, scoped, resolved values and their resolved type', (t) => {
  const r = buildServiceConfig(text, 'svc.env', opts('node2'));
  t.deepEqual(r.errors, []);
  const c = r.config!;
  t.is(c.svcname, 'svc1');
  t.is(c.nodename, 'node2');
  t.is(c.defaults.string('orchestrate'), 'ha');
  t.is(c.defaults.string('service_type'), 'DEV');
  t.deepEqual(c.defaults.list('nodes'), ['node1', 'node2']);
  t.true(c.defaults.boolean('rollback'));
  t.deepEqual(c.env, { port: '81' });
  t.deepEqual(c.resources.map((x) => [x.rid, x.group, x.index, x.type, x.line]), [
    ['ip#1', 'ip', '1', '', 8],
    ['container#1', 'container', '1', 'docker', 12],
    ['container#2', 'container', '2', 'podman', 16],
    ['app#1', 'app', '1', 'forking', 23],
  ]);
  const [ip, c1, c2, app] = c.resources;
  t.is(ip!.kw.string('ipname'), 'node2-vip');
  t.is(ip!.kw.string('name'), 'node2-vip');
  t.is(ip!.kw.integer('netmask'), 24);
  t.true(c1!.kw.boolean('disable'), 'disabled resources stay in the list');
  t.is(c1!.kw.string('type'), 'docker');
  t.is(c2!.kw.string('run_args'), '-p 81:80 -e "A=a b"');
  t.is(app!.kw.string('start'), '/bin/sh -c "echo app#1; exit 0"');
  t.is(app!.kw.duration('timeout'), 120_000);
  t.false(app!.kw.boolean('optional'));
  t.deepEqual(c.subsets, [{ group: 'container', type: 'docker', name: '01a', parallel: true, line: 21 }]);
});

test('defaults apply when a keyword is absent or scoped for another node', (t) => {
  const c = buildServiceConfig(text, 'svc.env', opts('node3')).config!;
  t.is(c.defaults.string('service_type'), 'PRD');
  t.deepEqual(c.env, { port: '80' });
  t.is(c.resources[3]!.kw.duration('timeout'), 60_000);
});

test('no config is built from a file with errors', (t) => {
  const r = buildServiceConfig('[DEFAULT]\norchestrate = maybe\n', 'svc.env', opts());
  t.is(r.config, undefined);
  t.is(r.errors.length, 1);
});

// every scratch FERRY_ROOT made here is removed when the file's tests are done
const scratch: string[] = [];
test.after.always(() => {
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

const tmpRoot = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-load-'));
  scratch.push(root);
  const paths = ferryPaths({ FERRY_ROOT: root });
  fs.mkdirSync(paths.services, { recursive: true });
  return paths;
};

test('service files are found by name or by path; names are checked', (t) => {
  const paths = tmpRoot();
  t.is(serviceFile(paths, 'web.example.com'), path.join(paths.services, 'web.example.com.env'));
  t.deepEqual(locateService(paths, './x/db.env'), { svcname: 'db', file: path.resolve('x/db.env') });
  for (const bad of ['', '-x', '.hidden', 'a b', 'é']) {
    t.throws(() => serviceFile(paths, bad), { instanceOf: UserError, message: /invalid service name/ }, bad);
  }
});

test('a missing service is a one-line UserError', (t) => {
  const paths = tmpRoot();
  const file = path.join(paths.services, 'nope.env');
  t.throws(() => loadServiceConfig(file, 'nope', 'node1', drivers), { instanceOf: UserError, message: `service nope does not exist (no ${file})` });
});

test('loadServiceConfig throws ConfigInvalid with every error; readServiceConfig returns them', (t) => {
  const paths = tmpRoot();
  const file = path.join(paths.services, 'bad.env');
  fs.writeFileSync(file, '[DEFAULT]\norchestrate = maybe\n[bogus]\n');
  const err = t.throws(() => loadServiceConfig(file, 'bad', 'node1', drivers), { instanceOf: ConfigInvalid });
  t.deepEqual(err!.errors.map(String), [
    `${file}:2: bad value "maybe" for orchestrate: expected one of no, start, ha`,
    `${file}:3: unknown section [bogus]: expected [DEFAULT], [env], [<group>#<index>] or [subset#<group>[.<type>]:<name>]`,
  ]);
  const r = readServiceConfig(file, 'bad', 'node1', fakeDrivers);
  t.is(r.errors.length, 2);
  t.is(r.config, undefined);
});
