// (busybox 1.35 wget segfaults on a refused connection when given -T: never pass -T.)
// The README's main job: a two-node ferry cluster on this machine (lab namespaces), a
// service with an address, a filesystem on the shared disk, a container and a web app,
// the owner node killed, the failover timed, and everything removed at the end.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from './lab.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = (name: string) => path.join(repo, 'dist', 'src', 'cli', `${name}.js`);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => process.stdout.write(`\n${bold(`== ${s}`)}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SVC = 'web.demo';
const VIP = '10.215.0.100';

async function main(): Promise<void> {
  const lab = await Lab.create({ nodes: 2, links: 2, disks: { heartbeat: 16, data: 64 } });
  const cleanup = async () => {
    if (process.env.FERRY_DEMO_KEEP) {
      process.stdout.write(`FERRY_DEMO_KEEP is set: lab ${lab.id} kept (ferry-lab destroy ${lab.id})\n`);
      return;
    }
    await lab.destroy();
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const mnt = path.join(lab.dir, 'srv', SVC);
    const svcFile = `[DEFAULT]
nodes = n1 n2
orchestrate = ha
service_type = DEV

[ip#1]
ipname = ${VIP}
ipdev = eth0
netmask = 24

[fs#1]
dev = ${lab.dataDisk}
mnt = ${mnt}
type = ext4

[container#1]
type = docker
run_image = ferry/busybox:latest
run_args = --network none
run_command = /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait"

[app#web]
start = /bin/sh -c "echo served by {nodename} from the shared disk > ${mnt}/index.html; exec /bin/busybox httpd -p ${VIP}:8080 -h ${mnt}"
stop = /usr/bin/pkill -f "httpd -p ${VIP}:8080"
check = /bin/sh -c "ip -o addr show to ${VIP} | grep -q . && exec /bin/busybox wget -q -O /dev/null http://${VIP}:8080/"
`;
    // STONITH for both nodes with the lab fence agent: n2 powers n1 off (confirmed) before it
    // takes over; a lab power-off is instant, so the two-node fence race delay can be short
    lab.writeClusterConf({ interval: '200ms', timeout: '1s', stonith: true, cluster: ['fence_delay = 1s'] });
    for (const n of ['n1', 'n2']) fs.writeFileSync(path.join(lab.root(n), 'etc', 'services', `${SVC}.env`), svcFile);
    const node = process.execPath;
    const show = async (n: string, args: string[], tool = 'svcmgr') => {
      const r = await lab.exec(n, node, [cli(tool), ...args]);
      process.stdout.write(r.stdout);
      if (r.stderr.trim()) process.stdout.write(r.stderr);
      return r;
    };
    const availOn = async (n: string): Promise<string> => {
      const r = await lab.exec(n, node, [cli('svcmgr'), '-s', SVC, 'print', 'status', '--format', 'json']);
      try {
        return (JSON.parse(r.stdout) as { avail: string }).avail;
      } catch {
        return 'undef';
      }
    };

    step(`lab ${lab.id}: nodes n1 (${lab.address('n1', 0)}) and n2 (${lab.address('n2', 0)}), heartbeats every 200 ms on two networks and the shared disk`);
    step(`cat /etc/ferry/services/${SVC}.env`);
    process.stdout.write(svcFile);
    step('start the agents: nodemgr daemon run on n1 and n2');
    lab.startAgent('n1');
    lab.startAgent('n2');
    const t0 = Date.now();
    while ((await availOn('n1')) !== 'up') {
      if (Date.now() - t0 > 60_000) throw new Error(`${SVC} did not come up on n1: see ${lab.agentLog('n1')}`);
      await sleep(200);
    }
    process.stdout.write(`${SVC} started by the daemon on n1 (first of nodes) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    step('svcmon (on n1)');
    await show('n1', [], 'svcmon');
    step(`svcmgr -s ${SVC} print status (on n1)`);
    await show('n1', ['-s', SVC, 'print', 'status']);
    step(`a client on n2: wget http://${VIP}:8080/`);
    process.stdout.write((await lab.exec('n2', 'busybox', ['wget', '-q', '-O', '-', `http://${VIP}:8080/`])).stdout);

    step('kill node n1 (every process, its mounts, its links: a dead server)');
    const killedAt = Date.now();
    await lab.killNode('n1');
    let upAt = 0;
    while (!upAt) {
      if ((await availOn('n2')) === 'up') upAt = Date.now();
      else if (Date.now() - killedAt > 60_000) throw new Error(`no failover within 60 s: see ${lab.agentLog('n2')}`);
      else await sleep(50);
    }
    let servedAt = 0;
    let body = '';
    while (!servedAt && Date.now() - upAt < 30_000) {
      const r = await lab.exec('n2', 'busybox', ['wget', '-q', '-O', '-', `http://${VIP}:8080/`]);
      if (r.ok) {
        servedAt = Date.now();
        body = r.stdout;
      }
    }
    process.stdout.write(bold(`failover: ${SVC} up on n2 ${((upAt - killedAt) / 1000).toFixed(2)} s after n1 died; the web app answered again after ${((servedAt - killedAt) / 1000).toFixed(2)} s\n`));
    process.stdout.write(body);
    // the survivor's own account, from its daemon log: when it declared n1 dead, how long
    // the takeover itself took (the kill above also waits for the lab to release n1's disk)
    const events = fs
      .readFileSync(path.join(lab.root('n2'), 'log', 'daemon.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { time: number; msg: string; ms?: number })
      .filter((e) => e.time >= killedAt);
    const down = events.find((e) => e.msg === 'peer n1 down');
    const fenced = events.find((e) => e.msg.startsWith('fenced n1'));
    const done = events.find((e) => e.msg.startsWith(`${SVC} start done`));
    if (down && done) {
      const fence = fenced ? `, fenced it (lab power-off, after the 1 s two-node fence delay) at ${((fenced.time - killedAt) / 1000).toFixed(2)} s` : '';
      process.stdout.write(`n2's log: n1 declared dead ${((down.time - killedAt) / 1000).toFixed(2)} s after the kill began (heartbeat timeout 1 s)${fence}; takeover start took ${done.ms ?? '?'} ms\n`);
    }
    step('svcmon (on n2)');
    await show('n2', [], 'svcmon');
  } finally {
    step(`tear down lab ${lab.id}`);
    const left = await cleanup();
    void left;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
