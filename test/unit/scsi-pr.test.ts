// sg_persist output parsing, on output captured from LIO in the VM lane
// (test/fixtures/sg-persist/lio-capture.txt), and the reservation policy of pr-disks.ts against
// a fake sg_persist that keeps PR state in files and answers in the captured formats.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { silentLogger } from '../../src/log.js';
import { repoRoot } from '../helpers/env.js';
import {
  isType5,
  normalizeKey,
  parseKeys,
  parseReservation,
  readKeys,
  readReservation,
  reserve,
  sameKey,
  stderrSummary,
} from '../../src/resources/scsi-pr.js';
import { acquire, inspect, relinquish } from '../../src/resources/pr-disks.js';

interface Capture {
  command: string;
  stdout: string;
  stderr: string;
  rc: number;
}

function captures(): Capture[] {
  const text = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'sg-persist', 'lio-capture.txt'), 'utf8');
  const out: Capture[] = [];
  for (const block of text.split(/^=== /m).slice(1)) {
    const m = /^(.*)\n--- stdout\n([\s\S]*?)--- stderr\n([\s\S]*?)--- rc (\d+)\n?$/.exec(block);
    if (!m) throw new Error(`bad capture block: ${block}`);
    out.push({ command: m[1]!, stdout: m[2]!, stderr: m[3]!, rc: Number(m[4]) });
  }
  return out;
}

const all = captures();
const ok = (re: RegExp) => all.filter((c) => c.rc === 0 && re.test(c.command));

test('the capture holds the commands this test relies on', (t) => {
  t.true(all.length >= 20);
  t.true(ok(/ -i -k /).length >= 3);
  t.true(ok(/ -i -r /).length >= 3);
});

test('read keys: none, two 8-byte keys (printed without leading zeros), one after a preempt', (t) => {
  const keys = ok(/ -i -k /).map((c) => parseKeys(c.stdout));
  t.deepEqual(keys[0], { generation: 0, keys: [] });
  t.deepEqual(keys[1], { generation: 3, keys: ['0x123456789abcdef', '0xfedcba9876543210'] });
  t.deepEqual(keys[2], { generation: 4, keys: ['0xfedcba9876543210'] });
  t.true(keys[1]!.keys.some((k) => sameKey(k, '0x0123456789abcdef')), 'the registered 0x0123... is found');
});

test('read reservation: none, held by a key with scope and type 5', (t) => {
  const rs = ok(/ -i -r /).map((c) => parseReservation(c.stdout));
  t.deepEqual(rs[0], { generation: 0, holder: undefined });
  t.deepEqual(rs[1], { generation: 3, holder: { key: '0x123456789abcdef', scope: 'LU_SCOPE', type: 'Write Exclusive, registrants only' } });
  t.true(isType5(rs[1]!.holder!.type));
  t.is(rs[2]!.holder!.key, '0xfedcba9876543210');
  // the pr.sh run of the same lane, short keys
  const short = '  PR generation=0x2, Reservation follows:\n    Key=0xaaaa\n    scope: LU_SCOPE,  type: Write Exclusive, registrants only\n';
  t.is(parseReservation(short).holder?.key, '0xaaaa');
});

test('output that is not what sg_persist prints is an error, not an empty list', (t) => {
  t.throws(() => parseKeys(''), { message: /unexpected sg_persist read-keys output: \(empty\)/ });
  t.throws(() => parseReservation('Persistent reservation in: something else'), { message: /unexpected sg_persist read-reservation output/ });
  t.throws(() => parseKeys('  PR generation=0x3, 2 registered reservation keys follow:\n    0x1\n'), { message: /announced 2 keys but listed 1/ });
  t.throws(() => parseReservation('  PR generation=0x3, Reservation follows:\n    scope: LU_SCOPE\n'), { message: /without a key/ });
});

test('keys compare as numbers: leading zeros and case do not matter', (t) => {
  t.is(normalizeKey('0x00C0FFEE'), '0xc0ffee');
  t.is(normalizeKey('abc'), '0xabc');
  t.true(sameKey('0x0123456789abcdef', '0x123456789ABCDEF'));
  t.false(sameKey('0x1', '0x10'));
  t.false(sameKey('zz', 'zz'));
  t.throws(() => normalizeKey('0x1234567890abcdef0'));
});

test('stderr summary keeps the telling lines (conflict, unit attention, open errors)', (t) => {
  const by = (re: RegExp, rc: number) => all.find((c) => re.test(c.command) && c.rc === rc)!;
  t.is(stderrSummary(by(/ -o -R -T 5 -K 0xfedc/, 24).stderr), 'PR out (Reserve): Reservation conflict');
  t.is(stderrSummary(by(/ -i -k \/dev\/sda$/, 6).stderr), 'Fixed format, current; Sense key: Unit Attention; Additional sense: Registrations preempted; PR in (Read keys): Unit attention');
  t.is(stderrSummary(by(/nonexistent/, 52).stderr), 'sg_persist: error opening file /dev/nonexistent (rw): No such file or directory');
});

