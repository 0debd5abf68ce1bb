// One state-channel connection, either side: the handshake (clear frames), then AES-256-GCM
// frames carrying typed messages. Every way a connection can go wrong ends in close() with
// a reason, never in a throw: bytes that are not ours, a wrong secret, an unknown node, a
// frame too large, a stalled peer. Buffers are bounded by the frame limit (4 KiB until the
// peer proved it holds the secret, 16 MiB after) and by the socket's write backlog.
import crypto from 'node:crypto';
import type net from 'node:net';
import type { ChannelKeys, Transcript } from './crypto.js';
import { FrameCipher, NONCE_BYTES, proof, proofOk, sessionKeys, transcriptHash } from './crypto.js';
import { encodeFrame, FRAME_MAX, FrameError, FrameReader } from './framing.js';

/** Why a connection was dropped; counted per endpoint. */
export type ChanDrop = 'malformed' | 'foreign' | 'unknown' | 'forged' | 'timeout' | 'oversize' | 'busy';
export const CHAN_DROPS: readonly ChanDrop[] = ['malformed', 'foreign', 'unknown', 'forged', 'timeout', 'oversize', 'busy'];
export type CloseReason = ChanDrop | 'closed';

const HELLO = 0x10;
const HELLO_REPLY = 0x11;
const AUTH = 0x12;
/** a peer that reads slower than we write: past this backlog it is dropped, not buffered */
export const WRITE_BACKLOG_MAX = 64 * 1024 * 1024;

export interface ConnOptions {
  keys: ChannelKeys;
  self: string;
  nodes: readonly string[];
  role: 'client' | 'server';
  /** client: the node we dialled; its server must prove that name */
  expectPeer?: string;
  handshakeTimeoutMs: number;
  /** no frame received for this long: the connection is dead */
  idleTimeoutMs: number;
  onReady: (peer: string) => void;
  onMessage: (type: number, body: Buffer) => void;
  onClose: (reason: CloseReason, detail: string) => void;
}

type Phase = 'hello' | 'reply' | 'auth' | 'open' | 'closed';

