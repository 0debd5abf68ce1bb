// The services shipped in services/ (seed 003, de-indented) validate against the real
// driver tables, and `set orchestrate=ha` works on them as in the seed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import { buildServiceConfig } from '../../src/config/load.js';
import { cmdGet, cmdSet, parseAssignment } from '../../src/cli/config-commands.js';
import { ferryPaths } from '../../src/paths.js';
import { repoRoot } from '../helpers/env.js';
import { drivers } from '../../src/resources/registry.js';

const names = ['registry.opensvc.com', 'busybox.opensvc.com'];
const read = (name: string) => {
  const file = path.join(repoRoot, 'services', `${name}.env`);
  return { file, text: fs.readFileSync(file, 'utf8') };
};

for (const name of names) {
  test(`${name} validates with no error and no warning on both nodes`, (t) => {
    const { file, text } = read(name);
    for (const nodename of ['deb1.opensvc.com', 'deb2.opensvc.com']) {
      const r = validateText(text, file, { svcname: name, nodename, drivers });
      t.deepEqual(r.errors.map(String), []);
      t.deepEqual(r.warnings.map(String), []);
    }
  });
}

test('registry.opensvc.com loads with v1 aliases mapped to the driver keywords', (t) => {
  const { file, text } = read('registry.opensvc.com');
  const r = buildServiceConfig(text, file, { svcname: 'registry.opensvc.com', nodename: 'deb1.opensvc.com', drivers });
  const c = r.config!;
  t.deepEqual(c.resources.map((x) => x.rid), ['container#1', 'ip#1', 'vg#1', 'fs#1', 'fs#2', 'fs#3']);
  const byRid = new Map(c.resources.map((x) => [x.rid, x]));
  t.is(byRid.get('container#1')!.type, 'docker');
  t.is(byRid.get('container#1')!.kw.string('image'), 'de9a91835513');
  t.is(byRid.get('ip#1')!.kw.string('name'), 'registry.opensvc.com');
  t.is(byRid.get('ip#1')!.kw.string('dev'), 'eth0');
  t.is(byRid.get('vg#1')!.kw.string('name'), 'vgregistry');
  t.is(byRid.get('fs#1')!.type, 'ext4');
});

test('busybox.opensvc.com subsets', (t) => {
  const { file, text } = read('busybox.opensvc.com');
  const c = buildServiceConfig(text, file, { svcname: 'busybox.opensvc.com', nodename: 'deb1.opensvc.com', drivers }).config!;
  t.deepEqual(c.subsets.map((s) => [s.group, s.type, s.name, s.parallel]), [
    ['container', 'docker', '01appservers', true],
    ['container', 'docker', '02webservers', false],
  ]);
  t.is(c.resources.find((x) => x.rid === 'vg#1')!.kw.boolean('scsi_reserve'), false);
});

test('svcmgr -s registry.opensvc.com set orchestrate=ha (seed 003)', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-shipped-'));
  const paths = ferryPaths({ FERRY_ROOT: root });
  fs.mkdirSync(paths.services, { recursive: true });
  const { text } = read('registry.opensvc.com');
  const file = path.join(paths.services, 'registry.opensvc.com.env');
  fs.writeFileSync(file, text);
  await cmdSet(paths, 'registry.opensvc.com', 'deb1.opensvc.com', [parseAssignment('orchestrate=ha')]);
  t.is(fs.readFileSync(file, 'utf8'), text.replace('orchestrate = start', 'orchestrate = ha'));
  t.is(cmdGet(paths, 'registry.opensvc.com', 'deb1.opensvc.com', 'orchestrate'), 'ha');
  fs.rmSync(root, { recursive: true });
});
