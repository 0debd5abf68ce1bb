// The pure parts of sync type rsync: what a node's copy is, the takeover gate on it, the
// phase-1 rule, the `rsync --server` checks of a push, rsync's --stats, the keyword checks
// (file:line errors through the real validator and drivers), the stream OPEN bounds.
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import { anotherPass, copyState, emptyRecord, parseRecord, PHASE1, syncDue, takeoverGate } from '../../src/resources/sync-rsync-state.js';
import { checkServerArgs, parseStats, resolveTargets } from '../../src/resources/sync-rsync.js';
import { ARGV_MAX, OPEN_MAX, parseOpen } from '../../src/statechan/stream-protocol.js';
import { parseTransportArgs } from '../../src/cli/sync-transport-args.js';
import { shimCommand } from '../../src/cli/sync-transport-held.js';
import { drivers } from '../../src/resources/registry.js';

const H = 3_600_000;

test('copy state: the latest of received / handed over / started decides', (t) => {
  const now = 10 * H;
  t.deepEqual(copyState(emptyRecord(), true, now), { current: true, why: 'the service never moved: its data is here' });
  t.like(copyState(emptyRecord(), false, now), { current: false, age: undefined });
  t.like(copyState({ ...emptyRecord(), received: { from: 'n1', at: now - 60_000, final: false } }, false, now), { current: false, age: 60_000 });
  t.like(copyState({ ...emptyRecord(), received: { from: 'n1', at: now - H, final: true } }, false, now), { current: true });
  // the service ran here after the last copy came in
  t.like(copyState({ ...emptyRecord(), received: { from: 'n1', at: now - H, final: false }, started: now - 1000 }, false, now), { current: true });
  // handed over to n2 an hour ago, nothing received since: an hour old, even on the origin
  t.like(copyState({ ...emptyRecord(), started: now - 2 * H, handedOver: { to: 'n2', at: now - H } }, true, now), { current: false, age: H });
  // ... then n2 pushed back 10 s ago
  t.like(copyState({ ...emptyRecord(), started: now - 2 * H, handedOver: { to: 'n2', at: now - H }, received: { from: 'n2', at: now - 10_000, final: false } }, true, now), { current: false, age: 10_000 });
});

test('takeover gate: current or within max_delay starts; older waits unless stale_takeover; a relocation is the caller\'s stricter case', (t) => {
  t.deepEqual(takeoverGate({ current: true, why: '' }, 1000, false), { ok: true });
  t.deepEqual(takeoverGate({ current: false, age: 999, why: '' }, 1000, false), { ok: true });
  t.deepEqual(takeoverGate({ current: false, age: 1000, why: '' }, 1000, false), { ok: true });
  const old = takeoverGate({ current: false, age: 1001, why: 'last sync from n1' }, 1000, false);
  t.false(old.ok);
  t.regex((old as { why: string }).why, /waiting for the operator/);
  t.deepEqual(takeoverGate({ current: false, age: 1001, why: '' }, 1000, true), { ok: true });
  t.false(takeoverGate({ current: false, age: undefined, why: 'never synced' }, 1000, false).ok);
  t.true(takeoverGate({ current: false, age: undefined, why: 'never synced' }, 1000, true).ok);
});

test('phase 1: another pass only while the delta is large, shrinking, and the count allows', (t) => {
  const big = PHASE1.smallBytes * 10;
  t.true(anotherPass(1, big, 5000, undefined));
  t.false(anotherPass(1, PHASE1.smallBytes, 5000, undefined), 'small delta: stop now');
  t.false(anotherPass(1, big, PHASE1.shortMs, undefined), 'a short pass: the next one is no better');
  t.true(anotherPass(2, big, 5000, big * 2));
  t.false(anotherPass(2, big, 5000, big), 'not shrinking: writes as fast as the copy');
  t.false(anotherPass(PHASE1.maxPasses, big, 5000, big * 2), 'bounded count');
});

test('due pushes', (t) => {
  const r = { ...emptyRecord(), sent: { n2: { at: 1000, bytes: 1, ms: 1, final: false } } };
  t.false(syncDue(r, 'n2', 5000, 5999));
  t.true(syncDue(r, 'n2', 5000, 6000));
  t.true(syncDue(r, 'n3', 5000, 0));
});

