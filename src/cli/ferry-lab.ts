#!/usr/bin/env node
// ferry-lab: the lab cluster by hand. A thin shell over src/lab: every command re-attaches the
// lab from its registry record, so labs outlive this process; `cleanup` removes what crashed
// runs left behind. Must run as root.
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { Lab } from '../lab/lab.js';
import { runMain } from './main.js';
import { UserError } from '../vocab/errors.js';

function describe(lab: Lab): string {
  const rec = lab.record;
  const lines = [`lab ${rec.id}  dir ${rec.dir}`];
  for (const n of rec.nodes) {
    const addrs = rec.networks.map((net) => `eth${net.index}=${net.subnet}.${n.index}`).join(' ');
    const pids = `${n.initPid ? `  init ${n.initPid}` : ''}${n.agentPid ? `  agent ${n.agentPid}` : ''}`;
    lines.push(`  ${n.name}  ${n.state.padEnd(4)} netns ${n.netns}  ${addrs}  FERRY_ROOT=${n.root}${pids}`);
  }
  for (const d of rec.disks) lines.push(`  disk ${d.role.padEnd(9)} ${d.dev ?? '-'}  (${d.file})`);
  return lines.join('\n');
}

function netArg(v: string | undefined): 'all' | number {
  if (v === undefined || v === 'all') return 'all';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`network must be "all" or an index (0, 1), got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  let code = 0;
  const program = new Command('ferry-lab')
    .description('A ferry cluster of N nodes on this machine (network + mount + UTS namespaces)')
    .configureOutput({ outputError: (str, write) => write(`ferry-lab: ${str.replace(/^error: /, '')}`) });

  program
    .command('create')
    .description('create a lab and print its id and nodes')
    .option('--nodes <n>', 'number of nodes', '2')
    .option('--links <n>', 'number of separate networks (1 or 2)', '2')
    .option('--hb-mb <n>', 'size of the disk-heartbeat loop device, MiB (0: none)', '16')
    .option('--data-mb <n>', 'size of the ext4 service-filesystem loop device, MiB (0: none)', '64')
    .option('--prefix <p>', 'id prefix, fy + up to 4 [a-z0-9]', 'fyl')
    .option('--quiet', 'print the lab id only')
    .action(async (o: { nodes: string; links: string; hbMb: string; dataMb: string; prefix: string; quiet?: boolean }) => {
      const links = Number(o.links);
      if (links !== 1 && links !== 2) throw new UserError('--links must be 1 or 2');
      const lab = await Lab.create({
        nodes: Number(o.nodes),
        links,
        prefix: o.prefix,
        disks: { heartbeat: Number(o.hbMb), data: Number(o.dataMb) },
        owner: null, // nobody owns a hand-made lab: `cleanup` may remove it
      });
      process.stdout.write(o.quiet ? `${lab.id}\n` : `${describe(lab)}\n`);
    });

  program
    .command('cluster-conf <id>')
    .description("write the same cluster.conf (unicast hb per network + disk hb) and secret into every node's etc")
    .option('--interval <d>', 'network heartbeat interval, e.g. 1s')
    .option('--timeout <d>', 'network heartbeat timeout, e.g. 3s')
    .option('--no-disk', 'no disk heartbeat')
    .option('--no-stonith', 'no [stonith#<node>] sections (by default every node is fenced by the lab fence agent)')
    .option('--quorum <bool>', 'write quorum = true|false (two nodes without STONITH need one of them)')
    .action((id: string, o: { interval?: string; timeout?: string; disk: boolean; stonith: boolean; quorum?: string }) => {
      if (o.quorum !== undefined && !['true', 'false'].includes(o.quorum)) throw new Error(`--quorum: expected true or false, got "${o.quorum}"`);
      const cluster = o.quorum === undefined ? [] : [`quorum = ${o.quorum}`];
      process.stdout.write(Lab.attach(id).writeClusterConf({ interval: o.interval, timeout: o.timeout, disk: o.disk, stonith: o.stonith, cluster }));
    });

  program
    .command('list')
    .description('list the labs on this machine')
    .action(() => {
      for (const rec of Lab.list()) process.stdout.write(`${describe(Lab.attach(rec.id))}\n`);
    });

  program
    .command('exec <id> <node> <cmd...>')
    .description('run a command inside a node, in the current directory (use -- before the command); exits with its code')
    .action((id: string, node: string, cmd: string[]) => {
      const lab = Lab.attach(id);
      const [file, ...args] = cmd;
      // in the caller's directory, so relative paths mean what they mean in the shell
      const a = lab.execArgv(node, file!, args, process.cwd());
      const r = spawnSync(a.file, a.args, { stdio: 'inherit', env: { ...process.env, ...a.env } });
      code = r.status ?? 128 + 9;
    });

  const nodeCmd = (name: string, desc: string, f: (lab: Lab, node: string) => Promise<unknown>): void => {
    program
      .command(`${name} <id> <node>`)
      .description(desc)
      .action(async (id: string, node: string) => {
        await f(Lab.attach(id), node);
      });
  };
  nodeCmd('kill', 'power a node off: links down, containers removed, every process SIGKILLed', (l, n) => l.killNode(n));
  nodeCmd('restart', 'boot a node again (after kill): fresh namespaces, links up, no agent', (l, n) => l.restartNode(n));
  nodeCmd('pause', 'SIGSTOP every process of a node', (l, n) => l.pauseNode(n));
  nodeCmd('resume', 'SIGCONT every process of a node', (l, n) => l.resumeNode(n));
  nodeCmd('agent-stop', 'SIGTERM the agent of a node and wait', (l, n) => l.stopAgent(n));
  nodeCmd('agent-crash', 'SIGKILL the agent of a node only', (l, n) => l.crashAgent(n));

  program
    .command('agent-start <id> <node> [cmd...]')
    .description('start the agent of a node (default: nodemgr daemon run); output in <root>/log/agent.out')
    .action((id: string, node: string, cmd: string[]) => {
      const pid = Lab.attach(id).startAgent(node, cmd.length ? cmd : undefined);
      process.stdout.write(`${pid}\n`);
    });

  program
    .command('cut <id> <node> [net]')
    .description('disconnect a node from network <net> (0, 1) or all (default)')
    .option('--down', 'take the port down (node loses carrier) instead of a silent cut')
    .action(async (id: string, node: string, net: string | undefined, o: { down?: boolean }) => {
      await Lab.attach(id).cutLinks(node, netArg(net), o.down ? 'down' : 'silent');
    });
  program
    .command('heal <id> <node> [net]')
    .description('reconnect a node to network <net> or all (default)')
    .action(async (id: string, node: string, net: string | undefined) => {
      await Lab.attach(id).healLinks(node, netArg(net));
    });
  program
    .command('drop <id> <node> <fraction>')
    .description('drop a random fraction (0..1) of the packets of a node; 0 clears')
    .option('--direction <d>', 'in, out or both', 'both')
    .option('--net <n>', 'only on eth<n>')
    .action(async (id: string, node: string, fraction: string, o: { direction: string; net?: string }) => {
      if (!['in', 'out', 'both'].includes(o.direction)) throw new UserError('--direction must be in, out or both');
      await Lab.attach(id).dropPackets(node, Number(fraction), {
        direction: o.direction as 'in' | 'out' | 'both',
        net: o.net === undefined ? undefined : Number(o.net),
      });
    });

  program
    .command('destroy <id>')
    .description('tear a lab down completely')
    .action(async (id: string) => {
      const problems = await Lab.attach(id).destroy();
      for (const p of problems) process.stderr.write(`ferry-lab: ${id}: ${p}\n`);
      if (problems.length) code = 1;
    });
  program
    .command('cleanup')
    .description('tear down every lab whose creating process is gone (hand-made labs included)')
    .option('--all', 'also labs whose creator still runs')
    .action(async (o: { all?: boolean }) => {
      const r = await Lab.cleanup({ all: Boolean(o.all) });
      for (const id of r.removed) process.stdout.write(`removed ${id}\n`);
      for (const p of r.problems) process.stderr.write(`ferry-lab: ${p}\n`);
      if (r.problems.length) code = 1;
    });

  await program.parseAsync(process.argv);
  return code;
}

runMain('ferry-lab', main);
