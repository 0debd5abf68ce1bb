// A relocation as a handover (issue 11): the target starts while the owner stops, each resource
// waiting for the owner's announce of its group; the owner announces each group once every
// resource of it is stopped; the prepared probe counts only what it saw after the owner
// announced the address removed.
import test from 'ava';
import { decide, type DecisionInput, type PeerInfo } from '../../src/cluster/orchestrator.js';
import { beatReleaseVerdict, combinedReleaseVerdict, handingOver, releaseVerdict } from '../../src/cluster/handover.js';
import type { BeatRelease, HandoverProgress, Intent, NodeState, ServiceState } from '../../src/cluster/node-state.js';
import { HandoverGates } from '../../src/daemon/handover-gate.js';
import { HANDOVER_REPLY_GRACE_MS, foldLine, foldOutput, handoverVerdict, type PendingOutput, type ProbeEvidence } from '../../src/resources/ip-prepared-probe.js';
import { silentLogger } from '../../src/log.js';
import { startResources, stopResources } from '../../src/service/actions.js';
import type { ServiceResource } from '../../src/service/resources.js';
import { noTriggers } from '../../src/service/triggers.js';
import type { Resource, ResourceKind, StartOptions, StatusReport } from '../../src/resources/types.js';

const na = 'n/a' as const;
const svc = (over: Partial<ServiceState> = {}): ServiceState => ({
  avail: 'down', overall: 'down', frozen: false, orchestrate: 'ha', service_type: '', nodes: ['n1', 'n2'], monitor: 'idle',
  groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: 0, ...over,
});
const node = (services: Record<string, ServiceState>): NodeState => ({ v: 1, frozen: false, services, intents: {}, complete: true });
const up = (services: Record<string, ServiceState>): PeerInfo => ({ state: 'up', payload: node(services) });
const intent: Intent = { id: 'i1', svc: 'web', target: 'n2', by: 'n1', at: 1_000_000, done: false };
const progress = (over: Partial<HandoverProgress> = {}): HandoverProgress => ({ intent: 'i1', to: 'n2', released: [], done: false, ...over });
const stopping = (h?: HandoverProgress) => svc({ avail: 'up', monitor: 'stopping', ...(h ? { handover: h } : {}) });
const input = (peers: Record<string, PeerInfo>): DecisionInput => ({
  self: 'n2', svc: 'web', local: svc(), nodeFrozen: false, peers, intents: { web: intent }, now: 1_000_100, bootPhase: false, quorum: { ok: true, why: 'quorum' },
});

test('decide: the target starts as soon as the owner stops for this relocation, announcing; not for a plain stop', (t) => {
  t.deepEqual(decide(input({ n1: up({ web: stopping(progress()) }) })), { action: 'start', why: 'relocation target (handover from n1)', intent: 'i1', handover: ['n1'] });
  t.deepEqual(decide(input({ n1: up({ web: stopping() }) })), { action: 'none', why: 'waiting for n1 to stop it' }, 'a stop without announces: wait for its end');
  t.deepEqual(decide(input({ n1: up({ web: stopping(progress({ intent: 'i0' })) }) })), { action: 'none', why: 'waiting for n1 to stop it' }, 'another intent');
  t.deepEqual(decide(input({ n1: up({ web: svc({ avail: 'up', handover: progress() }) }) })), { action: 'none', why: 'waiting for n1 to stop it' }, 'running, not stopping');
  t.deepEqual(decide(input({ n1: up({ web: svc() }) })), { action: 'start', why: 'relocation target', intent: 'i1' }, 'stopped: the plain start');
});

