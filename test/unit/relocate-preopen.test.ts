// The two-phase relocation with the final push's stream pre-opened (src/service/data.ts): the
// stream is opened before the stop; a stop that fails (a report, or a throw) closes it and
// pushes nothing; after a good stop the pre-opened push is the one used. The resource's push
// and prepareFinal are replaced by recorders on a real service's real data resource.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ferryPaths } from '../../src/paths.js';
import { relocateWithData } from '../../src/service/data.js';
import { Service } from '../../src/service/service.js';
import type { ActionReport } from '../../src/service/actions.js';
import type { DataSync, PushResult } from '../../src/resources/types.js';

function setup(t: import('ava').ExecutionContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-preopen-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const paths = ferryPaths({ FERRY_ROOT: dir });
  fs.mkdirSync(paths.services, { recursive: true });
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(paths.services, 's1.env'), `[DEFAULT]\nnodes = n1 n2\n\n[sync#1]\ntype = rsync\nsrc = ${dir}/data\n`);
  const svc = Service.open(paths, 's1', 'n1');
  const data = svc.resources.find((r) => r.rid === 'sync#1')!.impl.data! as DataSync & Record<string, unknown>;
  const calls: string[] = [];
  const result = (final: boolean): PushResult => ({ peer: 'n2', at: Date.now(), ms: 1, bytes: final ? 10 : 5, fileBytes: final ? 10 : 5 });
  data.push = async (peer, _dst, final) => {
    calls.push(`push ${peer} ${final ? 'final' : 'pass'}`);
    return result(final);
  };
  data.prepareFinal = async (peer) => {
    calls.push(`preopen ${peer}`);
    return {
      push: async () => {
        calls.push('preopened push');
        return result(true);
      },
      cancel: () => calls.push('cancel'),
    };
  };
  return { svc, calls, data };
}

const report = (ok: boolean): ActionReport => ({ action: 'stop', ok, outcomes: [], rolledBack: [], rollbackFailures: [], ...(ok ? {} : { failed: { rid: 'container#1', error: 'docker stop: timeout' } }) });

test('a good stop: the stream opened before it is the final push, nothing cancelled', async (t) => {
  const s = setup(t);
  const { transfer } = await relocateWithData(s.svc, 'i1', 'n2', async () => {
    s.calls.push('stop');
    return report(true);
  });
  t.true(transfer.ok);
  t.deepEqual(s.calls, ['push n2 pass', 'preopen n2', 'stop', 'preopened push']);
  t.is(transfer.phase2?.bytes, 10);
});

test('a stop that fails: the pre-opened stream is closed, nothing is pushed as final', async (t) => {
  const s = setup(t);
  const { report: r, transfer } = await relocateWithData(s.svc, 'i1', 'n2', async () => {
    s.calls.push('stop');
    return report(false);
  });
  t.false(r!.ok);
  t.false(transfer.ok);
  t.deepEqual(s.calls, ['push n2 pass', 'preopen n2', 'stop', 'cancel']);
});

test('a stop that throws: closed too, the error goes on', async (t) => {
  const s = setup(t);
  await t.throwsAsync(
    relocateWithData(s.svc, 'i1', 'n2', async () => {
      s.calls.push('stop');
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  t.deepEqual(s.calls, ['push n2 pass', 'preopen n2', 'stop', 'cancel']);
});

test('a stream that cannot be pre-opened: the final push is made the ordinary way after the stop', async (t) => {
  const s = setup(t);
  s.data.prepareFinal = async () => {
    s.calls.push('preopen refused');
    throw new Error('n2 refused');
  };
  const { transfer } = await relocateWithData(s.svc, 'i1', 'n2', async () => {
    s.calls.push('stop');
    return report(true);
  });
  t.true(transfer.ok);
  t.deepEqual(s.calls, ['push n2 pass', 'preopen refused', 'stop', 'push n2 final']);
});
