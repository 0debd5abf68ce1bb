// svcmgr configuration commands against a service in a private FERRY_ROOT.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
  cmdGet,
  cmdPrintConfig,
  cmdSet,
  cmdUnset,
  cmdValidateConfig,
  parseAssignment,
  parseKeywordParam,
} from '../../src/cli/config-commands.js';
import { UserError } from '../../src/vocab/errors.js';
import { ConfigInvalid } from '../../src/config/errors.js';
import { ferryPaths } from '../../src/paths.js';

const text = [
  '# web service',
  '[DEFAULT]',
  'nodes = node1 node2',
  'orchestrate = start',
  'service_type@node2 = DEV',
  '',
  '[env]',
  'dir = /srv/{svcname}',
  '',
  '[app#1]',
  'start = /bin/sh -c "cd {env.dir}; ./run"   ',
  'timeout = 90s',
  '',
].join('\n');

// every scratch FERRY_ROOT made here is removed when the file's tests are done
const scratch: string[] = [];
test.after.always(() => {
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

const setup = (content = text) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cmd-'));
  scratch.push(root);
  const paths = ferryPaths({ FERRY_ROOT: root });
  fs.mkdirSync(paths.services, { recursive: true });
  const file = path.join(paths.services, 'web.env');
  fs.writeFileSync(file, content);
  return { paths, file };
};

test('parseAssignment / parseKeywordParam', (t) => {
  t.deepEqual(parseAssignment('app#1.start=/bin/sh -c "a=b; c"'), { section: 'app#1', key: 'start', scope: undefined, value: '/bin/sh -c "a=b; c"' });
  t.deepEqual(parseAssignment('orchestrate=ha'), { section: 'DEFAULT', key: 'orchestrate', scope: undefined, value: 'ha' });
  t.deepEqual(parseAssignment('DEFAULT.service_type@deb1.opensvc.com=DEV'), { section: 'DEFAULT', key: 'service_type', scope: 'deb1.opensvc.com', value: 'DEV' });
  t.deepEqual(parseKeywordParam('subset#container.docker:01app.parallel'), { section: 'subset#container.docker:01app', key: 'parallel', scope: undefined });
  t.deepEqual(parseKeywordParam('env.x'), { section: 'env', key: 'x', scope: undefined });
  t.deepEqual(parseAssignment('env.x='), { section: 'env', key: 'x', scope: undefined, value: '' });
  for (const bad of ['noequals', '=v', 'app#1.=v', '.x=1', 'a b=1', 'k@=1']) {
    t.throws(() => parseAssignment(bad), { instanceOf: UserError }, bad);
  }
});

test('validate config: exit 1 with errors, 0 with warnings only, one line per problem', (t) => {
  const { paths, file } = setup();
  const { exitCode, lines } = cmdValidateConfig(paths, 'web', 'node1');
  t.deepEqual({ exitCode, lines }, {
    exitCode: 0,
    lines: [`${file}:11: warning: trailing whitespace in the value of "start" is kept (values are used byte for byte)`],
  });
  fs.appendFileSync(file, '[app#2]\nstrat = x\nstart = {env.nope}\n');
  const r = cmdValidateConfig(paths, 'web', 'node1');
  t.is(r.exitCode, 1);
  t.deepEqual(r.lines.slice(1), [`${file}:14: unknown keyword "strat" in [app#2]`, `${file}:15: unknown reference {env.nope}: env.nope is not set`]);
  t.throws(() => cmdValidateConfig(paths, 'other', 'node1'), { instanceOf: UserError, message: /^service other does not exist/ });
});

test('print config: as is, json raw, evaluated for this node', (t) => {
  const { paths } = setup();
  t.is(cmdPrintConfig(paths, 'web', 'node1', { format: 'text', evaluate: false }), text);
  const raw = JSON.parse(cmdPrintConfig(paths, 'web', 'node2', { format: 'json', evaluate: false }));
  t.deepEqual(raw.DEFAULT, { nodes: 'node1 node2', orchestrate: 'start', 'service_type@node2': 'DEV' });
  t.is(raw['app#1'].start, '/bin/sh -c "cd {env.dir}; ./run"   ');
  const ev = JSON.parse(cmdPrintConfig(paths, 'web', 'node2', { format: 'json', evaluate: true }));
  t.is(ev.DEFAULT.service_type, 'DEV');
  t.is(ev.DEFAULT.rollback, true);
  t.deepEqual(ev.DEFAULT.nodes, ['node1', 'node2']);
  t.is(ev.env.dir, '/srv/web');
  t.is(ev['app#1'].start, '/bin/sh -c "cd /srv/web; ./run"   ');
  t.is(ev['app#1'].timeout, 90_000);
  t.is(ev['app#1'].type, 'forking');
  t.false(ev['app#1'].disable);
  const evText = cmdPrintConfig(paths, 'web', 'node1', { format: 'text', evaluate: true });
  t.regex(evText, /^\[DEFAULT\]\nnodes = node1 node2\n/);
  t.true(evText.includes('\ntimeout = 90s\n'));
  t.true(evText.includes('\nservice_type = PRD\n'));
});

test('print config --eval refuses an invalid file', (t) => {
  const { paths } = setup('[DEFAULT]\norchestrate = maybe\n');
  t.throws(() => cmdPrintConfig(paths, 'web', 'node1', { format: 'json', evaluate: true }), { instanceOf: ConfigInvalid });
});

test('get: raw value as written for this node, --eval resolved, defaults, errors', (t) => {
  const { paths, file } = setup();
  t.is(cmdGet(paths, 'web', 'node1', 'orchestrate'), 'start');
  t.is(cmdGet(paths, 'web', 'node1', 'DEFAULT.orchestrate'), 'start');
  t.is(cmdGet(paths, 'web', 'node1', 'service_type'), 'PRD');
  t.is(cmdGet(paths, 'web', 'node2', 'service_type'), 'DEV');
  t.is(cmdGet(paths, 'web', 'node1', 'DEFAULT.service_type@node2'), 'DEV');
  t.is(cmdGet(paths, 'web', 'node1', 'app#1.start'), '/bin/sh -c "cd {env.dir}; ./run"   ');
  t.is(cmdGet(paths, 'web', 'node1', 'app#1.start', { evaluate: true }), '/bin/sh -c "cd /srv/web; ./run"   ');
  t.is(cmdGet(paths, 'web', 'node1', 'app#1.timeout', { evaluate: true }), '90s');
  t.is(cmdGet(paths, 'web', 'node1', 'env.dir', { evaluate: true }), '/srv/web');
  t.is(cmdGet(paths, 'web', 'node1', 'app#1.type'), 'forking');
  t.throws(() => cmdGet(paths, 'web', 'node1', 'app#2.start'), { instanceOf: UserError, message: `no section [app#2] in ${file}` });
  t.throws(() => cmdGet(paths, 'web', 'node1', 'app#1.strat'), { instanceOf: UserError, message: 'unknown keyword "strat" in [app#1]' });
  t.throws(() => cmdGet(paths, 'web', 'node1', 'nope#1.x'), { instanceOf: UserError, message: /^unknown section \[nope#1\]/ });
  t.throws(() => cmdGet(paths, 'web', 'node1', 'comment'), { instanceOf: UserError, message: `comment is not set in ${file}` });
});

test('set rewrites in place and appends, keeping the rest byte for byte', async (t) => {
  const { paths, file } = setup();
  await cmdSet(paths, 'web', 'node1', [parseAssignment('orchestrate=ha'), parseAssignment('app#1.stop=/bin/sh -c "x; y"')]);
  t.is(fs.readFileSync(file, 'utf8'), text.replace('orchestrate = start', 'orchestrate = ha').replace('timeout = 90s\n', 'timeout = 90s\nstop = /bin/sh -c "x; y"\n'));
  await cmdUnset(paths, 'web', 'node1', ['app#1.stop']);
  t.is(fs.readFileSync(file, 'utf8'), text.replace('orchestrate = start', 'orchestrate = ha'));
});

test('set/unset refuse a result with new errors and leave the file byte-identical', async (t) => {
  const { paths, file } = setup();
  const refused = async (f: () => Promise<void>, message: RegExp) => {
    await t.throwsAsync(f, { instanceOf: UserError, message });
    t.is(fs.readFileSync(file, 'utf8'), text);
  };
  await refused(() => cmdSet(paths, 'web', 'node1', [parseAssignment('orchestrate=maybe')]), new RegExp(`^refused, the file would become invalid: ${file}:4: bad value "maybe" for orchestrate`));
  await refused(() => cmdSet(paths, 'web', 'node1', [parseAssignment('app#1.strat=x')]), /unknown keyword "strat" in \[app#1\]/);
  await refused(() => cmdSet(paths, 'web', 'node1', [parseAssignment('app#1.start={env.nope}')]), /unknown reference \{env.nope\}/);
  await refused(() => cmdSet(paths, 'web', 'node1', [parseAssignment('bogus#1.x=1')]), /unknown section \[bogus#1\]/);
  await refused(() => cmdSet(paths, 'web', 'node1', [parseAssignment('nodes@node1=x')]), /not scopable/);
  await refused(() => cmdUnset(paths, 'web', 'node1', ['env.dir']), /unknown reference \{env.dir\}/);
  await refused(() => cmdUnset(paths, 'web', 'node1', ['app#1.strat']), /unknown keyword "strat"/);
  await refused(() => cmdSet(paths, 'web', 'node1', [parseAssignment('env.x=a\n\nb')]), /empty line/);
  t.deepEqual(fs.readdirSync(path.dirname(file)), ['web.env']);
});

test('a file with errors can still be fixed with set and unset', async (t) => {
  const broken = '[DEFAULT]\norchestrate = maybe\n[app#1]\nstrat = x\n';
  const { paths, file } = setup(broken);
  await cmdSet(paths, 'web', 'node1', [parseAssignment('orchestrate=ha')]);
  await cmdUnset(paths, 'web', 'node1', ['app#1.strat']);
  t.is(fs.readFileSync(file, 'utf8'), '[DEFAULT]\norchestrate = ha\n[app#1]\n');
  t.is(cmdValidateConfig(paths, 'web', 'node1').exitCode, 0);
});

test('a service given as a path to its .env file', (t) => {
  const { paths, file } = setup();
  t.is(cmdGet(paths, file, 'node1', 'orchestrate'), 'start');
  t.is(cmdGet(ferryPaths({}), file, 'node1', 'orchestrate'), 'start');
});