test('releaseVerdict: a group is released only once announced (or the whole stop done, or not running any more)', (t) => {
  const p = (s: ServiceState | undefined): PeerInfo => up(s ? { web: s } : {});
  t.is(releaseVerdict(p(stopping(progress())), 'web', 'i1', 'ip').state, 'wait');
  t.is(releaseVerdict(p(stopping(progress({ released: ['app', 'fs'] }))), 'web', 'i1', 'ip').state, 'wait');
  t.is(releaseVerdict(p(stopping(progress({ released: ['app', 'fs'] }))), 'web', 'i1', 'fs').state, 'released');
  t.is(releaseVerdict(p(stopping(progress({ released: ['app', 'fs'] }))), 'web', 'i1', 'all').state, 'wait', "'all' needs the whole stop");
  t.is(releaseVerdict(p(stopping(progress({ done: true }))), 'web', 'i1', 'ip').state, 'released');
  t.is(releaseVerdict(p(stopping(progress({ done: true, released: ['ip'], held: ['fs'] }))), 'web', 'i1', 'fs').state, 'refused', 'an optional fs whose stop failed stays the owner\'s');
  t.is(releaseVerdict(p(stopping(progress({ done: true, released: ['ip'], held: ['fs'] }))), 'web', 'i1', 'all').state, 'refused');
  t.is(releaseVerdict(p(stopping(progress({ done: true, released: ['ip'], held: ['fs'] }))), 'web', 'i1', 'ip').state, 'released');
  t.is(releaseVerdict(p(svc()), 'web', 'i1', 'ip').state, 'released', 'the stop ended and was read: not running');
  t.is(releaseVerdict(p(svc({ avail: 'up', handover: progress({ done: true }) })), 'web', 'i1', 'ip').state, 'released', 'the stop done, its status not read again yet');
  t.is(releaseVerdict(p(svc({ avail: 'up', handover: progress({ released: ['ip'] }) })), 'web', 'i1', 'ip').state, 'refused', 'no longer stopping, not done: its stop ended otherwise');
  t.is(releaseVerdict(p(svc({ monitor: 'stop failed', error: 'x' })), 'web', 'i1', 'ip').state, 'refused');
  t.is(releaseVerdict(p(svc({ avail: 'up' })), 'web', 'i1', 'ip').state, 'refused', 'running again, no handover');
  t.is(releaseVerdict(p(stopping(progress({ intent: 'i2', released: ['ip'] }))), 'web', 'i1', 'ip').state, 'refused', 'another intent');
  t.is(releaseVerdict({ state: 'down', payload: node({ web: stopping(progress({ released: ['ip'] })) }) }, 'web', 'i1', 'ip').state, 'refused', 'owner lost: its last word is no fact');
  t.is(releaseVerdict(undefined, 'web', 'i1', 'ip').state, 'refused');
  t.is(releaseVerdict({ state: 'up', payload: { ...node({}), complete: false } }, 'web', 'i1', 'ip').state, 'wait', 'state not pulled yet');
  t.true(handingOver(p(stopping(progress())), 'web', 'i1'));
  t.false(handingOver({ state: 'left', payload: node({ web: stopping(progress()) }) }, 'web', 'i1'));
});

test('HandoverGates: opens in the payload handler, keeps the first instant, refuses on a failed stop, rejects at the end', async (t) => {
  let peers: Record<string, PeerInfo> = { n1: up({ web: stopping(progress()) }) };
  const g = new HandoverGates(() => peers);
  const gate = g.begin('web', ['n1'], 'i1');
  let ipAt: number | undefined;
  const ip = gate('ip').then((at) => (ipAt = at));
  await new Promise((r) => setTimeout(r, 5));
  t.is(ipAt, undefined, 'not before the announce');
  peers = { n1: up({ web: stopping(progress({ released: ['app', 'fs', 'ip'] })) }) };
  g.peerChanged('n2');
  await new Promise((r) => setTimeout(r, 5));
  t.is(ipAt, undefined, 'another peer: not looked at');
  const before = performance.now();
  g.peerChanged('n1');
  await ip;
  t.true(ipAt! >= before);
  t.is(await gate('ip'), ipAt!, 'the same instant for a later ask');
  peers = { n1: up({ web: svc({ monitor: 'stop failed' }) }) };
  await t.throwsAsync(gate('disk'), { message: /stop failed/ });
  const g2 = new HandoverGates(() => ({ n1: up({ web: stopping(progress()) }) }));
  const gate2 = g2.begin('web', ['n1'], 'i1');
  const w = gate2('fs');
  g2.end('web');
  await t.throwsAsync(w, { message: /over/ });
});

