// `print status` latency of a 20-resource service (4 ip, 4 fs, 4 containers, 8 apps), against
// a plain shell script doing the same checks one after the other, in the same run.
import fs from 'node:fs';
import path from 'node:path';
import { benchRoot, cli, median, percentile, sh, timed } from './common.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

export async function statusLatency(): Promise<Record<string, number>> {
  const b = benchRoot();
  const ns = `fybench${process.pid}`;
  const svc = `fybench${process.pid}.status`;
  const mnts = [1, 2, 3, 4].map((i) => path.join(b.root, `m${i}`));
  try {
    await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0peer', 'up']);
    await sh('ip', ['-n', ns, 'addr', 'add', '10.213.77.1/24', 'dev', 'eth0']);
    const sections: string[] = ['[DEFAULT]\nnodes = bench1\n'];
    for (let i = 1; i <= 4; i++) sections.push(`[ip#${i}]\nipname = 10.213.77.${10 + i}\nipdev = eth0\nnetmask = 24\n`);
    for (let i = 1; i <= 4; i++) sections.push(`[fs#${i}]\ntype = tmpfs\ndev = tmpfs\nmnt = ${mnts[i - 1]}\n`);
    for (let i = 1; i <= 4; i++) sections.push(`[container#${i}]\ntype = docker\nrun_image = ferry/busybox:latest\nrun_args = --network none\nrun_command = /bin/sh -c \"trap 'exit 0' TERM; sleep 100000 & wait\"\n`);
    for (let i = 1; i <= 8; i++) sections.push(`[app#${i}]\nstart = /bin/touch ${b.root}/app${i}\nstop = /bin/rm -f ${b.root}/app${i}\ncheck = /usr/bin/test -e ${b.root}/app${i}\n`);
    fs.writeFileSync(path.join(b.services, `${svc}.env`), sections.join('\n'));
    const inNs = (args: string[]) => ['--net=/run/netns/' + ns, process.execPath, cli('svcmgr'), '-s', svc, ...args];
    await timed('nsenter', inNs(['start']), b.env);

    // the reference: the same 20 checks by a plain script
    const script = path.join(b.root, 'status.sh');
    const lines = ['#!/bin/sh', 'addrs=$(ip -o addr show dev eth0)'];
    for (let i = 1; i <= 4; i++) lines.push(`echo "$addrs" | grep -q " 10.213.77.${10 + i}/" && echo ip${i} up || echo ip${i} down`);
    for (const m of mnts) lines.push(`grep -q " ${m} " /proc/self/mountinfo && echo fs up || echo fs down`);
    for (let i = 1; i <= 4; i++) lines.push(`docker inspect -f '{{.State.Running}}' ${svc}.container.${i} >/dev/null`);
    for (let i = 1; i <= 8; i++) lines.push(`test -e ${b.root}/app${i} && echo app up || echo app down`);
    fs.writeFileSync(script, lines.join('\n') + '\n', { mode: 0o755 });

    const ferry: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ferry.push(await timed('nsenter', inNs(['print', 'status']), b.env));
      plain.push(await timed('nsenter', ['--net=/run/netns/' + ns, script], b.env));
    }
    await timed('nsenter', inNs(['stop']), b.env);
    return {
      runs: RUNS,
      ferry_median_ms: median(ferry),
      ferry_p95_ms: percentile(ferry, 95),
      script_median_ms: median(plain),
      script_p95_ms: percentile(plain, 95),
      ratio_ferry_over_script: median(ferry) / median(plain),
    };
  } finally {
    await sh('sh', ['-c', `docker rm -f $(docker ps -aq --filter name=${svc}) >/dev/null 2>&1; for m in ${mnts.join(' ')}; do umount $m 2>/dev/null; done; ip netns del ${ns} 2>/dev/null; true`]);
    b.cleanup();
  }
}