// ---- against a fake sg_persist ----------------------------------------------------------------
// Devices are <dir>/<lun>-<initiator>: every initiator of one LUN shares the LUN's PR state.
// The fake logs its argv to <state>/calls and answers in the captured formats (exit 24 on a
// conflict, 6 once after its registration was preempted).
const FAKE = String.raw`#!/bin/bash
st=$FAKE_PR_STATE; echo "$*" >>"$st/calls"
dev=${'$'}{@: -1}; b=$(basename "$dev"); lun=$st/${'$'}{b%-*}; ini=${'$'}{b##*-}
if [ "$(dirname "$dev")" != "$(dirname "$st")" ]; then echo "sg_persist: error opening file $dev (rw): No such file or directory" >&2; exit 52; fi
mkdir -p "$lun/keys"; norm() { sed 's/^0x0*/0x/' <<<"$1"; }
mine=$(cat "$lun/keys/$ini" 2>/dev/null); holder=$(cat "$lun/holder" 2>/dev/null)
if [ -f "$lun/ua-$ini" ]; then rm "$lun/ua-$ini"
  printf 'Persistent reservation in:\nFixed format, current; Sense key: Unit Attention\nAdditional sense: Registrations preempted\nPR in (Read keys): Unit attention\nsg_persist failed: Unit attention\n' >&2; exit 6; fi
conflict() { printf 'PR out (%s): Reservation conflict\nsg_persist failed: Reservation conflict\n' "$1" >&2; exit 24; }
opt() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
K=$(opt -K "$@"); S=$(opt -S "$@")
case " $* " in
  *" -i -k "*) n=$(ls "$lun/keys" | wc -l)
    if [ "$n" = 0 ]; then echo "  PR generation=0x1, there are NO registered reservation keys"
    else echo "  PR generation=0x1, $n registered reservation keys follow:"; for f in "$lun/keys"/*; do echo "    $(cat "$f")"; done; fi ;;
  *" -i -r "*) if [ -z "$holder" ]; then echo "  PR generation=0x1, there is NO reservation held"
    else printf '  PR generation=0x1, Reservation follows:\n    Key=%s\n    scope: LU_SCOPE,  type: Write Exclusive, registrants only\n' "$holder"; fi ;;
  *" -o -I "*) norm "$S" >"$lun/keys/$ini" ;;
  *" -o -R "*) [ "$mine" = "$(norm "$K")" ] || conflict Reserve; [ -z "$holder" ] || [ "$holder" = "$mine" ] || conflict Reserve; echo "$mine" >"$lun/holder" ;;
  *" -o -P "*|*" -o -A "*) [ "$mine" = "$(norm "$K")" ] || conflict Preempt; v=$(norm "$S")
    for f in "$lun/keys"/*; do [ "$(cat "$f")" = "$v" ] && { rm "$f"; touch "$lun/ua-$(basename "$f")"; }; done
    [ "$holder" = "$v" ] && echo "$mine" >"$lun/holder" ;;
  *" -o -L "*) [ -n "$mine" ] && [ "$mine" = "$(norm "$K")" ] || conflict Release; [ "$holder" = "$mine" ] && rm -f "$lun/holder" ;;
  *" -o -G "*) [ -n "$mine" ] && [ "$mine" = "$(norm "$K")" ] || conflict Register; rm "$lun/keys/$ini" ;;
  *) echo "fake sg_persist: unsupported: $*" >&2; exit 99 ;;
esac
exit 0
`;

const log = silentLogger();
const KA = '0x00aa00aa00aa00aa';
const KB = '0xbb00bb00bb00bb00';

function fakeTarget(t: { teardown: (f: () => void) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fakepr-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'state'));
  fs.writeFileSync(path.join(dir, 'bin', 'sg_persist'), FAKE, { mode: 0o755 });
  process.env.PATH = `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}`;
  process.env.FAKE_PR_STATE = path.join(dir, 'state');
  const calls = () => fs.readFileSync(path.join(dir, 'state', 'calls'), 'utf8').trim().split('\n');
  const dev = (lun: string, ini: 'a' | 'b') => path.join(dir, `${lun}-${ini}`);
  return { calls, dev, reset: () => fs.rmSync(path.join(dir, 'state', 'calls'), { force: true }) };
}