/**
 * The owner n1 as the target sees it between its release beat and the pull that beat announced:
 * its services as pulled before (incomplete), the beat's releases beside them.
 */
const beatPeer = (pulled: ServiceState | undefined, release: BeatRelease | undefined, o: { inc?: string; pulledInc?: string | undefined; state?: PeerInfo['state']; complete?: boolean } = {}): PeerInfo => ({
  state: o.state ?? 'up',
  payload: {
    ...node(pulled ? { web: pulled } : {}), complete: o.complete ?? false,
    ...(release ? { beat_handovers: { inc: o.inc ?? '7', pulledInc: 'pulledInc' in o ? o.pulledInc : '7', releases: { web: release } } } : {}),
  },
});

test('combinedReleaseVerdict: a release read from the owner\'s beat opens before its state is pulled', (t) => {
  const v = (p: PeerInfo, group = 'ip') => combinedReleaseVerdict(p, 'web', 'i1', group);
  const pulled = stopping(progress({ released: ['app'] }));
  t.is(releaseVerdict(beatPeer(pulled, { i: 'i1', r: ['app', 'fs', 'ip'] }), 'web', 'i1', 'ip').state, 'wait', 'the pulled state alone: wait (not pulled yet)');
  t.deepEqual(v(beatPeer(pulled, { i: 'i1', r: ['app', 'fs', 'ip'] })), { state: 'released', via: 'beat' }, 'released by the beat only');
  t.deepEqual(v(beatPeer(pulled, { i: 'i1', r: ['app', 'fs', 'ip'] }, { complete: true })), { state: 'released', via: 'beat' }, 'a complete pulled state that is older than the beat');
  t.is(v(beatPeer(pulled, { i: 'i1', r: ['app', 'fs'] })).state, 'wait', 'an older beat, fewer groups: says less, never more');
  t.is(v(beatPeer(pulled, { i: 'i1', r: ['app'] }), 'all').state, 'wait', "'all' needs the whole stop");
  t.deepEqual(v(beatPeer(pulled, { i: 'i1', r: ['app'], d: 1 }), 'all'), { state: 'released', via: 'beat' }, 'the whole stop done');
  t.is(v(beatPeer(pulled, { i: 'i0', r: ['app', 'fs', 'ip'] })).state, 'wait', 'a beat for another intent is ignored');
  t.is(v(beatPeer(stopping(progress({ intent: 'i0' })), { i: 'i1', r: ['ip'] })).state, 'wait', 'the pulled state shows another handover: the beat is not taken');
  t.is(v(beatPeer(svc({ avail: 'up' }), { i: 'i1', r: ['ip'] })).state, 'wait', 'the pulled state shows no handover of this intent (incomplete): not taken');
  t.is(v(beatPeer(pulled, { i: 'i1', r: ['ip'] }, { inc: '8', pulledInc: '7' })).state, 'wait', "another incarnation's beat (a restarted owner): not taken until its state is pulled");
  t.is(v(beatPeer(pulled, { i: 'i1', r: ['ip'] }, { pulledInc: undefined })).state, 'wait', 'nothing pulled of it: not taken');
  // refusals
  const held = v(beatPeer(pulled, { i: 'i1', r: ['app', 'ip'], d: 1, h: ['fs'] }), 'fs');
  t.is(held.state, 'refused', 'held in the beat refuses, as in the pulled state');
  t.is(v(beatPeer(pulled, { i: 'i1', r: ['app', 'ip'], d: 1, h: ['fs'] }), 'all').state, 'refused');
  t.deepEqual(v(beatPeer(pulled, { i: 'i1', r: ['app', 'ip'], d: 1, h: ['fs'] }), 'ip'), { state: 'released', via: 'beat' }, 'the other groups are released');
  for (const state of ['down', 'left', 'unknown'] as const) {
    t.is(v(beatPeer(pulled, { i: 'i1', r: ['app', 'fs', 'ip'], d: 1 }, { state, complete: true })).state, 'refused', `a ${state} owner refuses even if its beat said released`);
    t.is(beatReleaseVerdict(beatPeer(pulled, { i: 'i1', r: ['ip'] }, { state }), 'web', 'i1', 'ip'), undefined);
  }
  t.is(v(beatPeer(svc({ monitor: 'stop failed', avail: 'up' }), { i: 'i1', r: ['app', 'fs', 'ip'] }, { complete: true })).state, 'refused', 'a failed stop (pulled) refuses whatever the beat said');
  t.is(v(beatPeer(svc({ avail: 'up' }), { i: 'i1', r: ['ip'] }, { complete: true })).state, 'refused', 'runs it otherwise (pulled): refused');
  t.deepEqual(v(beatPeer(stopping(progress({ released: ['app', 'fs', 'ip'] })), undefined, { complete: true })), { state: 'released' }, 'the pulled state alone, as before (no via)');
  t.is(v(beatPeer(pulled, undefined)).state, 'wait', 'no beat releases: wait for the pull');
});

