// The relocate command's downtime: the old owner's stop start → the target's resources
// started (servingAt, a container from running), not → the target publishing up.
import test from 'ava';
import { transferOf } from '../../src/cli/relocate.js';
import { servingAtOf, type ActionReport } from '../../src/service/actions.js';
import type { ClusterView } from '../../src/daemon/control-protocol.js';

const tr = { intent: 'i1', target: 'n2', ok: true, phase1: { passes: 2, bytes: 10, fileBytes: 10, ms: 900 }, stoppedAt: 10_000, stopMs: 200, phase2: { bytes: 5, fileBytes: 5, ms: 150 }, finalAt: 10_400 };
const viewWith = (started: number | undefined): ClusterView =>
  ({
    nodes: {
      n1: { payload: { services: { s: { transfer: tr } } } },
      n2: { payload: { services: { s: { data: { 'sync#1': { current: true, why: '', maxDelayMs: 0, sent: {}, ...(started !== undefined ? { started } : {}) } } } } } },
    },
  }) as unknown as ClusterView;

test('downtime ends when the target began to serve; upMs when it was seen up', (t) => {
  const x = transferOf(viewWith(10_700), 's', 'i1', 'n2', 11_400);
  t.like(x, { downtimeMs: 700, upMs: 1400, stopMs: 200 });
});

test('a start stamp from before the stop (an older start) or missing: the downtime ends at up', (t) => {
  t.like(transferOf(viewWith(9_000), 's', 'i1', 'n2', 11_400), { downtimeMs: 1400, upMs: 1400 });
  t.like(transferOf(viewWith(undefined), 's', 'i1', 'n2', 11_400), { downtimeMs: 1400, upMs: 1400 });
});

test('another intent: no transfer', (t) => {
  t.is(transferOf(viewWith(10_700), 's', 'other', 'n2', 11_400), undefined);
});

test('servingAtOf: the last servingAt of the resources the start changed', (t) => {
  const report: ActionReport = {
    action: 'start', ok: true, rolledBack: [], rollbackFailures: [],
    outcomes: [
      { rid: 'fs#1', action: 'start', ok: true, changed: true, startedAt: 1, endedAt: 5, servingAt: 5 },
      { rid: 'container#1', action: 'start', ok: true, changed: true, startedAt: 5, endedAt: 600, servingAt: 90 },
      { rid: 'ip#1', action: 'start', ok: true, changed: false, startedAt: 600, endedAt: 700 },
    ],
  };
  t.is(servingAtOf(report), 90);
  t.is(servingAtOf({ ...report, outcomes: [] }), undefined);
});
