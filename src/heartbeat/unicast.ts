// Unicast UDP heartbeat: bind this node's addr:port, send each beat to every peer's.
import dgram from 'node:dgram';
import net from 'node:net';
import type { UnicastHbConfig } from '../cluster/config.js';
import type { Transport, TransportHost } from './transport.js';
import { adoptSocket } from './transport.js';

export class UnicastTransport implements Transport {
  private sock: dgram.Socket | undefined;
  private opening: Promise<void> | undefined;
  private readonly own: { addr: string; port: number };
  private readonly targets: { node: string; addr: string; port: number }[];

  constructor(
    private readonly cfg: UnicastHbConfig,
    nodename: string,
    private readonly host: TransportHost,
  ) {
    const own = cfg.endpoints[nodename];
    if (!own) throw new Error(`${cfg.id}: no address for this node ${nodename}`);
    this.own = own;
    this.targets = Object.entries(cfg.endpoints)
      .filter(([n]) => n !== nodename)
      .map(([node, ep]) => ({ node, ...ep }));
  }

  async start(): Promise<void> {
    await this.ensureOpen();
  }

  /** (re)bind; an address not configured yet (EADDRNOTAVAIL) is retried on the next beat */
  private ensureOpen(): Promise<void> {
    if (this.sock) return Promise.resolve();
    this.opening ??= new Promise<void>((resolve) => {
      const sock = dgram.createSocket({ type: net.isIPv6(this.own.addr) ? 'udp6' : 'udp4' });
      const fail = (e: Error): void => {
        this.host.sent(`bind ${this.own.addr}:${this.own.port}: ${e.message}`);
        sock.close();
        this.opening = undefined;
        resolve();
      };
      sock.once('error', fail);
      sock.bind({ address: this.own.addr, port: this.own.port, exclusive: true }, () => {
        adoptSocket(sock, fail, this.host);
        this.sock = sock;
        this.opening = undefined;
        this.host.log('info', 'unicast heartbeat bound', { addr: this.own.addr, port: this.own.port });
        resolve();
      });
    });
    return this.opening;
  }

  async beat(message: Buffer): Promise<void> {
    await this.ensureOpen();
    const sock = this.sock;
    if (!sock) return;
    const errors = await Promise.all(
      this.targets.map(
        (t) =>
          new Promise<string | undefined>((resolve) => {
            sock.send(message, t.port, t.addr, (e) => resolve(e ? `${t.node} ${t.addr}:${t.port}: ${e.message}` : undefined));
          }),
      ),
    );
    const failed = errors.filter((e): e is string => e !== undefined);
    // tx is "up" when at least one peer could be sent to: per-peer reachability is rx's job on the other side
    this.host.sent(failed.length === this.targets.length && failed.length > 0 ? failed.join('; ') : undefined);
  }

  async stop(): Promise<void> {
    const sock = this.sock;
    this.sock = undefined;
    if (sock) await new Promise<void>((r) => sock.close(() => r()));
  }
}
