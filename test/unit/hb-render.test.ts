// svcmon's heartbeat block: tx per heartbeat, rx per peer, drops by reason.
import test from 'ava';
import { renderHeartbeats } from '../../src/cli/render-heartbeats.js';
import { emptyDrops } from '../../src/heartbeat/types.js';

test('one line per heartbeat, one per peer', (t) => {
  const now = 1_000_000;
  const lines = renderHeartbeats(
    {
      at: now,
      nodename: 'n1',
      incarnation: '1',
      heartbeats: [
        { id: 'hb#1', type: 'unicast', txState: 'up', txError: undefined, tx: 42, lastSent: now - 300, drops: { ...emptyDrops(), forged: 2, malformed: 1 }, peers: { n2: { rxState: 'up', lastSeen: now - 500, rx: 40, drops: { ...emptyDrops(), forged: 2 } } } },
        { id: 'hb#2', type: 'disk', txState: 'error', txError: 'write /dev/sdb: EIO', tx: 3, lastSent: null, drops: emptyDrops(), peers: { n2: { rxState: 'down', lastSeen: null, rx: 0, drops: emptyDrops() } } },
      ],
    },
    now,
  );
  t.deepEqual(lines, [
    'heartbeat     state                          last      count    drops',
    'hb#1 unicast  tx up                          0.3s ago  42 sent  3',
    '  n2          rx up                          0.5s ago  40 recv  forged 2',
    'hb#2 disk     tx error: write /dev/sdb: EIO  -         3 sent   0',
    '  n2          rx down                        -         0 recv   0',
  ]);
});