test('HandoverGates: opens on a release read from the owner\'s beat, at that read, via beat', async (t) => {
  let peers: Record<string, PeerInfo> = { n1: beatPeer(stopping(progress()), undefined, { complete: true }) };
  const opened: string[] = [];
  const g = new HandoverGates(() => peers, (svcName, group, from, via) => opened.push(`${svcName} ${group} ${from.join(',')} ${via}`));
  const gate = g.begin('web', ['n1'], 'i1');
  let ipAt: number | undefined;
  const ip = gate('ip').then((at) => (ipAt = at));
  const fs = gate('fs');
  // the release beat: a new generation announced (the state incomplete), the releases beside it
  peers = { n1: beatPeer(stopping(progress()), { i: 'i1', r: ['app', 'fs'] }) };
  const before = performance.now();
  g.peerChanged('n1');
  t.true((await fs) >= before, 'never before the read');
  await new Promise((r) => setTimeout(r, 5));
  t.is(ipAt, undefined, 'ip not released yet');
  peers = { n1: beatPeer(stopping(progress()), { i: 'i1', r: ['app', 'fs', 'ip'] }) };
  const read = performance.now();
  g.peerChanged('n1');
  await ip;
  t.true(ipAt! >= read);
  // the pull lands later: the instant stays the beat's
  peers = { n1: up({ web: stopping(progress({ released: ['app', 'fs', 'ip'] })) }) };
  g.peerChanged('n1');
  t.is(await gate('ip'), ipAt!);
  t.deepEqual(opened, ['web fs n1 beat', 'web ip n1 beat']);
  // the owner lost before its whole stop: refused, whatever its beat said
  peers = { n1: beatPeer(stopping(progress()), { i: 'i1', r: ['app', 'fs', 'ip'], d: 1 }, { state: 'down' }) };
  await t.throwsAsync(gate('disk'), { message: /down/ });
  g.end('web');
});

const ev = (e: Partial<ProbeEvidence>): ProbeEvidence => ({ since: undefined, lastActivity: undefined, replied: false, ended: false, ...e });

