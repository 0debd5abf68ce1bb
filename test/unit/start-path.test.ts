// The start path of a takeover (issue 11): host addresses start beside the disk and fs starts,
// everything after fs waits for both, a failure in either branch rolls back what both brought
// up; the duplicate-address probe's window and arping's verdict; the previous owner's proof.
import test from 'ava';
import { silentLogger } from '../../src/log.js';
import { startResources } from '../../src/service/actions.js';
import { splitStartPlan, startPlan, storageMayStartBesideAddress } from '../../src/service/ordering.js';
import type { ServiceResource } from '../../src/service/resources.js';
import { noTriggers } from '../../src/service/triggers.js';
import type { Resource, ResourceKind, StartOptions, StatusReport } from '../../src/resources/types.js';
import { arpingOutcome } from '../../src/resources/ip-tools.js';
import { probeWindowMs } from '../../src/resources/ip.js';
import { priorOwnerOf } from '../../src/cluster/prior-owner.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Spec {
  rid: string;
  kind: ResourceKind;
  /** ms the start takes */
  ms?: number;
  fail?: boolean;
  requires?: string;
  /** the start goes on only once this call is recorded (or 5 s passed): an order, not a timing */
  until?: string;
}

function fake(s: Spec, calls: string[], seen: StartOptions[] = []): ServiceResource {
  let up = false;
  const impl: Resource = {
    rid: s.rid,
    kind: s.kind,
    async start(opts?: StartOptions) {
      seen.push(opts ?? {});
      calls.push(`${s.rid} start`);
      await tick(s.ms ?? 1);
      for (const end = Date.now() + 5_000; s.until !== undefined && !calls.includes(s.until) && Date.now() < end; ) await tick(5);
      if (s.fail) {
        calls.push(`${s.rid} fails`);
        throw new Error(`${s.rid}: 10.0.0.1 already answers on the network through eth0: refusing to start a duplicate address`);
      }
      up = true;
      calls.push(`${s.rid} up`);
    },
    async stop() {
      up = false;
      calls.push(`${s.rid} stop`);
    },
    async status(): Promise<StatusReport> {
      return { status: up ? 'up' : 'down', label: '', messages: [] };
    },
  };
  return {
    rid: s.rid, section: s.kind, kind: s.kind, type: s.kind === 'ip' ? 'host' : '', subset: undefined, optional: false, disabled: false, monitored: false, encap: false,
    restart: 0, monitorAction: 'none', depth: 0, triggers: noTriggers, requires: { start: s.requires ? [{ rid: s.requires, states: ['up'] }] : [], stop: [] }, impl,
  } as ServiceResource;
}

test('with the previous owner fenced, the address starts beside disk and fs; the app waits for both', async (t) => {
  const calls: string[] = [];
  const rs = [fake({ rid: 'ip#1', kind: 'ip', until: 'fs#1 up' }, calls), fake({ rid: 'disk#1', kind: 'disk' }, calls), fake({ rid: 'fs#1', kind: 'fs' }, calls), fake({ rid: 'app#1', kind: 'app' }, calls)];
  const r = await startResources(rs, [], { rollback: true, log: silentLogger(), prior: 'fenced' });
  t.true(r.ok);
  // the storage came up while the address was still starting (its probe)
  t.true(calls.indexOf('fs#1 up') < calls.indexOf('ip#1 up'), calls.join(', '));
  t.true(calls.indexOf('disk#1 start') < calls.indexOf('ip#1 up'));
  t.true(calls.indexOf('app#1 start') > calls.indexOf('ip#1 up'));
  t.true(calls.indexOf('app#1 start') > calls.indexOf('fs#1 up'));
});

test('a duplicate address found while the storage starts rolls back everything both branches brought up', async (t) => {
  const calls: string[] = [];
  const rs = [fake({ rid: 'ip#1', kind: 'ip', fail: true, until: 'fs#1 up' }, calls), fake({ rid: 'disk#1', kind: 'disk' }, calls), fake({ rid: 'fs#1', kind: 'fs' }, calls), fake({ rid: 'app#1', kind: 'app' }, calls)];
  const r = await startResources(rs, [], { rollback: true, log: silentLogger(), prior: 'fenced' });
  t.false(r.ok);
  t.is(r.failed?.rid, 'ip#1');
  t.false(calls.includes('app#1 start'));
  // stop plan order: fs, disk, then the failed ip (its start may have half-applied)
  t.deepEqual(calls.filter((c) => c.endsWith('stop')), ['fs#1 stop', 'disk#1 stop', 'ip#1 stop']);
  t.deepEqual(r.rolledBack.sort(), ['disk#1', 'fs#1', 'ip#1']);
  t.deepEqual(r.rollbackFailures, []);
});

test('a storage failure waits for the address start, then rolls back both', async (t) => {
  const calls: string[] = [];
  const rs = [fake({ rid: 'ip#1', kind: 'ip', until: 'fs#1 fails' }, calls), fake({ rid: 'disk#1', kind: 'disk' }, calls), fake({ rid: 'fs#1', kind: 'fs', fail: true }, calls), fake({ rid: 'app#1', kind: 'app' }, calls)];
  const r = await startResources(rs, [], { rollback: true, log: silentLogger(), prior: 'fenced' });
  t.false(r.ok);
  t.is(r.failed?.rid, 'fs#1');
  t.true(calls.indexOf('ip#1 up') < calls.indexOf('ip#1 stop'));
  t.deepEqual(calls.filter((c) => c.endsWith('stop')), ['fs#1 stop', 'disk#1 stop', 'ip#1 stop']);
});