test('a record file that is not ours reads as no history', (t) => {
  t.is(parseRecord('not json'), undefined);
  t.is(parseRecord('{"v":2}'), undefined);
  t.deepEqual(parseRecord('{"v":1,"sent":{"n2":{"at":"x"}},"received":{"from":3}}'), emptyRecord());
});

test('targets: `nodes` is the other nodes of the service', (t) => {
  t.deepEqual(resolveTargets(['nodes'], ['n1', 'n2', 'n3'], 'n1'), ['n2', 'n3']);
  t.deepEqual(resolveTargets([], ['n1', 'n2'], 'n2'), ['n1']);
  t.deepEqual(resolveTargets(['n3', 'n1'], ['n1', 'n2', 'n3'], 'n1'), ['n3']);
});

test('rsync --server of a push: only into dst, no --sender, no options taking paths', (t) => {
  const ok = ['rsync', '--server', '-logDtpre.iLsfxCIvu', '--timeout=30', '--delete', '--stats', '--numeric-ids', '.', '/data/svc/'];
  t.deepEqual(checkServerArgs(ok, '/data/svc'), { ok: true, args: ['--server', '-logDtpre.iLsfxCIvu', '--timeout=30', '--delete', '--stats', '--numeric-ids', '.', '/data/svc/'] });
  t.like(checkServerArgs(['rsync', '--server', '-a', '.', '/etc/'], '/data/svc'), { ok: false, error: 'path /etc/ is not this node\'s dst of the resource (/data/svc)' });
  t.like(checkServerArgs(['rsync', '--server', '-a', '.', '/data/svc/../../etc'], '/data/svc'), { ok: false });
  t.like(checkServerArgs(['rsync', '--server', '--sender', '-a', '.', '/data/svc/'], '/data/svc'), { ok: false, error: 'only pushes are accepted (--sender refused)' });
  t.like(checkServerArgs(['rsync', '--server', '--log-file=/etc/passwd', '.', '/data/svc/'], '/data/svc'), { ok: false, error: 'rsync --server option --log-file=/etc/passwd refused' });
  t.like(checkServerArgs(['rsync', '--server', '-a', '--temp-dir', '/tmp', '.', '/data/svc/'], '/data/svc'), { ok: false });
  t.like(checkServerArgs(['sh', '-c', 'id', '.', '/data/svc'], '/data/svc'), { ok: false, error: 'not an rsync --server command' });
  t.like(checkServerArgs(['rsync', '--server', '/data/svc'], '/data/svc'), { ok: false });
});

test('rsync --stats: bytes on the wire and changed file bytes', (t) => {
  const out = 'Number of files: 3\nTotal file size: 10,485,760 bytes\nTotal transferred file size: 1,048,576 bytes\nLiteral data: 1,048,576 bytes\nTotal bytes sent: 1,049,012\nTotal bytes received: 61\n';
  t.deepEqual(parseStats(out), { bytes: 1_049_012, fileBytes: 1_048_576 });
  t.deepEqual(parseStats(''), { bytes: 0, fileBytes: 0 });
});

test('stream OPEN: bounded and typed', (t) => {
  const o = { purpose: 'rsync', svc: 's', rid: 'sync#1', path: '/d/', argv: ['rsync', '--server', '.', '/d/'], final: false };
  t.deepEqual(parseOpen(Buffer.from(JSON.stringify(o))), o);
  t.is(parseOpen(Buffer.from(JSON.stringify({ ...o, purpose: 'shell' }))), undefined);
  t.is(parseOpen(Buffer.from(JSON.stringify({ ...o, argv: Array.from({ length: ARGV_MAX + 1 }, () => 'x') }))), undefined);
  t.is(parseOpen(Buffer.alloc(OPEN_MAX + 1, 0x20)), undefined);
  t.is(parseOpen(Buffer.from('{')), undefined);
});

