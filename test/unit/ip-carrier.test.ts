// The carrier rule the ip driver applies to its one netlink read of the device (`ip -j addr show`).
import test from 'ava';
import { carrierOf, carrierProblem } from '../../src/resources/ip-link.js';

test('carrier: up with LOWER_UP and a working operstate', (t) => {
  t.deepEqual(carrierOf({ flags: ['BROADCAST', 'UP', 'LOWER_UP'], operstate: 'UP' }), { carrier: true, operstate: 'up' });
  // drivers without operstate support (dummy, some tunnels) say UNKNOWN while up
  t.true(carrierOf({ flags: ['UP', 'LOWER_UP'], operstate: 'UNKNOWN' }).carrier);
  t.true(carrierOf({ flags: ['UP', 'LOWER_UP'] }).carrier);
});

test('carrier: a pulled cable, an administratively down device, a down lower layer', (t) => {
  t.false(carrierOf({ flags: ['BROADCAST', 'UP', 'NO-CARRIER'], operstate: 'DOWN' }).carrier);
  t.false(carrierOf({ flags: ['BROADCAST'], operstate: 'DOWN' }).carrier);
  t.false(carrierOf({ flags: ['UP', 'LOWER_UP'], operstate: 'LOWERLAYERDOWN' }).carrier);
  t.false(carrierOf({ flags: ['UP', 'LOWER_UP'], operstate: 'NOTPRESENT' }).carrier);
  t.is(carrierProblem('eth0', carrierOf({ flags: ['UP'], operstate: 'DOWN' })), 'no carrier on eth0 (operstate down)');
  t.is(carrierProblem('eth0', carrierOf({ flags: ['UP', 'LOWER_UP'], operstate: 'UP' })), undefined);
});
