// Hostile sender for the heartbeat tests, run inside a namespace. Captures one genuine beat
// addressed to it, then sends the target a set of bad datagrams and prints how many of each
// kind it sent: {"malformed":2,"foreign":1,"forged":2,"unknown":1,"replayed":2}.
// argv[2]: {"etc": dir with cluster.secret, "cluster": name, "hb": id, "listen": {addr,port}, "from": addr, "target": {addr,port}}
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { deriveKey, seal } from '../../src/heartbeat/envelope.js';

interface Spec {
  etc: string;
  cluster: string;
  hb: string;
  listen: { addr: string; port: number };
  /** capture only a beat from this address (the victim's peer) */
  from: string;
  target: { addr: string; port: number };
}
const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const secret = fs.readFileSync(path.join(spec.etc, 'cluster.secret'), 'utf8').trim();
const good = deriveKey(secret, spec.cluster);
const evil = Buffer.from('{"evil":true}');
const sealAs = (k: ReturnType<typeof deriveKey>, sender: string, incarnation: bigint, seq: bigint): Buffer =>
  seal(k, { kind: 'beat', incarnation, seq, sender, hb: spec.hb }, evil);

const sock = dgram.createSocket('udp4');
await new Promise<void>((r) => sock.bind(spec.listen.port, spec.listen.addr, () => r()));
const captured = await new Promise<Buffer>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no genuine beat captured within 5s')), 5000);
  // n2 beats to us as well: its own message replayed at it would only be "unknown" (self)
  const onMessage = (m: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (rinfo.address !== spec.from) return;
    clearTimeout(timer);
    sock.off('message', onMessage);
    resolve(m);
  };
  sock.on('message', onMessage);
});
// let the target receive the original first: what follows is a replay, not a race
await new Promise((r) => setTimeout(r, 100));

const tampered = Buffer.from(captured);
tampered[tampered.length - 20] = tampered[tampered.length - 20]! ^ 0xff;
const batch: [keyof typeof counts, Buffer][] = [
  ['malformed', Buffer.from('GET / HTTP/1.0\r\n\r\n not a heartbeat, not even close')],
  ['malformed', captured.subarray(0, 40)],
  ['foreign', sealAs(deriveKey(secret, `${spec.cluster}-other`), 'n1', 1n << 60n, 1n)],
  ['forged', sealAs(deriveKey('77'.repeat(32), spec.cluster), 'n1', 1n << 60n, 1n)],
  ['forged', tampered],
  ['unknown', sealAs(good, 'mallory', 1n << 60n, 1n)],
  ['replayed', captured],
  ['replayed', sealAs(good, 'n1', 1n, 1n)],
];
const counts = { malformed: 0, foreign: 0, forged: 0, unknown: 0, replayed: 0 };
for (const [kind, buf] of batch) {
  await new Promise<void>((r, j) => sock.send(buf, spec.target.port, spec.target.addr, (e) => (e ? j(e) : r())));
  counts[kind]++;
}
sock.close();
process.stdout.write(JSON.stringify(counts) + '\n');