test("handoverVerdict: the owner's replies before its announce do not count; after it they are a duplicate; the window is counted after it", (t) => {
  const R = 1000;
  const from = R + HANDOVER_REPLY_GRACE_MS;
  // probing since long before, the owner answered until just before its announce
  t.deepEqual(handoverVerdict(ev({ since: 500, lastActivity: from + 49, lastReplyAt: R - 3 }), from + 50, 50, R), { verdict: 'free', probedMs: 50 });
  t.deepEqual(handoverVerdict(ev({ since: 500, lastActivity: from + 20, lastReplyAt: R - 3 }), from + 20, 50, R), { verdict: 'wait', ms: 30 }, 'evidence before the announce is not counted: wait the window after it');
  t.deepEqual(handoverVerdict(ev({ since: 500, lastActivity: R + 5, lastReplyAt: R + 5 }), R + 5, 50, R), { verdict: 'wait', ms: 50 + HANDOVER_REPLY_GRACE_MS - 5 }, 'a reply read within the grace: the probe in flight');
  t.is(handoverVerdict(ev({ since: 500, lastActivity: from + 30, lastReplyAt: from + 30 }), from + 30, 50, R).verdict, 'reply', 'someone answers after the owner said it removed the address');
  t.is(handoverVerdict(ev({ since: 500, lastActivity: from + 60, lastReplyAt: from + 1 }), from + 60, 50, R).verdict, 'reply');
  t.is(handoverVerdict(ev({ since: 500, replied: true }), from + 60, 50, R).verdict, 'reply', 'a reply that cannot be placed in time is a duplicate');
  t.is(handoverVerdict(ev({ since: 500, lastActivity: from + 59, ended: true }), from + 60, 50, R).verdict, 'unusable');
  t.is(handoverVerdict(ev({ since: 500, lastActivity: R - 200 }), from + 60, 50, R).verdict, 'unusable', 'stalled');
  t.deepEqual(handoverVerdict(ev({ since: from + 20, lastActivity: from + 60 }), from + 60, 50, R), { verdict: 'wait', ms: 10 }, 'a probe that got going after the announce counts from its start');
  t.is(handoverVerdict(ev({}), from + 60, 50, R).verdict, 'wait');
});

test("foldLine, handover mode: replies are timed, not final; the exit statistics are not read", (t) => {
  const e = ev({});
  foldLine(e, 'ARPING 10.0.0.9', 10, true);
  foldLine(e, '42 bytes from be:7b:82:0f:bb:98 (10.0.0.9): index=0 time=15.869 usec', 30, true);
  t.is(e.lastReplyAt, 30);
  t.false(e.replied);
  foldLine(e, 'Timeout', 45, true);
  foldLine(e, '9 packets transmitted, 3 packets received,  66% unanswered (0 extra)', 50, true);
  t.is(e.lastReplyAt, 30);
  t.false(e.replied);
});

test("foldOutput: a reply is timed when arping flushes its text, not when its newline comes with the next line", (t) => {
  const pending = (): PendingOutput => ({ buf: '', timed: false });
  const e = ev({});
  const p = pending();
  foldOutput(e, p, 'ARPING 10.0.0.9 from 0.0.0.0 eth0\n', 10, true);
  t.is(e.since, 10);
  foldOutput(e, p, '42 bytes from be:7b:82:0f:bb:98 (10.0.0.9): index=0 time=15.869 usec', 30, true);
  t.is(e.lastReplyAt, 30, 'the owner\'s reply placed when it was read');
  foldOutput(e, p, '\nTimeout\n', 45, true);
  t.is(e.lastReplyAt, 30, 'its newline, one interval later: not timed again');
  t.is(e.lastActivity, 45);
  foldOutput(e, p, '42 bytes from x (10.0.0.9): index=1', 60, true);
  foldOutput(e, p, '\n42 bytes from x (10.0.0.9): index=2', 75, true);
  t.is(e.lastReplyAt, 75, 'replies in a row: each at its text');
  foldOutput(e, p, '\nTimeout\n', 90, true);
  t.is(e.lastReplyAt, 75);
  const q = ev({});
  const pq = pending();
  foldOutput(q, pq, '42 bytes fr', 5, true);
  t.is(q.lastReplyAt, undefined, 'a text cut in two: not a reply yet');
  foldOutput(q, pq, 'om x (10.0.0.9): index=0', 7, true);
  t.is(q.lastReplyAt, 7);
  const s = ev({});
  foldOutput(s, pending(), 'ARPING 10.0.0.9\n42 bytes from x (10.0.0.9): index=0', 5);
  t.true(s.replied, 'a suspect probe: a duplicate at once');
});

