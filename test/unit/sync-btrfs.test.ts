// The pure rules of [sync#N] type = btrfs: snapshot names, the parent of an incremental
// send, the prune list, the receive command a peer may ask for.
import test from 'ava';
import { checkReceiveArgs, chooseParent, ourSnapshots, pruneList, snapDir, snapName, snapTime } from '../../src/resources/sync-btrfs-state.js';
import { emptyRecord, parseRecord } from '../../src/resources/sync-rsync-state.js';

const T = Date.UTC(2026, 11, 3, 12, 27, 0, 123);

test('snapshot names sort by time and read back', (t) => {
  t.is(snapName('data', T), 'data@20261203T122700.123Z');
  t.is(snapTime('data', snapName('data', T)), T);
  t.is(snapTime('other', snapName('data', T)), undefined);
  t.is(snapTime('data', 'data@garbage'), undefined);
  t.is(snapTime('data', 'data'), undefined);
  const names = [snapName('data', T + 1000), 'lost+found', snapName('data', T), snapName('data', T + 60_000), 'data', snapName('db', T + 99_000)];
  t.deepEqual(ourSnapshots('data', names), [snapName('data', T + 60_000), snapName('data', T + 1000), snapName('data', T)]);
});

test('the parent: the newest snapshot in common with that peer that is still here', (t) => {
  const [a, b, c] = [snapName('d', T), snapName('d', T + 1000), snapName('d', T + 2000)];
  const r = emptyRecord();
  t.is(chooseParent('d', r, 'n2', [a, b]), undefined, 'never sent: full');
  r.sent.n2 = { at: T, bytes: 1, ms: 1, final: false, snap: a };
  t.is(chooseParent('d', r, 'n2', [a, b]), a);
  t.is(chooseParent('d', r, 'n3', [a, b]), undefined, 'another peer has nothing in common');
  t.is(chooseParent('d', r, 'n2', [b]), undefined, 'pruned here: full');
  r.received = { from: 'n2', at: T + 1000, final: true, snap: b };
  t.is(chooseParent('d', r, 'n2', [a, b]), b, 'received from it later: that one');
  r.received = { from: 'n3', at: T + 1000, final: true, snap: c };
  t.is(chooseParent('d', r, 'n2', [a, b, c]), a, 'received from another peer: not in common with n2');
});

test('prune keeps the newest N and every snapshot in common with a peer', (t) => {
  const s = [0, 1, 2, 3, 4].map((i) => snapName('d', T + i * 1000));
  const r = emptyRecord();
  t.deepEqual(pruneList('d', s, 2, r).sort(), [s[0], s[1], s[2]].sort());
  r.sent.n2 = { at: T, bytes: 1, ms: 1, final: false, snap: s[0] };
  r.received = { from: 'n3', at: T, final: false, snap: s[1] };
  t.deepEqual(pruneList('d', s, 2, r), [s[2]]);
  t.deepEqual(pruneList('d', s, 0, emptyRecord()).length, 4, 'at least one is kept');
  t.deepEqual(pruneList('d', [...s, 'other'], 9, emptyRecord()), []);
});

test('the snapshot dir defaults to the parent of src', (t) => {
  t.is(snapDir('/srv/x/data', undefined), '/srv/x');
  t.is(snapDir('/srv/x/data/', ''), '/srv/x');
  t.is(snapDir('/srv/x/data', '/snaps'), '/snaps');
});

test('a peer may only ask for btrfs receive into this node\'s dst', (t) => {
  t.deepEqual(checkReceiveArgs(['btrfs', 'receive', '/srv/x/'], '/srv/x'), { ok: true, args: ['receive', '/srv/x'] });
  t.false(checkReceiveArgs(['btrfs', 'receive', '/etc'], '/srv/x').ok);
  t.false(checkReceiveArgs(['btrfs', 'receive', '/srv/x/../../etc'], '/srv/x').ok);
  t.false(checkReceiveArgs(['btrfs', 'receive', '-e', '/srv/x'], '/srv/x').ok);
  t.false(checkReceiveArgs(['btrfs', 'send', '/srv/x'], '/srv/x').ok);
  t.false(checkReceiveArgs(['rsync', '--server', '.', '/srv/x'], '/srv/x').ok);
});

test('records keep the snapshot names', (t) => {
  const r = parseRecord(JSON.stringify({ v: 1, sent: { n2: { at: 1, bytes: 2, ms: 3, final: true, snap: 'd@x', parent: 'd@w' } }, received: { from: 'n2', at: 4, final: false, snap: 'd@y' } }))!;
  t.like(r.sent.n2, { snap: 'd@x', parent: 'd@w' });
  t.like(r.received, { snap: 'd@y' });
});
