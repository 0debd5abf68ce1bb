// Fuzz target: the heartbeat envelope as a receiver sees datagrams. A mutated sealed message
// must never be accepted unless it is byte for byte one of the messages really sealed, and a
// message accepted once must be refused as a replay by the ReplayGuard ever after.
import crypto from 'node:crypto';
import { decodeHeader, deriveKey, open, ReplayGuard, seal } from '../../../src/heartbeat/envelope.js';
import type { Header, KeyContext } from '../../../src/heartbeat/envelope.js';
import type { FuzzTarget } from '../target.js';

const ctx: KeyContext = deriveKey('ab'.repeat(32), 'prod');
const other: KeyContext = deriveKey('cd'.repeat(32), 'prod');
const foreign: KeyContext = deriveKey('ab'.repeat(32), 'staging');
const AT = { self: 'n2', nodes: ['n1', 'n2', 'n3'], hb: 'hb#1' };
const NONCE = 12;

type Msg = { kind: Header['kind']; incarnation: bigint; seq: bigint; sender: string; hb: string; payload: string; key?: KeyContext };

const MESSAGES: readonly Msg[] = [
  { kind: 'beat', incarnation: 1000n, seq: 1n, sender: 'n1', hb: 'hb#1', payload: '{"svc":{"web":{"avail":"up"}},"frozen":false}' },
  { kind: 'beat', incarnation: 1000n, seq: 2n, sender: 'n1', hb: 'hb#1', payload: '{}' },
  { kind: 'leaving', incarnation: 1000n, seq: 3n, sender: 'n1', hb: 'hb#1', payload: '' },
  { kind: 'beat', incarnation: 0xffffffffffffffffn, seq: 0xfffffffffffffffen, sender: 'n3', hb: 'hb#1', payload: '{"a":[1,2,3]}' },
  { kind: 'beat', incarnation: 5n, seq: 1n, sender: 'n3', hb: 'hb#2', payload: '{"other":"heartbeat"}' },
  { kind: 'beat', incarnation: 7n, seq: 9n, sender: 'n2', hb: 'hb#1', payload: '{"self":true}' },
  { kind: 'beat', incarnation: 7n, seq: 9n, sender: 'intruder', hb: 'hb#1', payload: '{}' },
  { kind: 'beat', incarnation: 8n, seq: 1n, sender: 'n1', hb: 'hb#1', payload: '{"wrong":"key"}', key: other },
  { kind: 'beat', incarnation: 8n, seq: 1n, sender: 'n1', hb: 'hb#1', payload: '{"other":"cluster"}', key: foreign },
  { kind: 'beat', incarnation: 9n, seq: 1n, sender: 'n'.repeat(200), hb: 'h'.repeat(200), payload: 'x'.repeat(1000) },
];

/**
 * seal() with a fixed nonce: seeds must be the same on every run (the contract), and seal()
 * draws a random nonce. The clear header is seal()'s own; setup() checks open() takes them.
 */
function sealFixed(m: Msg, i: number): Buffer {
  const k = m.key ?? ctx;
  const sealed = seal(k, m, Buffer.from(m.payload, 'utf8'));
  const d = decodeHeader(sealed);
  if (!d) throw new Error('seal() produced a message decodeHeader() refuses');
  const header = sealed.subarray(0, d.headerLen);
  const nonce = crypto.createHash('sha256').update(`fuzz-nonce-${i}`).digest().subarray(0, NONCE);
  const c = crypto.createCipheriv('aes-256-gcm', k.key, nonce);
  c.setAAD(header);
  const body = Buffer.concat([c.update(Buffer.from(m.payload, 'utf8')), c.final()]);
  return Buffer.concat([header, nonce, body, c.getAuthTag()]);
}

const SEALED: readonly Buffer[] = MESSAGES.map(sealFixed);
/** the messages a receiver at AT may accept, and exactly once each */
const GENUINE = new Set(SEALED.filter((b) => open(ctx, AT, b).ok).map((b) => b.toString('hex')));
/** a receiver's guard: set up fresh by setup(), which accepts every genuine message once */
let guard = new ReplayGuard();

export const dictionary: string[] = ['FYHB', 'n1', 'n2', 'n3', 'hb#1', 'hb#2', '{}', '\u0000', '\u00ff'];

export const target: FuzzTarget = {
  name: 'hb-envelope',
  seeds: () => [...SEALED, Buffer.alloc(0), Buffer.from('FYHB\u0001\u0000', 'latin1')],
  async setup(): Promise<void> {
    // the first four messages are genuine at AT, the others each refused for their own reason
    const want = ['ok', 'ok', 'ok', 'ok', 'replayed', 'unknown', 'unknown', 'forged', 'foreign', 'unknown'];
    const got = SEALED.map((b) => {
      const r = open(ctx, AT, b);
      return r.ok ? 'ok' : r.reason;
    });
    if (got.join() !== want.join()) throw new Error(`hb-envelope seeds: open() gave ${got.join()}, expected ${want.join()}`);
    // accept each genuine message once: every later sight of one is a replay
    guard = new ReplayGuard();
    for (const b of SEALED) {
      const r = open(ctx, AT, b);
      if (r.ok && !guard.accept(r.header)) throw new Error('hb-envelope seeds: ReplayGuard refused a first sight');
    }
  },
  run(input: Buffer): void {
    const r = open(ctx, AT, input);
    if (!r.ok) return;
    if (!GENUINE.has(input.toString('hex'))) {
      throw new Error(`forged message accepted: sender ${r.header.sender} seq ${r.header.seq} (${input.length} bytes)`);
    }
    if (guard.accept(r.header)) throw new Error(`replay accepted: sender ${r.header.sender} seq ${r.header.seq}`);
  },
};
