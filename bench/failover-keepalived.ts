// The failover bench's reference: keepalived moving a bare VIP between two lab nodes (VRRP on
// eth0), plus a busybox httpd on 0.0.0.0:<port> in each node so the same TCP client measures
// it. Per-node pid files (docs/lab.md): /run is shared between lab nodes.
import fs from 'node:fs';
import path from 'node:path';
import type { Lab } from '../src/lab/lab.js';

export interface VrrpOptions {
  vip: string;
  /** advert interval, s (0.1 needs VRRPv3) */
  advert: number;
  version: 2 | 3;
  vrid?: number;
  dev?: string;
}

/**
 * Both nodes BACKUP, equal priority, nopreempt: the first keepalived started becomes master
 * and a node that comes back never takes the address back, so the owner alternates with
 * the kills exactly as the ferry service does.
 */
export function keepalivedConf(node: string, o: VrrpOptions): string {
  return `global_defs {
  router_id ${node}
  vrrp_version ${o.version}
  script_user root
}
vrrp_instance VI_BENCH {
  state BACKUP
  nopreempt
  interface ${o.dev ?? 'eth0'}
  virtual_router_id ${o.vrid ?? 77}
  priority 100
  advert_int ${o.advert}
  virtual_ipaddress {
    ${o.vip}/24 dev ${o.dev ?? 'eth0'}
  }
}
`;
}

function files(lab: Lab, node: string) {
  const run = path.join(lab.root(node), 'run');
  return {
    conf: path.join(lab.root(node), 'etc', 'keepalived.conf'),
    pid: path.join(run, 'keepalived.pid'),
    vrrpPid: path.join(run, 'keepalived-vrrp.pid'),
    checkersPid: path.join(run, 'keepalived-checkers.pid'),
    log: path.join(lab.root(node), 'log', 'keepalived.out'),
  };
}

/** Start keepalived (VRRP subsystem only, no fork) in the node; returns its pid. */
export function startKeepalived(lab: Lab, node: string, o: VrrpOptions): number {
  const f = files(lab, node);
  fs.mkdirSync(path.dirname(f.conf), { recursive: true });
  fs.writeFileSync(f.conf, keepalivedConf(node, o));
  // pid files left by a killed node: keepalived would take a recycled pid for itself running
  for (const p of [f.pid, f.vrrpPid, f.checkersPid]) fs.rmSync(p, { force: true });
  const p = lab.spawn(node, '/usr/sbin/keepalived', ['--dont-fork', '--log-console', '--log-detail', '--vrrp', '-f', f.conf, '-p', f.pid, '-r', f.vrrpPid, '-c', f.checkersPid], { logFile: f.log });
  return p.pid;
}

/** SIGTERM keepalived (it resigns with a priority-0 advert) and wait for it to go. */
export async function stopKeepalived(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** A busybox httpd on 0.0.0.0:port serving the node's name (daemonizes). */
export async function startHttpd(lab: Lab, node: string, port: number): Promise<void> {
  const www = path.join(lab.root(node), 'www-ka');
  fs.mkdirSync(www, { recursive: true });
  fs.writeFileSync(path.join(www, 'index.html'), `${node}\n`);
  const r = await lab.exec(node, '/bin/busybox', ['httpd', '-p', `0.0.0.0:${port}`, '-h', www]);
  if (!r.ok) throw new Error(`httpd in ${node}: ${r.stderr}`);
}
