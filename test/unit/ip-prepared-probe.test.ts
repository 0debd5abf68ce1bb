// The prepared (rolling) duplicate-address probe: what its evidence proves (the rule), and that
// no probe process survives a take, a cancel, its time to live or a reply.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { consumeProbe, foldLine, lineBuffered, prepareProbe, preparedVerdict, replyIsDuplicate, runningProbes, takeProbe, type ProbeEvidence } from '../../src/resources/ip-prepared-probe.js';
import { pidAlive as alive } from '../../src/util/pid-alive.js';

const ev = (e: Partial<ProbeEvidence>): ProbeEvidence => ({ since: undefined, lastActivity: undefined, replied: false, ended: false, ...e });

test('free only when alive, no reply, probing for at least the window and recently', (t) => {
  t.deepEqual(preparedVerdict(ev({ since: 1000, lastActivity: 1195 }), 1200, 200), { verdict: 'free', probedMs: 200 });
  t.deepEqual(preparedVerdict(ev({ since: 1000, lastActivity: 1190 }), 1150, 200), { verdict: 'wait', ms: 50 }, 'too young: wait for the rest of the window');
  t.is(preparedVerdict(ev({ since: 1000, lastActivity: 1000 }), 1300, 200).verdict, 'unusable', 'silent for too long: stalled');
  t.is(preparedVerdict(ev({ since: 1000, lastActivity: 1290, ended: true }), 1300, 200).verdict, 'unusable', 'ended: proves nothing about now');
  t.is(preparedVerdict(ev({ since: 1000, lastActivity: 1290, replied: true, ended: true }), 1300, 200).verdict, 'reply', 'a reply at any time is a duplicate');
  t.is(preparedVerdict(ev({}), 1300, 200).verdict, 'wait', 'not probing yet');
});

test("arping's lines: the header starts the evidence, a reply or replied statistics mark a duplicate", (t) => {
  const e = ev({});
  foldLine(e, 'ARPING 10.0.0.9', 10);
  foldLine(e, 'Timeout', 25);
  t.is(e.since, 10);
  t.is(e.lastActivity, 25);
  t.false(e.replied);
  foldLine(e, '42 bytes from be:7b:82:0f:bb:98 (10.0.0.9): index=0 time=15.869 usec', 30);
  t.true(e.replied);
  const s = ev({});
  foldLine(s, '1 packets transmitted, 1 packets received,   0% unanswered (0 extra)', 5);
  t.true(s.replied);
  const n = ev({});
  foldLine(n, '3 packets transmitted, 0 packets received, 100% unanswered (0 extra)', 5);
  t.false(n.replied);
});

/** a stand-in for arping: prints its header then a Timeout line every 15 ms, or a reply after `replyAfter` ms */
function fakeArping(t: { teardown: (f: () => void) => void }, replyAfter?: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-prep-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'arping');
  const reply = replyAfter === undefined ? '' : `setTimeout(() => { console.log('42 bytes from aa:bb:cc:dd:ee:ff (' + addr + '): index=0'); process.exit(0); }, ${replyAfter});`;
  fs.writeFileSync(file, `#!${process.execPath}\nconst addr = process.argv.at(-1); console.log('ARPING ' + addr); setInterval(() => console.log('Timeout'), 15); ${reply}\n`, { mode: 0o755 });
  return file;
}

const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

test.serial('taken and consumed: free after the window, and the process is gone', async (t) => {
  const { probe } = prepareProbe('eth9', '10.0.0.9', 10_000, fakeArping(t));
  const pid = probe.pid!;
  await until(() => probe.evidence.since !== undefined);
  const taken = takeProbe('eth9', '10.0.0.9');
  t.is(taken, probe);
  const v = await consumeProbe(taken!, 100);
  t.is(v.verdict, 'free');
  t.true(await until(() => !alive(pid)), 'no probe survives its use');
  t.deepEqual(runningProbes(), []);
});

test.serial('a reply while prepared: duplicate, and nothing survives', async (t) => {
  const { probe } = prepareProbe('eth9', '10.0.0.10', 10_000, fakeArping(t, 30));
  const pid = probe.pid!;
  await until(() => probe.evidence.replied);
  const v = await consumeProbe(takeProbe('eth9', '10.0.0.10')!, 200);
  t.is(v.verdict, 'reply');
  t.true(await until(() => !alive(pid)));
  t.is(takeProbe('eth9', '10.0.0.10'), undefined);
});

