// ip resources of type netns live in a container's namespace: they start after the
// containers and stop before them; host ips keep starting first.
import test from 'ava';
import { startPlan, stopPlan } from '../../src/service/ordering.js';
import type { ServiceResource } from '../../src/service/resources.js';
import type { ResourceKind } from '../../src/resources/types.js';
import { noTriggers } from '../../src/service/triggers.js';

function res(rid: string, kind: ResourceKind, type: string): ServiceResource {
  return {
    rid, section: kind, kind, type, subset: undefined, optional: false, disabled: false, monitored: false, encap: false, restart: 0, monitorAction: 'none', depth: 0, triggers: noTriggers, requires: { start: [], stop: [] },
    impl: { rid, kind, start: async () => {}, stop: async () => {}, status: async () => ({ status: 'n/a', label: '', messages: [] }) },
  };
}

const order = (stages: ReturnType<typeof startPlan>) => stages.flatMap((s) => s.members.map((m) => m.rid));

test('type netns ips start after the containers, before the apps, and stop before the containers', (t) => {
  const rs = [res('app#1', 'app', 'simple'), res('ip#2', 'ip', 'netns'), res('container#1', 'container', 'docker'), res('ip#1', 'ip', 'host'), res('fs#1', 'fs', 'ext4')];
  t.deepEqual(order(startPlan(rs, [])), ['ip#1', 'fs#1', 'container#1', 'ip#2', 'app#1']);
  t.deepEqual(order(stopPlan(rs, [])), ['app#1', 'ip#2', 'container#1', 'fs#1', 'ip#1']);
});