test('without proof that the previous owner is gone, the plan runs in order: a duplicate address stops the start before any storage is touched', async (t) => {
  const calls: string[] = [];
  const rs = [fake({ rid: 'ip#1', kind: 'ip', fail: true }, calls), fake({ rid: 'disk#1', kind: 'disk' }, calls), fake({ rid: 'fs#1', kind: 'fs' }, calls), fake({ rid: 'app#1', kind: 'app' }, calls)];
  const r = await startResources(rs, [], { rollback: true, log: silentLogger() });
  t.false(r.ok);
  t.is(r.failed?.rid, 'ip#1');
  t.deepEqual(calls.filter((c) => !c.startsWith('ip#1')), [], calls.join(', '));
  t.true(storageMayStartBesideAddress('fenced'));
  t.true(storageMayStartBesideAddress('handover'));
  t.false(storageMayStartBesideAddress(undefined));
});

test('the plan is cut only when nothing ties the branches together', (t) => {
  const calls: string[] = [];
  const plan = (specs: Spec[]) => startPlan(specs.map((s) => fake(s, calls)), []);
  const split = splitStartPlan(plan([{ rid: 'ip#1', kind: 'ip' }, { rid: 'ip#2', kind: 'ip' }, { rid: 'fs#1', kind: 'fs' }, { rid: 'app#1', kind: 'app' }]));
  t.deepEqual(split && [split.address, split.beside, split.rest].map((ss) => ss.flatMap((s) => s.members.map((m) => m.rid))), [['ip#1', 'ip#2'], ['fs#1'], ['app#1']]);
  // nothing to run beside the address
  t.is(splitStartPlan(plan([{ rid: 'ip#1', kind: 'ip' }, { rid: 'app#1', kind: 'app' }])), undefined);
  // a fs that requires the address up keeps the plan order
  t.is(splitStartPlan(plan([{ rid: 'ip#1', kind: 'ip' }, { rid: 'fs#1', kind: 'fs', requires: 'ip#1' }])), undefined);
  t.is(splitStartPlan(plan([{ rid: 'ip#1', kind: 'ip', requires: 'disk#1' }, { rid: 'disk#1', kind: 'disk' }])), undefined);
});

test('prior reaches the drivers', async (t) => {
  const seen: StartOptions[] = [];
  const r = await startResources([fake({ rid: 'ip#1', kind: 'ip' }, [], seen)], [], { rollback: true, log: silentLogger(), force: true, prior: 'fenced' });
  t.true(r.ok);
  // (no trigger ran between the action's status read and the start)
  t.deepEqual(seen, [{ force: true, checkedNotUp: true, prior: 'fenced' }]);
});

test('probe window: shorter only with a proven prior owner, never longer than the full one', (t) => {
  t.is(probeWindowMs(undefined, 200, 50), 200);
  t.is(probeWindowMs('fenced', 200, 50), 50);
  t.is(probeWindowMs('handover', 200, 50), 50);
  t.is(probeWindowMs('handover', 40, 50), 40);
});

test('arping verdict from its statistics line or its exit', (t) => {
  t.is(arpingOutcome('ARPING 10.0.0.1\n\n--- 10.0.0.1 statistics ---\n3 packets transmitted, 0 packets received, 100% unanswered (0 extra)\n', undefined, ''), 'none');
  t.is(arpingOutcome('ARPING 10.0.0.1\n42 bytes from b6:2e:d8:59:a3:93 (10.0.0.1): index=0 time=11.646 usec\n\n--- 10.0.0.1 statistics ---\n1 packets transmitted, 1 packets received,   0% unanswered (0 extra)\n', undefined, ''), 'reply');
  // nothing conclusive yet
  t.is(arpingOutcome('ARPING 10.0.0.1\n', undefined, ''), undefined);
  // an error: never "nobody has it"
  t.is(arpingOutcome('', 1, 'arping: libnet_init(LIBNET_LINK, nosuch): libnet_check_iface() ioctl: No such device'), 'error');
  t.is(arpingOutcome('1 packets transmitted, 0 packets received', undefined, 'arping: something'), undefined);
  t.is(arpingOutcome('', 0, ''), 'reply');
  t.is(arpingOutcome('', 1, ''), 'none');
});

test('prior owner: handover only for a relocation with nobody down, fenced only when every down node was', (t) => {
  const fenced = (n: string) => n === 'n1';
  t.is(priorOwnerOf([], fenced, true), 'handover');
  t.is(priorOwnerOf(['n1'], fenced, true), undefined);
  t.is(priorOwnerOf(['n1'], fenced, false), 'fenced');
  t.is(priorOwnerOf(['n1', 'n3'], fenced, false), undefined);
  t.is(priorOwnerOf(['n2'], fenced, false), undefined);
  t.is(priorOwnerOf([], fenced, false), undefined);
});
