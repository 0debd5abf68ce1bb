// This node's SCSI PR key file: generated once, then kept; 0600; atomic (no temp file left).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ferryPaths } from '../../src/paths.js';
import { newPrKey, nodePrKey, prKeyFile, storedPrKey } from '../../src/resources/scsi-pr-key.js';

function scratch(t: { teardown: (f: () => void) => void }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-prkey-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  return ferryPaths({ FERRY_ROOT: root });
}

test('a new key is 0x + 16 hex digits (8 random bytes), never zero, different each time', (t) => {
  const keys = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const k = newPrKey();
    t.regex(k, /^0x[0-9a-f]{16}$/);
    t.not(BigInt(k), 0n);
    keys.add(k);
  }
  t.is(keys.size, 50);
});

test('generated on first use into <var>/scsi_pr_key with mode 0600, then reused', (t) => {
  const paths = scratch(t);
  t.is(storedPrKey(paths), undefined, 'no key before first use');
  t.false(fs.existsSync(paths.var), 'reading does not create anything');
  const old = process.umask(0o022);
  let k1: string;
  try {
    k1 = nodePrKey(paths);
  } finally {
    process.umask(old);
  }
  const file = prKeyFile(paths);
  t.is(file, path.join(paths.var, 'scsi_pr_key'));
  t.is(fs.readFileSync(file, 'utf8'), `${k1}\n`);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.is(nodePrKey(paths), k1, 'kept: the same key on every later call');
  t.is(storedPrKey(paths), k1);
  t.deepEqual(fs.readdirSync(paths.var), ['scsi_pr_key'], 'no temp file left behind');
});

test('an existing key file is used as it is (e.g. kept across reinstalls), case-insensitively', (t) => {
  const paths = scratch(t);
  fs.mkdirSync(paths.var, { recursive: true });
  fs.writeFileSync(prKeyFile(paths), '0x00C0FFEE00C0FFEE\n', { mode: 0o600 });
  t.is(nodePrKey(paths), '0x00c0ffee00c0ffee');
  t.is(fs.readFileSync(prKeyFile(paths), 'utf8'), '0x00C0FFEE00C0FFEE\n', 'never rewritten');
});

test('a damaged key file is an error naming the file, never silently replaced', (t) => {
  const paths = scratch(t);
  fs.mkdirSync(paths.var, { recursive: true });
  for (const bad of ['', 'hello', '0x', '0x0000000000000000', '0x1234567890abcdef01']) {
    fs.writeFileSync(prKeyFile(paths), bad);
    const e = t.throws(() => nodePrKey(paths));
    t.true(e?.message.startsWith(`${prKeyFile(paths)}: not a reservation key`), e?.message);
    t.is(fs.readFileSync(prKeyFile(paths), 'utf8'), bad);
  }
});

test('two processes generating at once end up with one key (link, not rename over)', async (t) => {
  const paths = scratch(t);
  const { spawn } = await import('node:child_process');
  const mod = new URL('../../src/resources/scsi-pr-key.js', import.meta.url).href;
  const script = `import { nodePrKey } from ${JSON.stringify(mod)}; import { ferryPaths } from ${JSON.stringify(new URL('../../src/paths.js', import.meta.url).href)};
process.stdout.write(nodePrKey(ferryPaths()));`;
  const one = () =>
    new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, FERRY_ROOT: paths.root } });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('error', reject);
      c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
  const keys = await Promise.all([one(), one(), one(), one()]);
  t.is(new Set(keys).size, 1, keys.join(' '));
  t.is(storedPrKey(paths), keys[0]);
});