test('transport arguments as rsync gives them', (t) => {
  t.deepEqual(parseTransportArgs(['--svc', 's', '--rid', 'sync#1', '--timeout', '60', '--final', 'n2', 'rsync', '--server', '.', '/d/']), { svc: 's', rid: 'sync#1', final: true, timeoutMs: 60_000, peer: 'n2', remote: ['rsync', '--server', '.', '/d/'], held: false });
  t.is(typeof parseTransportArgs(['n2', 'rsync']), 'string');
  // pre-opened: the command may come later (fd 4)
  t.deepEqual(parseTransportArgs(['--svc', 's', '--rid', 'sync#1', '--final', '--held', '--fifo', '/v/held-1', 'n2']), { svc: 's', rid: 'sync#1', final: true, timeoutMs: H, peer: 'n2', remote: [], held: true, fifo: '/v/held-1' });
  t.deepEqual(parseTransportArgs(['--svc', 's', '--rid', 'sync#1', '--held', 'n2', 'btrfs', 'receive', '/d']), { svc: 's', rid: 'sync#1', final: false, timeoutMs: H, peer: 'n2', remote: ['btrfs', 'receive', '/d'], held: true });
  // held without the command needs its FIFOs; with them, no command; no FIFOs unless held
  t.is(typeof parseTransportArgs(['--svc', 's', '--rid', 'sync#1', '--held', 'n2']), 'string');
  t.is(typeof parseTransportArgs(['--svc', 's', '--rid', 'sync#1', '--held', '--fifo', '/v', 'n2', 'rsync', '--server']), 'string');
  t.is(typeof parseTransportArgs(['--svc', 's', '--rid', 'sync#1', '--fifo', '/v', 'n2', 'rsync', '--server']), 'string');
  t.is(typeof parseTransportArgs(['--svc', 's', '--rid', 'sync#1', '--held', 'n2', 'btrfs']), 'string');
  t.is(typeof parseTransportArgs(['--svc', 's', '--rid', 'sync#1', 'n2']), 'string');
});

const check = (text: string) => validateText(text, 'svc.env', { svcname: 'svc', nodename: 'n1', drivers }).errors.map(String);

test('bad input: a target outside nodes, a missing src, a bad schedule: file:line errors', (t) => {
  const head = '[DEFAULT]\nnodes = n1 n2\n\n';
  t.deepEqual(check(`${head}[sync#1]\ntype = rsync\nsrc = /data/{nodename}\nschedule = @5m\n`), []);
  t.deepEqual(check(`${head}[sync#1]\ntype = rsync\nsrc = /data\ntarget = n2 n3\n`), ['svc.env:7: [sync#1] target n3 not in the nodes of the service (n1 n2)']);
  t.deepEqual(check(`${head}[sync#1]\ntype = rsync\n`), ['svc.env:4: [sync#1] missing required keyword "src" for type rsync (the directory to copy)']);
  t.deepEqual(check(`${head}[sync#1]\ntype = rsync\nsrc = data\nschedule = 5m\n`), ['svc.env:6: [sync#1] src "data" must be an absolute path', 'svc.env:7: [sync#1] bad schedule "5m": expected @<interval> (at least 1s, like @5m) or HH:MM-HH:MM[@<interval>]']);
  // the rsync keywords are not those of type config
  t.deepEqual(check(`${head}[sync#1]\nsrc = /x\nschedule = @5m\n`), ['svc.env:6: keyword "schedule" is not valid for type "config" of [sync#1] (only for type rsync, btrfs)']);
});

test('held rsync: the remote command from the shim\'s command line; another host or no command refused', (t) => {
  const nul = (...a: string[]) => Buffer.from([...a, ''].map((x) => `${x}\0`).join(''));
  t.deepEqual(shimCommand(nul('n2', 'rsync', '--server', '-logDtpre.iLsfxCIvu', '.', '/d/'), 'n2'), ['rsync', '--server', '-logDtpre.iLsfxCIvu', '.', '/d/']);
  t.deepEqual(shimCommand(nul('-l', 'root', 'n2', 'rsync', '--server', '.', '/d/'), 'n2'), ['rsync', '--server', '.', '/d/']);
  t.throws(() => shimCommand(nul('n3', 'rsync', '--server', '.', '/d/'), 'n2'), { message: /held for n2/ });
  t.throws(() => shimCommand(nul('n2', 'rsync'), 'n2'), { message: /without a remote command/ });
  t.throws(() => shimCommand(Buffer.from('n2\0rsync\0--server'), 'n2'), { message: /not terminated/ });
});
