// Soak under loss and load (issue 11): a 2-node lab at 100 ms / 300 ms on every heartbeat
// (two unicast networks and the disk), a failover service (ip + app) on n1, 20 % packet
// loss in both directions on n1's first link, both cores kept busy by CPU burners, for
// SOAK_MINUTES (default 30). Nothing is killed, so every `peer.down` is a false one, and so
// is every start or stop the daemons decide. The figures also say how many beats the lossy
// link really dropped (nft counters) and the machine's load while it ran.
//
//   npm run build && node dist/bench/run.js soak-loss
//   SOAK_MINUTES=n (default 30), SOAK_LOSS=0.2, SOAK_BURNERS=2, SOAK_BURNER_NICE=10
//
// The burners run at SOAK_BURNER_NICE (default 10) so a shared machine's other work is not
// starved for half an hour; with nothing else running they still take every idle cycle, so
// the agents compete for the CPU with everything at nice 0 on the machine (the load average
// is reported). SOAK_BURNER_NICE=0 makes them compete at the agents' own priority.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../src/lab/lab.js';
import { nftIn } from '../src/lab/nft.js';
import { readJsonLines, sleep, waitFor } from './common.js';

const SVC = 'web';
const VIP = '10.215.0.110';
const PORT = 8080;

interface LogLine {
  time: number;
  event?: string;
  [k: string]: unknown;
}

function serviceFile(lab: Lab): string {
  return `[DEFAULT]
nodes = n1 n2
orchestrate = ha

[ip#1]
ipname = ${VIP}
ipdev = eth0
netmask = 24

[app#1]
start = /bin/busybox httpd -p ${VIP}:${PORT} -h ${lab.dir}
stop = /bin/sh -c "kill $(ss -Hltnp 'sport = :${PORT}' | grep -o 'pid=[0-9]*' | cut -d= -f2) 2>/dev/null; true"
check = /bin/sh -c "ss -Hltn 'sport = :${PORT}' | grep -q ."
monitor = true
`;
}

const daemonLog = (lab: Lab, n: string) => path.join(lab.root(n), 'log', 'daemon.log');

/** the drop counters of the lab's loss table in a node (src/lab/packet-loss.ts) */
async function droppedPackets(lab: Lab, node: string): Promise<number> {
  const r = await nftIn(lab.netns(node), ['list', 'table', 'inet', 'ferrylab_loss']);
  let n = 0;
  for (const m of r.stdout.matchAll(/counter packets (\d+)/g)) n += Number(m[1]);
  return n;
}

function burners(count: number, nice: number): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn('nice', ['-n', String(nice), process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }));
}

export async function soakLoss(): Promise<Record<string, number>> {
  const minutes = Number(process.env.SOAK_MINUTES ?? 30);
  const loss = Number(process.env.SOAK_LOSS ?? 0.2);
  const burnerCount = Number(process.env.SOAK_BURNERS ?? 2);
  const nice = Number(process.env.SOAK_BURNER_NICE ?? 10);
  const lab = await Lab.create({ nodes: 2, prefix: 'fysk' });
  const burning: ChildProcess[] = [];
  try {
    lab.writeClusterConf({ interval: '100ms', timeout: '300ms', cluster: ['quorum = false'] });
    for (const n of ['n1', 'n2']) fs.writeFileSync(path.join(lab.root(n), 'etc', 'services', `${SVC}.env`), serviceFile(lab));
    lab.startAgent('n1');
    await waitFor('web up on n1', () => readJsonLines<LogLine>(daemonLog(lab, 'n1')).some((l) => l.event === 'daemon.action.end' && l.svc === SVC && l.kind === 'start' && l.ok === true), 60_000, 100);
    lab.startAgent('n2');
    await waitFor('n2 hears n1', () => readJsonLines<LogLine>(daemonLog(lab, 'n2')).some((l) => l.event === 'peer.up' && l.peer === 'n1'), 60_000, 100);
    await sleep(3_000);
    const mark = Date.now();
    await lab.dropPackets('n1', loss, { net: 0 });
    burning.push(...burners(burnerCount, nice));
    const loads: number[] = [];
    const end = mark + minutes * 60_000;
    while (Date.now() < end) {
      await sleep(Math.min(30_000, end - Date.now()));
      loads.push(os.loadavg()[0]!);
      for (const n of ['n1', 'n2']) if (!lab.isUp(n)) throw new Error(`${n} is not up`);
    }
    const dropped = await droppedPackets(lab, 'n1');
    const during = (n: string) => readJsonLines<LogLine>(daemonLog(lab, n)).filter((l) => l.time >= mark);
    const all = [...during('n1'), ...during('n2')];
    const falseDown = all.filter((l) => l.event === 'peer.down').length;
    const actions = all.filter((l) => l.event === 'daemon.action.begin').length;
    const stillOnN1 = (await lab.exec('n1', 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${VIP}/`);
    const figures = {
      minutes,
      loss,
      burners: burnerCount,
      burner_nice: nice,
      false_peer_down: falseDown,
      actions_taken: actions,
      service_still_on_n1: stillOnN1 ? 1 : 0,
      packets_dropped_n1_eth0: dropped,
      load_avg_1m_min: Math.min(...loads),
      load_avg_1m_median: loads.sort((a, b) => a - b)[Math.floor(loads.length / 2)]!,
      load_avg_1m_max: Math.max(...loads),
    };
    console.error(`soak-loss: ${falseDown === 0 && actions === 0 && stillOnN1 ? 'PASS' : 'FAIL'}: ${falseDown} false peer-down, ${actions} actions, ${dropped} packets dropped on n1 eth0 in ${minutes} min`);
    return figures;
  } finally {
    for (const b of burning) b.kill('SIGKILL');
    await lab.destroy();
  }
}
