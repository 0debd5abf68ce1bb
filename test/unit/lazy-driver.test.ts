// Lazy drivers (src/resources/lazy-driver.ts): the implementation is loaded at the first use of
// a resource, once per driver; its optional methods are declared by the schema and must be the
// implementation's own.
import test from 'ava';
import { TableValues } from '../../src/config/values.js';
import { silentLogger } from '../../src/log.js';
import { ferryPaths } from '../../src/paths.js';
import { lazyDriver, type ResourceFactory } from '../../src/resources/lazy-driver.js';
import { findDriver } from '../../src/resources/registry.js';
import type { Resource, ResourceContext } from '../../src/resources/types.js';
import type { KeywordValue } from '../../src/vocab/keywords.js';
import { createResource as ip } from '../../src/resources/ip.js';
import { createResource as vg } from '../../src/resources/vg.js';
import { createResource as disk } from '../../src/resources/disk.js';
import { createResource as fsr } from '../../src/resources/fs.js';
import { createResource as container } from '../../src/resources/container.js';

function ctxOf(section: string, kw: Record<string, KeywordValue>): ResourceContext {
  const spec = findDriver(section)!;
  return { rid: `${section}#1`, svcname: 'lazy', nodename: 'n1', type: spec.types[0] ?? '', kw: TableValues.from(spec.keywords, kw), log: silentLogger(), paths: ferryPaths() };
}

const impls: [string, ResourceFactory, Record<string, KeywordValue>][] = [
  ['ip', ip, { ipname: '192.0.2.1', ipdev: 'eth0' }],
  ['vg', vg, { vgname: 'vg0' }],
  ['disk', disk, { disks: '/dev/sdz' }],
  ['fs', fsr, { dev: '/dev/sdz1', mnt: '/srv/x' }],
  ['container', container, { run_image: 'busybox' }],
];
for (const [section, make, kw] of impls) {
  test(`${section}: the lazy resource has the optional methods of the implementation, no others`, (t) => {
    const lazy = findDriver(section)!.create(ctxOf(section, kw));
    const real = make(ctxOf(section, kw));
    t.is(lazy.rid, real.rid);
    t.is(lazy.kind, real.kind);
    for (const m of ['prepareStart', 'devices', 'data', 'task'] as const) t.is(typeof lazy[m], typeof real[m], m);
    // a handover's release gate: the action awaits it unless the driver does (the ip driver, after its checks)
    t.is(lazy.awaitsRelease ?? false, real.awaitsRelease ?? false, 'awaitsRelease');
  });
}

function fake(): { loads: number; made: string[]; spec: ReturnType<typeof lazyDriver>; fail: boolean } {
  const o = { loads: 0, made: [] as string[], fail: false, spec: undefined as unknown as ReturnType<typeof lazyDriver> };
  o.spec = lazyDriver({
    section: 'x',
    kind: 'app',
    types: [],
    keywords: [],
    description: '',
    has: { devices: true },
    load: async () => {
      o.loads++;
      if (o.fail) throw new Error('no module');
      return (ctx): Resource => {
        o.made.push(ctx.rid);
        return {
          rid: ctx.rid,
          kind: 'app',
          start: async () => undefined,
          stop: async () => {
            throw new Error(`cannot stop ${ctx.rid}`);
          },
          status: async () => ({ status: 'up', label: ctx.rid, messages: [] }),
          devices: async () => ({ sub: [ctx.rid], exposed: [], reserved: [], messages: [] }),
        };
      };
    },
  });
  return o;
}

test('the implementation is loaded at the first use, once per driver; each resource made once', async (t) => {
  const f = fake();
  const c = (rid: string): ResourceContext => ({ ...ctxOf('ip', { ipname: 'a', ipdev: 'eth0' }), rid });
  const a = f.spec.create(c('x#1'));
  const b = f.spec.create(c('x#2'));
  t.is(f.loads, 0, 'creating loads nothing');
  t.is(a.prepareStart, undefined, 'not declared: absent');
  t.deepEqual(await a.status(), { status: 'up', label: 'x#1', messages: [] });
  t.deepEqual((await a.devices!()).sub, ['x#1']);
  await a.start();
  t.deepEqual(await b.status(), { status: 'up', label: 'x#2', messages: [] });
  t.is(f.loads, 1);
  t.deepEqual(f.made, ['x#1', 'x#2']);
  await t.throwsAsync(b.stop(), { message: 'cannot stop x#2' });
});

test('an implementation that cannot be loaded: status says so (it never throws), actions fail', async (t) => {
  const f = fake();
  f.fail = true;
  const a = f.spec.create({ ...ctxOf('ip', { ipname: 'a', ipdev: 'eth0' }), rid: 'x#1' });
  t.deepEqual(await a.status(), { status: 'undef', label: '', messages: ['no module'] });
  await t.throwsAsync(a.start(), { message: 'no module' });
});
