// svcmgr create / delete / edit config on real files under a fresh FERRY_ROOT: validated
// before anything is written, refused with file:line errors and nothing changed, a delete
// leaves a tombstone generation (replicated by the daemons).
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { cmdCreate, cmdDelete, cmdEditConfig } from '../../src/cli/create-delete-commands.js';
import { ConfigInvalid } from '../../src/config/errors.js';
import { readGen, DELETED_SUM } from '../../src/config/generation.js';
import { UserError } from '../../src/vocab/errors.js';
import { ferryPaths } from '../../src/paths.js';
import { makeFerryRoot } from '../helpers/env.js';

const O = { waitLockMs: 2_000 };

function setup(t: { teardown: (f: () => void) => void }) {
  const r = makeFerryRoot();
  t.teardown(() => r.cleanup());
  return ferryPaths({ FERRY_ROOT: r.root });
}

test('create from keywords and from a file; an existing service or an invalid file is refused, nothing written', async (t) => {
  const paths = setup(t);
  await cmdCreate(paths, 'web', 'n1', { kw: ['nodes=n1 n2', 'orchestrate=ha'] }, O);
  t.is(fs.readFileSync(path.join(paths.services, 'web.env'), 'utf8'), '[DEFAULT]\nnodes = n1 n2\norchestrate = ha\n');
  await t.throwsAsync(cmdCreate(paths, 'web', 'n1', { kw: ['nodes=n1'] }, O), { instanceOf: UserError, message: /already exists/ });
  const bad = path.join(paths.etc, 'bad.env');
  fs.writeFileSync(bad, '[DEFAULT]\nnodes = n1\norchestrate = sometimes\n');
  const e = await t.throwsAsync(cmdCreate(paths, 'db', 'n1', { config: bad }, O), { instanceOf: ConfigInvalid });
  t.regex(e!.errors[0]!.toString(), new RegExp(`^${bad}:3: `));
  t.false(fs.existsSync(path.join(paths.services, 'db.env')));
  const good = path.join(paths.etc, 'good.env');
  fs.writeFileSync(good, '# kept byte for byte\n[DEFAULT]\nnodes = n1\r\n');
  await cmdCreate(paths, 'db', 'n1', { config: good }, O);
  t.deepEqual(fs.readFileSync(path.join(paths.services, 'db.env')), fs.readFileSync(good));
});

test('edit config: an invalid result is refused with file:line and changes nothing; a valid one is installed', async (t) => {
  const paths = setup(t);
  // the refused copy is kept for the operator: under the test's root here
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = paths.var;
  fs.mkdirSync(paths.var, { recursive: true });
  t.teardown(() => (tmpdir === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = tmpdir)));
  await cmdCreate(paths, 'web', 'n1', { kw: ['nodes=n1', 'orchestrate=no'] }, O);
  const file = path.join(paths.services, 'web.env');
  const before = fs.readFileSync(file, 'utf8');
  const e = await t.throwsAsync(cmdEditConfig(paths, 'web', 'n1', O, { EDITOR: "sed -i 's/orchestrate = no/orchestrate = nope/'" }), { instanceOf: ConfigInvalid });
  t.regex(e!.errors[0]!.toString(), /web\.env:3: /);
  t.is(fs.readFileSync(file, 'utf8'), before);
  t.is(await cmdEditConfig(paths, 'web', 'n1', O, { EDITOR: 'true' }), 'no change');
  t.is(await cmdEditConfig(paths, 'web', 'n1', O, { EDITOR: "sed -i 's/orchestrate = no/orchestrate = ha/'" }), 'installed');
  t.is(fs.readFileSync(file, 'utf8'), before.replace('orchestrate = no', 'orchestrate = ha'));
  await t.throwsAsync(cmdEditConfig(paths, 'web', 'n1', O, { EDITOR: 'false' }), { instanceOf: UserError, message: /nothing changed/ });
});

test('delete removes the file and records a tombstone generation', async (t) => {
  const paths = setup(t);
  await cmdCreate(paths, 'web', 'n1', { kw: ['nodes=n1 n2'] }, O);
  await cmdDelete(paths, 'web', 'n1', O);
  t.false(fs.existsSync(path.join(paths.services, 'web.env')));
  const g = readGen(paths, 'web');
  t.is(g?.sum, DELETED_SUM);
  t.true(g?.deleted);
  t.is(g?.hist.length, 1);
  await t.throwsAsync(cmdDelete(paths, 'web', 'n1', O), { instanceOf: UserError, message: /does not exist/ });
});
