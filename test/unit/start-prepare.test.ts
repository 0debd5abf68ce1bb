// The daemon's prepared takeovers: prepared for the services the orchestrator would take over,
// undone when the peer is heard again, when the action ends, at the time to live; never twice.
import test from 'ava';
import { pino } from 'pino';
import { StartPreparer } from '../../src/daemon/start-prepare.js';

function setup(wouldTakeOver: (peer: string) => string[], ttlMs = 10_000) {
  const events: Record<string, unknown>[] = [];
  const live = new Map<string, number>();
  let n = 0;
  const log = pino({ level: 'info' }, { write: (l: string) => void events.push(JSON.parse(l) as Record<string, unknown>) });
  const p = new StartPreparer({
    log,
    wouldTakeOver,
    ttlMs,
    prepare: async (svc) => {
      const id = ++n;
      live.set(svc, id);
      return { prepared: [`ip#1: probe ${id}`], cancel: () => live.get(svc) === id && live.delete(svc) };
    },
  });
  const phases = () => events.filter((e) => e.event === 'service.prepare').map((e) => `${String(e.svc)}:${String(e.phase)}${e.why ? `:${String(e.why)}` : ''}`);
  return { p, live, phases };
}
const tick = () => new Promise((r) => setTimeout(r, 20));

test('suspect: the services it would take over are prepared once; heard again: undone', async (t) => {
  const { p, live, phases } = setup((peer) => (peer === 'n1' ? ['web', 'db'] : []));
  p.suspect('n1', true);
  p.suspect('n1', true);
  p.suspect('n2', true);
  await tick();
  t.deepEqual([...live.keys()].sort(), ['db', 'web']);
  t.deepEqual(phases(), ['web:begin', 'db:begin']);
  p.suspect('n1', false);
  t.deepEqual([...live.keys()], []);
  t.deepEqual(phases().slice(2).sort(), ['db:cancel:the peer was heard again', 'web:cancel:the peer was heard again']);
});

test('the action ended or the time to live ran out: undone', async (t) => {
  const { p, live, phases } = setup(() => ['web', 'db'], 100);
  p.suspect('n1', true);
  await tick();
  p.actionEnded('web');
  t.deepEqual([...live.keys()], ['db']);
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual([...live.keys()], []);
  t.true(phases().includes('db:cancel:timed out'));
  p.stop();
});

test('undone while still preparing: what the preparation returns is cancelled at once', async (t) => {
  const { p, live } = setup(() => ['web']);
  p.suspect('n1', true);
  p.cancelPeer('n1', 'the peer is up');
  await tick();
  t.deepEqual([...live.keys()], []);
});

test('a relocation here: prepared in handover mode once per intent, replacing a suspect preparation, untouched by the peer signals', async (t) => {
  const events: Record<string, unknown>[] = [];
  const live = new Map<string, { id: number; handover: boolean }>();
  let n = 0;
  const log = pino({ level: 'info' }, { write: (l: string) => void events.push(JSON.parse(l) as Record<string, unknown>) });
  const p = new StartPreparer({
    log, wouldTakeOver: () => ['web'], ttlMs: 10_000, handoverTtlMs: 30_000,
    prepare: async (svc, _ttl, o) => {
      const id = ++n;
      live.set(svc, { id, handover: o.handover === true });
      return { prepared: [`ip#1: probe ${id}`], cancel: () => live.get(svc)?.id === id && live.delete(svc) };
    },
  });
  p.suspect('n1', true);
  await tick();
  t.deepEqual(live.get('web'), { id: 1, handover: false });
  p.relocation('web', 'i1');
  p.relocation('web', 'i1');
  await tick();
  t.deepEqual(live.get('web'), { id: 2, handover: true }, 'the suspect probe replaced, once');
  p.suspect('n1', false);
  p.cancelPeer('n1', 'the peer is up');
  t.deepEqual(live.get('web'), { id: 2, handover: true }, 'a relocation preparation is no peer\'s');
  p.actionEnded('web');
  t.false(live.has('web'));
  p.relocation('web', 'i1');
  await tick();
  t.false(live.has('web'), 'not again for the same intent');
  p.relocation('web', 'i2');
  await tick();
  t.deepEqual(live.get('web'), { id: 3, handover: true }, 'a new intent prepares again');
  p.stop();
  t.false(live.has('web'));
});