function jsonOf(body: Buffer, type: number): Record<string, unknown> | undefined {
  if (body[0] !== type) return undefined;
  try {
    const v: unknown = JSON.parse(body.subarray(1).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function hexField(o: Record<string, unknown>, k: string, bytes: number): Buffer | undefined {
  const v = o[k];
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-f]+$/.test(v)) return undefined;
  return Buffer.from(v, 'hex');
}

const msg = (type: number, o: Record<string, unknown>): Buffer => Buffer.concat([Buffer.from([type]), Buffer.from(JSON.stringify(o), 'utf8')]);

export class SecureConn {
  private readonly reader = new FrameReader();
  private phase: Phase;
  private readonly nonce = crypto.randomBytes(NONCE_BYTES);
  private transcript: Transcript | undefined;
  private th: Buffer | undefined;
  private tx: FrameCipher | undefined;
  private rx: FrameCipher | undefined;
  private timer: NodeJS.Timeout | undefined;
  peer: string | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly o: ConnOptions,
  ) {
    this.phase = o.role === 'server' ? 'hello' : 'reply';
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.data(d));
    socket.on('error', (e) => this.close('closed', e.message));
    socket.on('close', () => this.close('closed', 'peer closed the connection'));
    this.arm(o.handshakeTimeoutMs, 'handshake not completed in time');
  }

  /** client: call once connected */
  startClient(): void {
    const id = this.o.keys.clusterId.toString('hex');
    this.sendClear(msg(HELLO, { v: 1, c: id, n: this.o.self, r: this.nonce.toString('hex') }));
  }

  get open(): boolean {
    return this.phase === 'open';
  }

  private arm(ms: number, why: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close('timeout', why), ms);
    this.timer.unref();
  }

  private sendClear(body: Buffer): void {
    this.socket.write(encodeFrame(body));
  }

  /** Send one message (type byte + body) sealed for the peer. false when not open. */
  send(type: number, body: Buffer): boolean {
    if (this.phase !== 'open' || !this.tx) return false;
    if (this.socket.writableLength > WRITE_BACKLOG_MAX) {
      this.close('timeout', `peer does not read: ${this.socket.writableLength} bytes waiting`);
      return false;
    }
    this.socket.write(encodeFrame(this.tx.seal(Buffer.concat([Buffer.from([type]), body]))));
    return true;
  }

  close(reason: CloseReason, detail: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.socket.destroy();
    this.o.onClose(reason, detail);
  }

  private data(d: Buffer): void {
    if (this.phase === 'closed') return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(d);
    } catch (e) {
      this.close(e instanceof FrameError ? 'oversize' : 'malformed', (e as Error).message);
      return;
    }
    for (const f of frames) {
      if ((this.phase as Phase) === 'closed') return;
      this.frame(f);
    }
  }

  private frame(f: Buffer): void {
    switch (this.phase) {
      case 'hello':
        return this.onHello(f);
      case 'reply':
        return this.onReply(f);
      case 'auth':
        return this.onAuth(f);
      case 'open': {
        const plain = this.rx!.open(f);
        if (!plain || plain.length < 1) return this.close('forged', 'frame failed authentication (tampered, replayed or reordered)');
        this.arm(this.o.idleTimeoutMs, 'connection idle');
        this.o.onMessage(plain[0]!, plain.subarray(1));
        return;
      }
      default:
        return;
    }
  }

  /** server: the client's hello */
  private onHello(f: Buffer): void {
    const o = jsonOf(f, HELLO);
    const cid = o && hexField(o, 'c', 8);
    const cn = o && hexField(o, 'r', NONCE_BYTES);
    if (!o || o.v !== 1 || !cid || !cn || typeof o.n !== 'string') return this.close('malformed', 'not a state channel hello');
    if (!cid.equals(this.o.keys.clusterId)) return this.close('foreign', 'another cluster');
    if (o.n === this.o.self || !this.o.nodes.includes(o.n)) return this.close('unknown', `"${o.n.slice(0, 64)}" is not a peer`);
    this.transcript = { client: o.n, clientNonce: cn, server: this.o.self, serverNonce: this.nonce };
    this.th = transcriptHash(this.o.keys, this.transcript);
    this.phase = 'auth';
    this.sendClear(msg(HELLO_REPLY, { v: 1, c: this.o.keys.clusterId.toString('hex'), n: this.o.self, r: this.nonce.toString('hex'), p: proof(this.o.keys, 'server', this.th).toString('hex') }));
  }

  /** client: the server's reply, with its proof */
  private onReply(f: Buffer): void {
    const o = jsonOf(f, HELLO_REPLY);
    const cid = o && hexField(o, 'c', 8);
    const sn = o && hexField(o, 'r', NONCE_BYTES);
    const p = o && hexField(o, 'p', 32);
    if (!o || o.v !== 1 || !cid || !sn || !p || typeof o.n !== 'string') return this.close('malformed', 'not a state channel reply');
    if (!cid.equals(this.o.keys.clusterId)) return this.close('foreign', 'another cluster');
    if (o.n !== this.o.expectPeer) return this.close('unknown', `dialled ${this.o.expectPeer}, "${o.n.slice(0, 64)}" answered`);
    this.transcript = { client: this.o.self, clientNonce: this.nonce, server: o.n, serverNonce: sn };
    this.th = transcriptHash(this.o.keys, this.transcript);
    if (!proofOk(this.o.keys, 'server', this.th, p)) return this.close('forged', 'server proof refused (wrong secret?)');
    this.sendClear(msg(AUTH, { p: proof(this.o.keys, 'client', this.th).toString('hex') }));
    this.ready(o.n);
  }

  /** server: the client's proof */
  private onAuth(f: Buffer): void {
    const o = jsonOf(f, AUTH);
    const p = o && hexField(o, 'p', 32);
    if (!p) return this.close('malformed', 'not a state channel auth');
    if (!proofOk(this.o.keys, 'client', this.th!, p)) return this.close('forged', 'client proof refused (wrong secret?)');
    this.ready(this.transcript!.client);
  }

  private ready(peer: string): void {
    const k = sessionKeys(this.o.keys, this.transcript!, this.th!);
    const client = this.o.role === 'client';
    this.tx = new FrameCipher(client ? k.c2s : k.s2c, client ? 1 : 2);
    this.rx = new FrameCipher(client ? k.s2c : k.c2s, client ? 2 : 1);
    this.reader.limit = FRAME_MAX;
    this.phase = 'open';
    this.peer = peer;
    this.arm(this.o.idleTimeoutMs, 'connection idle');
    this.o.onReady(peer);
  }
}