test.serial('cancel and time to live kill the probe', async (t) => {
  const a = prepareProbe('eth9', '10.0.0.11', 10_000, fakeArping(t));
  const b = prepareProbe('eth9', '10.0.0.12', 150, fakeArping(t));
  const pa = a.probe.pid!;
  const pb = b.probe.pid!;
  t.true(alive(pa) && alive(pb));
  a.cancel();
  t.true(await until(() => !alive(pa)), 'cancelled');
  t.true(await until(() => !alive(pb)), 'timed out');
  t.is(takeProbe('eth9', '10.0.0.11'), undefined, 'a cancelled probe is not there to take');
  t.deepEqual(runningProbes(), []);
});

test.serial("arping's header is read when it is printed, not with the first probe's line (stdout line-buffered)", async (t) => {
  t.true(fs.existsSync('/usr/bin/stdbuf'), 'coreutils stdbuf is part of every Debian host');
  t.deepEqual(lineBuffered(['arping', '-i', 'eth0']), ['/usr/bin/stdbuf', '-oL', 'arping', '-i', 'eth0']);
  // a stdio program that block-buffers a pipe, as arping does: sed echoing a FIFO the test
  // writes to. Without the line buffering its header stays in sed's buffer until EOF.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-prep-'));
  const fifo = path.join(dir, 'lines');
  execFileSync('mkfifo', [fifo]);
  const writer = fs.openSync(fifo, 'r+'); // (read-write: never blocks on a FIFO)
  const file = path.join(dir, 'arping');
  fs.writeFileSync(file, `#!/bin/sh\nexec sed '' ${fifo}\n`, { mode: 0o755 });
  const { probe, cancel } = prepareProbe('eth9', '10.0.0.16', 10_000, file);
  t.teardown(() => {
    cancel();
    fs.closeSync(writer);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.writeSync(writer, 'ARPING 10.0.0.16\n');
  t.true(await until(() => probe.evidence.since !== undefined, 4_000), 'the header is read while arping (sed here) still runs');
  t.false(probe.evidence.ended);
});

/** a stand-in for arping in handover mode: replies every 15 ms while `owner` exists, Timeout lines after */
function fakeOwnerArping(t: { teardown: (f: () => void) => void }): { file: string; owner: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-prep-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'arping');
  const owner = path.join(dir, 'owner');
  fs.writeFileSync(owner, '');
  fs.writeFileSync(file, `#!${process.execPath}\nconst fs = require('fs'); const addr = process.argv.at(-1); if (process.argv.includes('-C')) process.exit(9); console.log('ARPING ' + addr); setInterval(() => console.log(fs.existsSync(${JSON.stringify(owner)}) ? '42 bytes from aa:bb:cc:dd:ee:ff (' + addr + '): index=0' : 'Timeout'), 15);\n`, { mode: 0o755 });
  return { file, owner };
}

test.serial("handover mode: the owner's replies go on until it removes the address; only the evidence after its announce counts", async (t) => {
  const { file, owner } = fakeOwnerArping(t);
  const { probe } = prepareProbe('eth9', '10.0.0.13', 10_000, file, true);
  const pid = probe.pid!;
  t.true(await until(() => probe.evidence.lastReplyAt !== undefined), 'the owner answers: the probe goes on');
  t.true(probe.running);
  fs.rmSync(owner);
  await new Promise((r) => setTimeout(r, 20));
  const announcedAt = performance.now();
  const v = await consumeProbe(takeProbe('eth9', '10.0.0.13')!, 50, announcedAt);
  t.is(v.verdict, 'free');
  t.true(performance.now() - announcedAt >= 50, 'the window is counted after the announce');
  t.true(await until(() => !alive(pid)));
  t.deepEqual(runningProbes(), []);
});

test.serial('handover mode: a reply after the announce is a duplicate; without an announce the probe is unusable', async (t) => {
  const { file } = fakeOwnerArping(t);
  const a = prepareProbe('eth9', '10.0.0.14', 10_000, file, true);
  await until(() => a.probe.evidence.lastReplyAt !== undefined);
  t.is((await consumeProbe(takeProbe('eth9', '10.0.0.14')!, 50, performance.now())).verdict, 'reply', 'still answered after the owner said it removed it');
  const b = prepareProbe('eth9', '10.0.0.15', 10_000, file, true);
  await until(() => b.probe.evidence.since !== undefined);
  t.is((await consumeProbe(takeProbe('eth9', '10.0.0.15')!, 50)).verdict, 'unusable', 'a start that is no handover cannot place its evidence');
  t.true(await until(() => !alive(a.probe.pid!) && !alive(b.probe.pid!)));
  t.deepEqual(runningProbes(), []);
});

test('a reply is a duplicate by itself only for a suspect-mode probe; a handover probe\'s may be the owner\'s last one (a new probe decides)', (t) => {
  t.true(replyIsDuplicate({ handover: false }));
  t.false(replyIsDuplicate({ handover: true }));
});