function fake(rid: string, kind: ResourceKind, calls: string[], opts: { awaits?: boolean; stopFails?: boolean } = {}): ServiceResource {
  let up: boolean = true;
  const impl: Resource & { awaitsRelease?: boolean } = {
    rid, kind, ...(opts.awaits ? { awaitsRelease: true } : {}),
    async start(o?: StartOptions) {
      if (o?.released) {
        calls.push(`${rid} checks`);
        await o.released();
      }
      calls.push(`${rid} start`);
      up = true;
    },
    async stop() {
      if (opts.stopFails) throw new Error(`${rid} busy`);
      calls.push(`${rid} stop`);
      up = false;
    },
    async status(): Promise<StatusReport> {
      return { status: up ? 'up' : 'down', label: '', messages: [] };
    },
  };
  return {
    rid, section: kind, kind, type: '', subset: undefined, optional: false, disabled: false, monitored: false, encap: false,
    restart: 0, monitorAction: 'none', depth: 0, triggers: noTriggers, requires: { start: [], stop: [] }, impl,
  } as ServiceResource;
}

test('stopResources: each group announced once all of its resources stopped; a failed one never', async (t) => {
  const calls: string[] = [];
  const rs = [fake('ip#1', 'ip', calls), fake('fs#1', 'fs', calls), fake('fs#2', 'fs', calls), fake('app#1', 'app', calls)];
  await stopResources(rs, [], { log: silentLogger(), released: (g) => calls.push(`released ${g}`) });
  t.deepEqual(calls.filter((c) => c.startsWith('released')), ['released app', 'released fs', 'released ip']);
  t.true(calls.indexOf('released fs') > calls.indexOf('fs#2 stop') && calls.indexOf('released fs') > calls.indexOf('fs#1 stop'));
  const c2: string[] = [];
  const failing = [fake('ip#1', 'ip', c2), fake('fs#1', 'fs', c2, { stopFails: true }), fake('app#1', 'app', c2)];
  const r = await stopResources(failing, [], { log: silentLogger(), released: (g) => c2.push(`released ${g}`) });
  t.false(r.ok);
  t.deepEqual(c2.filter((c) => c.startsWith('released')), ['released app'], 'neither fs nor ip (never reached) announced');
});

test('startResources with a release gate: nothing of a group starts before its release; a driver that awaits it checks first; a refusal changes nothing', async (t) => {
  const calls: string[] = [];
  const opened = new Map<string, () => void>();
  const gate = (g: string) => new Promise<number>((resolve) => opened.set(g, () => (calls.push(`release ${g}`), resolve(performance.now()))));
  const down = (rid: string, kind: ResourceKind, awaits = false) => {
    const r = fake(rid, kind, calls, { awaits });
    r.impl.stop = async () => undefined;
    let on = false;
    r.impl.status = async () => ({ status: on ? 'up' : 'down', label: '', messages: [] });
    const start = r.impl.start.bind(r.impl);
    r.impl.start = async (o) => (await start(o), (on = true), undefined);
    return r;
  };
  const done = startResources([down('ip#1', 'ip', true), down('fs#1', 'fs'), down('app#1', 'app')], [], { rollback: true, log: silentLogger(), released: gate, prior: 'handover' });
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(calls, ['ip#1 checks'], 'ip ran its read-only checks; fs and app wait');
  opened.get('fs')!();
  await new Promise((r) => setTimeout(r, 10));
  t.true(calls.includes('fs#1 start'));
  t.false(calls.includes('ip#1 start'));
  opened.get('ip')!();
  await new Promise((r) => setTimeout(r, 10));
  t.true(calls.indexOf('ip#1 start') > calls.indexOf('release ip'));
  t.false(calls.includes('app#1 start'));
  opened.get('app')!();
  t.true((await done).ok);
  const c2: string[] = [];
  const refuse = () => Promise.reject(new Error('handover refused: the owner\'s stop failed'));
  const r2 = startResources([fake('fs#1', 'fs', c2)], [], { rollback: true, log: silentLogger(), released: refuse });
  const rs = fake('fs#9', 'fs', c2);
  rs.impl.status = async () => ({ status: 'down', label: '', messages: [] });
  const rep = await startResources([rs], [], { rollback: true, log: silentLogger(), released: refuse });
  await r2;
  t.false(rep.ok);
  t.regex(rep.failed!.error, /refused/);
  t.false(c2.includes('fs#9 start'));
  t.deepEqual(rep.rolledBack, []);
});