// one fake on PATH per process: these tests run serially
test.serial('acquire on free disks registers and reserves; release and unregister on relinquish', async (t) => {
  const f = fakeTarget(t);
  const disks = [f.dev('lun1', 'a'), f.dev('lun2', 'a')];
  await acquire(disks, KA, { force: false, preemptAbort: true, owner: 'vg vg1' }, log);
  for (const d of disks) {
    t.is((await readReservation(d)).holder?.key, normalizeKey(KA));
    t.deepEqual((await readKeys(d)).keys, [normalizeKey(KA)]);
  }
  t.deepEqual(await inspect(disks, KA), { held: disks, messages: [], all: true, none: false, unreadable: false });
  f.reset();
  await acquire(disks, KA, { force: false, preemptAbort: true, owner: 'vg vg1' }, log);
  t.false(f.calls().some((c) => / -o /.test(c)), 'already ours: nothing written');
  await relinquish(disks, KA, log);
  for (const d of disks) {
    t.is((await readReservation(d)).holder, undefined);
    t.deepEqual((await readKeys(d)).keys, []);
  }
  const s = await inspect(disks, KA);
  t.deepEqual(s, { held: [], messages: disks.map((d) => `no reservation on ${d}`), all: false, none: true, unreadable: false });
  await relinquish(disks, KA, log); // idempotent
});

test.serial('unforced: a disk held by another key fails with one clear line, and nothing is registered', async (t) => {
  const f = fakeTarget(t);
  const held = f.dev('lun1', 'b');
  await acquire([held], KB, { force: false, preemptAbort: true, owner: 'vg vg1' }, log);
  f.reset();
  const disks = [f.dev('lun2', 'a'), f.dev('lun1', 'a')];
  const e = await t.throwsAsync(() => acquire(disks, KA, { force: false, preemptAbort: true, owner: 'vg vg1' }, log));
  t.is(e?.message, `disk ${disks[1]} of vg vg1 is reserved by key ${normalizeKey(KB)} (another node): not preempting it without --force`);
  t.deepEqual(f.calls().filter((c) => / -o /.test(c)), [], 'no PR OUT at all: not even on the free disk');
  const s = await inspect(disks, KA);
  t.false(s.all);
  t.true(s.none);
  t.deepEqual(s.messages, [`no reservation on ${disks[0]}`, `reservation on ${disks[1]} held by key ${normalizeKey(KB)}`]);
});

test.serial('forced: preempt the holder (plain with no_preempt_abort, abort by default); the loser sees a unit attention once', async (t) => {
  const f = fakeTarget(t);
  const a = f.dev('lun1', 'a');
  const b = f.dev('lun1', 'b');
  await acquire([b], KB, { force: false, preemptAbort: true, owner: 'disk#1' }, log);
  f.reset();
  await acquire([a], KA, { force: true, preemptAbort: false, owner: 'disk#1' }, log);
  t.true(f.calls().includes(`-n -o -P -T 5 -K ${KA} -S ${normalizeKey(KB)} -- ${a}`), f.calls().join('\n'));
  t.false(f.calls().some((c) => c.includes(' -o -A ')));
  t.is((await readReservation(a)).holder?.key, normalizeKey(KA));
  // the loser's next command meets the unit attention, retried transparently
  f.reset();
  t.deepEqual((await readKeys(b)).keys, [normalizeKey(KA)], 'B preempted: only A registered');
  t.is(f.calls().length, 2, 'one unit attention, one retry');
  // and back, with PREEMPT AND ABORT
  await acquire([b], KB, { force: true, preemptAbort: true, owner: 'disk#1' }, log);
  t.true(f.calls().some((c) => c === `-n -o -A -T 5 -K ${KB} -S ${normalizeKey(KA)} -- ${b}`), f.calls().join('\n'));
  t.is((await readReservation(a)).holder?.key, normalizeKey(KB));
});

test.serial('forced: other registrants (type 5 lets them write) are removed too', async (t) => {
  const f = fakeTarget(t);
  const a = f.dev('lun1', 'a');
  const b = f.dev('lun1', 'b');
  await acquire([b], KB, { force: false, preemptAbort: false, owner: 'disk#1' }, log);
  // a third node registered but does not hold
  fs.writeFileSync(path.join(process.env.FAKE_PR_STATE!, 'lun1', 'keys', 'c'), '0xcc\n');
  await acquire([a], KA, { force: true, preemptAbort: false, owner: 'disk#1' }, log);
  t.deepEqual((await readKeys(a)).keys, [normalizeKey(KA)]);
});

test.serial('errors name the operation, the device, the command and sg_persist\'s stderr', async (t) => {
  const f = fakeTarget(t);
  const a = f.dev('lun1', 'a');
  const e = await t.throwsAsync(() => reserve(a, KA, log));
  t.is(e?.message, `reserving with key ${KA} on ${a} failed: sg_persist -n -o -R -T 5 -K ${KA} -- ${a}: exit 24: PR out (Reserve): Reservation conflict`);
  const missing = await t.throwsAsync(() => readKeys('/dev/ferry-no-such-disk', log), { message: /^reading the registered keys on \/dev\/ferry-no-such-disk failed: sg_persist -n -i -k -- \/dev\/ferry-no-such-disk: exit 52: sg_persist: error opening file \/dev\/ferry-no-such-disk \(rw\): No such file or directory$/ });
  t.truthy(missing);
  const s = await inspect([path.join(os.tmpdir(), 'x')], KA);
  t.true(s.unreadable);
  t.false(s.none);
});
