// Drives an hb-node.ts process inside a namespace: collects its JSON events, waits for one,
// sends commands, kills it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from './env.js';

export interface HbEvent {
  ev: string;
  at: number;
  peer?: string;
  state?: string;
  prev?: string;
  /** peer events: when the heartbeat worker decided */
  verdictAt?: number;
  payload?: unknown;
  snap?: import('../../src/heartbeat/types.js').HbSnapshot;
  peers?: Record<string, import('../../src/heartbeat/types.js').PeerView>;
  statechan?: import('../../src/statechan/index.js').StateChanStats;
}

export class HbProc {
  readonly events: HbEvent[] = [];
  private readonly child: ChildProcess;
  private waiters: { pred: (e: HbEvent) => boolean; resolve: (e: HbEvent) => void }[] = [];
  stderr = '';
  exited = false;

  constructor(
    readonly name: string,
    ns: string,
    root: string,
    env: Record<string, string> = {},
  ) {
    const script = path.join(repoRoot, 'dist', 'test', 'helpers', 'hb-node.js');
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, script], {
      env: { ...process.env, FERRY_ROOT: root, FERRY_NODENAME: name, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', () => (this.exited = true));
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let e: HbEvent;
      try {
        e = JSON.parse(line) as HbEvent;
      } catch {
        return;
      }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
    });
  }

  /** the first event (already seen or coming) matching pred */
  waitFor(pred: (e: HbEvent) => boolean, timeoutMs: number, what = 'event'): Promise<HbEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs}ms; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  waitPeer(peer: string, state: string, timeoutMs: number, after = 0): Promise<HbEvent> {
    return this.waitFor((e) => e.ev === 'peer' && e.peer === peer && e.state === state && e.at >= after, timeoutMs, `peer ${peer} ${state}`);
  }

  peerStates(peer: string): string[] {
    return this.events.filter((e) => e.ev === 'peer' && e.peer === peer).map((e) => e.state ?? '');
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin?.write(JSON.stringify(cmd) + '\n');
  }

  async snapshot(): Promise<HbEvent> {
    const n = this.events.length;
    this.send({ cmd: 'snapshot' });
    return this.waitFor((e) => e.ev === 'snapshot' && this.events.indexOf(e) >= n, 5000, 'snapshot');
  }

  /** SIGKILL: a crash, no goodbye. Resolves with the kill time. */
  kill(): Promise<number> {
    const at = Date.now();
    if (this.exited) return Promise.resolve(at);
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve(at));
      this.child.kill('SIGKILL');
    });
  }
}
