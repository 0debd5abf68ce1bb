#!/usr/bin/env node
// fence_ferry_lab: a fence agent for lab nodes, speaking the ClusterLabs protocol like any
// agent of Debian's fence-agents (options as key=value lines on stdin, or -o/-n/--lab
// arguments; exit 0 success, 1 failure; status 0 = on, 2 = off). `off` is a power cut:
// Lab.killNode kills every process in the node's namespaces and deletes its network namespace
// (and with it the addresses its agent had added). The lab is named by `lab=<id>`, or taken
// from FERRY_LAB, which every process started in a lab node carries, so a daemon in the lab
// needs no parameter at all. Run through scripts/fence_ferry_lab.
import fs from 'node:fs';
import { Lab } from './lab.js';
import { loadRecord } from './registry.js';
import { nsOf } from './procfs.js';

const METADATA = `<?xml version="1.0" ?>
<resource-agent name="fence_ferry_lab" shortdesc="Fence agent for ferry lab nodes">
<longdesc>Powers a ferry lab node off (kills every process in its namespaces, removes its network namespace) or boots it again.</longdesc>
<parameters>
	<parameter name="action" unique="0" required="1"><getopt mixed="-o, --action=[action]"/><content type="string" default="off"/><shortdesc lang="en">Fencing action</shortdesc></parameter>
	<parameter name="plug" unique="0" required="1" obsoletes="port"><getopt mixed="-n, --plug=[node]"/><content type="string"/><shortdesc lang="en">Lab node to act on (n1, n2...)</shortdesc></parameter>
	<parameter name="lab" unique="0" required="0"><getopt mixed="--lab=[id]"/><content type="string"/><shortdesc lang="en">Lab id (default: $FERRY_LAB)</shortdesc></parameter>
</parameters>
<actions>
	<action name="on" automatic="0"/>
	<action name="off"/>
	<action name="reboot"/>
	<action name="status"/>
	<action name="monitor"/>
	<action name="list"/>
	<action name="metadata"/>
</actions>
</resource-agent>
`;

/** stdin lines (the protocol) or, when given, fence-agents style arguments */
function readOptions(argv: string[]): Record<string, string> {
  const opts: Record<string, string> = {};
  if (argv.length === 0) {
    for (const line of fs.readFileSync(0, 'utf8').split('\n')) {
      const l = line.trim();
      const eq = l.indexOf('=');
      if (l.startsWith('#') || eq <= 0) continue;
      opts[l.slice(0, eq).trim()] = l.slice(eq + 1).trim();
    }
    return opts;
  }
  const short: Record<string, string> = { '-o': 'action', '-n': 'plug' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z_-]+)=(.*)$/.exec(a);
    if (m) opts[m[1]!.replace(/-/g, '_')] = m[2]!;
    else if (short[a] && i + 1 < argv.length) opts[short[a]!] = argv[++i]!;
    else if (a.startsWith('--') && i + 1 < argv.length) opts[a.slice(2).replace(/-/g, '_')] = argv[++i]!;
  }
  return opts;
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const failed = (line: string): number => {
  process.stderr.write(`Failed: ${line}\n`);
  return 1;
};

async function main(): Promise<number> {
  const o = readOptions(process.argv.slice(2));
  const action = o.action ?? o.option ?? 'reboot'; // fence-agents' default action is reboot
  if (action === 'metadata') {
    process.stdout.write(METADATA);
    return 0;
  }
  const id = o.lab ?? process.env.FERRY_LAB;
  if (!id) return failed('no lab: give lab=<id> (or run inside a lab node, where FERRY_LAB is set)');
  const rec = loadRecord(id);
  if (!rec) return failed(`no lab ${id} (no /run/ferry-lab/${id}.json)`);
  if (action === 'monitor') return 0;
  if (action === 'list') {
    for (const n of rec.nodes) say(`${n.name},${n.name}`);
    return 0;
  }
  const plug = o.plug ?? o.port ?? o.nodename;
  if (!plug) return failed('no plug: give plug=<node>');
  if (!rec.nodes.some((n) => n.name === plug)) return failed(`lab ${id} has no node ${plug} (nodes: ${rec.nodes.map((n) => n.name).join(' ')})`);
  const lab = Lab.attach(id);
  const up = lab.isUp(plug);
  switch (action) {
    case 'status':
      say(`Status: ${up ? 'ON' : 'OFF'}`);
      return up ? 0 : 2;
    case 'off':
      if (!up) {
        say('Success: Already OFF');
        return 0;
      }
      await lab.killNode(plug);
      say('Success: Powered OFF');
      return 0;
    case 'on':
    case 'reboot': {
      // booting a node creates its network namespace; done from inside another node, the
      // /run/netns mount would stay in that node's mount namespace (propagation is slave) and
      // the host would never see it. A real PDU is not inside a server either.
      const self = nsOf('self', 'mnt');
      if (self && rec.nodes.some((n) => n.mntNs === self)) return failed(`${action} of a lab node must run outside the lab nodes (ferry-lab restart ${id} ${plug})`);
      if (action === 'on' && up) {
        say('Success: Already ON');
        return 0;
      }
      await lab.restartNode(plug);
      say(action === 'on' ? 'Success: Powered ON' : 'Success: Rebooted');
      return 0;
    }
    default:
      return failed(`Unrecognised action '${action}'`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = failed(e instanceof Error ? e.message.split('\n')[0]! : String(e));
  },
);
