// The fence agents' metadata survives a daemon restart: a real agent executable (a shell
// script counting how often it is asked) answers once per version of itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { agentActions, metadataCache } from '../../src/fence/agent.js';

function agentDir(t: { teardown: (f: () => void) => void }): { dir: string; agent: string; asked: () => number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fmeta-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const agent = path.join(dir, 'fence_counting');
  const count = path.join(dir, 'asked');
  fs.writeFileSync(agent, `#!/bin/sh\nread line\n[ "$line" = action=metadata ] && echo x >> ${count}\necho '<resource-agent><actions><action name="off"/><action name="status"/></actions></resource-agent>'\n`, { mode: 0o755 });
  return { dir, agent, asked: () => (fs.existsSync(count) ? fs.readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0) };
}

// one process-wide cache: the tests take turns
test.serial('asked once, then answered from the file after a restart; a new version is asked again', async (t) => {
  const { dir, agent, asked } = agentDir(t);
  const file = path.join(dir, 'fence-metadata.json');
  const cfg = { node: 'n2', agent, params: {}, timeout: 5000 };
  metadataCache.persistIn(file);
  t.deepEqual([...(await agentActions(cfg))!].sort(), ['off', 'status']);
  await agentActions(cfg);
  t.is(asked(), 1);
  t.true(fs.existsSync(file));
  // a restarted daemon: an empty memory, the same file
  metadataCache.persistIn(path.join(dir, 'elsewhere.json'));
  metadataCache.persistIn(file);
  t.deepEqual([...(await agentActions(cfg))!].sort(), ['off', 'status']);
  t.is(asked(), 1, 'the restarted daemon did not run the agent for its metadata');
  // the agent upgraded (another size): its metadata may have changed
  fs.appendFileSync(agent, '# v2\n');
  await agentActions(cfg);
  t.is(asked(), 2);
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  t.is(Object.keys(doc).length, 1, 'the old version entry was replaced');
});

test.serial('a malformed or foreign cache file is ignored and rewritten', async (t) => {
  const { dir, agent, asked } = agentDir(t);
  const file = path.join(dir, 'fence-metadata.json');
  fs.writeFileSync(file, '{"torn": [');
  metadataCache.persistIn(file);
  const cfg = { node: 'n2', agent, params: {}, timeout: 5000 };
  t.deepEqual([...(await agentActions(cfg))!].sort(), ['off', 'status']);
  t.is(asked(), 1);
  t.notThrows(() => JSON.parse(fs.readFileSync(file, 'utf8')));
  // a FIFO in its place never blocks the daemon
  fs.rmSync(file);
  const fifo = file;
  await import('node:child_process').then((cp) => cp.execFileSync('mkfifo', [fifo]));
  metadataCache.persistIn(path.join(dir, 'x.json'));
  metadataCache.persistIn(fifo);
  t.deepEqual([...(await agentActions(cfg))!].sort(), ['off', 'status']);
  t.is(asked(), 2);
});
