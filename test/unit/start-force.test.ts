// The force flag of a start reaches the drivers as start({ force }) — the daemon's orchestrated
// start and `svcmgr start --force` take shared disks over, a plain start does not — and the
// rollback of a failed start is a plain stop.
import test from 'ava';
import { silentLogger } from '../../src/log.js';
import { startResources } from '../../src/service/actions.js';
import type { ServiceResource } from '../../src/service/resources.js';
import { noTriggers } from '../../src/service/triggers.js';
import type { Resource, StartOptions, StatusReport } from '../../src/resources/types.js';

function fake(rid: string, calls: string[], fail = false): ServiceResource {
  const impl: Resource = {
    rid,
    kind: 'disk',
    async start(opts?: StartOptions) {
      calls.push(`${rid} start force=${String(opts?.force)}`);
      if (fail) throw new Error('disk /dev/sdb of vg vg1 is reserved by key 0x1 (another node): not preempting it without --force');
    },
    async stop() {
      calls.push(`${rid} stop`);
    },
    async status(): Promise<StatusReport> {
      return { status: 'down', label: '', messages: [] };
    },
  };
  return { rid, section: 'disk', kind: 'disk', type: '', subset: undefined, optional: false, disabled: false, monitored: false, encap: false, restart: 0, monitorAction: 'none', depth: 0, triggers: noTriggers, requires: { start: [], stop: [] }, impl };
}

test('start passes force to every driver; default false', async (t) => {
  for (const force of [true, false, undefined]) {
    const calls: string[] = [];
    const r = await startResources([fake('disk#1', calls), fake('disk#2', calls)], [], { rollback: true, log: silentLogger(), force });
    t.true(r.ok);
    t.deepEqual(calls, [`disk#1 start force=${String(force ?? false)}`, `disk#2 start force=${String(force ?? false)}`]);
  }
});

test('an unforced start refused by a driver fails with its one line and rolls back with a plain stop', async (t) => {
  const calls: string[] = [];
  const r = await startResources([fake('disk#1', calls, true)], [], { rollback: true, log: silentLogger() });
  t.false(r.ok);
  t.is(r.failed?.error, 'disk /dev/sdb of vg vg1 is reserved by key 0x1 (another node): not preempting it without --force');
  t.deepEqual(calls, ['disk#1 start force=false', 'disk#1 stop']);
});
