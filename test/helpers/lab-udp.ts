// A tiny UDP tool run inside lab nodes to prove real packets flow (or not) between them.
//   serve <port>                         echo "ping N" as "pong N", count "data" packets,
//                                        answer "count" with "count <n>", "reset" with "reset"
//   ping <host> <port> <n> <gapMs> <waitMs>   print {"sent":n,"received":k} (distinct pongs)
//   blast <host> <port> <n> <gapMs>      reset the server's counter, send n "data" packets one
//                                        way, print {"sent":n,"counted":k} as the server saw it
// Control messages (reset, count) are retried, so they get through a lossy link.
import dgram from 'node:dgram';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function serve(port: number): void {
  const sock = dgram.createSocket('udp4');
  let count = 0;
  sock.on('message', (msg, rinfo) => {
    const text = msg.toString();
    const reply = (s: string): void => sock.send(s, rinfo.port, rinfo.address);
    if (text.startsWith('ping ')) reply(`pong ${text.slice(5)}`);
    else if (text.startsWith('data ')) count++;
    else if (text === 'count') reply(`count ${count}`);
    else if (text === 'reset') {
      count = 0;
      reply('reset');
    }
  });
  sock.bind(port, '0.0.0.0', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => {
    sock.close();
    process.exit(0);
  });
}

async function client(): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  // errors (unreachable, no route) count as lost packets, not as a crash
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.bind(0, r));
  return sock;
}

async function ping(host: string, port: number, n: number, gap: number, wait: number): Promise<void> {
  const sock = await client();
  const got = new Set<string>();
  sock.on('message', (m) => {
    const t = m.toString();
    if (t.startsWith('pong ')) got.add(t.slice(5));
  });
  for (let i = 0; i < n; i++) {
    sock.send(`ping ${i}`, port, host);
    await sleep(gap);
  }
  await sleep(wait);
  process.stdout.write(`${JSON.stringify({ sent: n, received: got.size })}\n`);
  sock.close();
}

/** Send `msg` until a reply starting with `expect` arrives; its text, or null. */
async function ask(sock: dgram.Socket, host: string, port: number, msg: string, expect: string): Promise<string | null> {
  for (let i = 0; i < 100; i++) {
    const answer = new Promise<string | null>((resolve) => {
      const onMsg = (m: Buffer): void => {
        const t = m.toString();
        if (t.startsWith(expect)) {
          sock.off('message', onMsg);
          resolve(t);
        }
      };
      sock.on('message', onMsg);
      setTimeout(() => {
        sock.off('message', onMsg);
        resolve(null);
      }, 100);
    });
    sock.send(msg, port, host);
    const a = await answer;
    if (a !== null) return a;
  }
  return null;
}

async function blast(host: string, port: number, n: number, gap: number): Promise<void> {
  const sock = await client();
  if ((await ask(sock, host, port, 'reset', 'reset')) === null) throw new Error('server unreachable');
  for (let i = 0; i < n; i++) {
    sock.send(`data ${i}`, port, host);
    await sleep(gap);
  }
  await sleep(200);
  const c = await ask(sock, host, port, 'count', 'count ');
  if (c === null) throw new Error('no count from server');
  process.stdout.write(`${JSON.stringify({ sent: n, counted: Number(c.slice(6)) })}\n`);
  sock.close();
}

const [mode, ...a] = process.argv.slice(2);
const num = (i: number, d: number): number => (a[i] === undefined ? d : Number(a[i]));
if (mode === 'serve') serve(num(0, 7000));
else if (mode === 'ping') await ping(a[0]!, num(1, 7000), num(2, 5), num(3, 20), num(4, 500));
else if (mode === 'blast') await blast(a[0]!, num(1, 7000), num(2, 200), num(3, 2));
else {
  process.stderr.write('usage: lab-udp serve|ping|blast ...\n');
  process.exit(2);
}
