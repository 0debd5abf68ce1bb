// Multicast UDP heartbeat: one group, one interface, TTL 1 (never routed off the segment),
// loopback off (our own beats are not looped back to us).
import dgram from 'node:dgram';
import os from 'node:os';
import type { MulticastHbConfig } from '../cluster/config.js';
import type { Transport, TransportHost } from './transport.js';
import { adoptSocket } from './transport.js';

/** First IPv4 address of an interface, read in the calling thread's network namespace. */
export function interfaceIPv4(intf: string): string | undefined {
  return os.networkInterfaces()[intf]?.find((a) => a.family === 'IPv4')?.address;
}

export class MulticastTransport implements Transport {
  private sock: dgram.Socket | undefined;
  private opening: Promise<void> | undefined;

  constructor(
    private readonly cfg: MulticastHbConfig,
    private readonly host: TransportHost,
  ) {}

  async start(): Promise<void> {
    await this.ensureOpen();
  }

  private ensureOpen(): Promise<void> {
    if (this.sock) return Promise.resolve();
    this.opening ??= new Promise<void>((resolve) => {
      const { group, port, intf } = this.cfg;
      const ifaddr = intf ? interfaceIPv4(intf) : undefined;
      if (intf && !ifaddr) {
        this.host.sent(`interface ${intf} has no IPv4 address`);
        this.opening = undefined;
        resolve();
        return;
      }
      // reuseAddr: several agents on one host (lab) may listen to the same group and port
      const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      const fail = (e: Error): void => {
        this.host.sent(`join ${group}:${port}${intf ? ` on ${intf}` : ''}: ${e.message}`);
        sock.close();
        this.opening = undefined;
        resolve();
      };
      sock.once('error', fail);
      // bound to the group address: Linux then delivers only this group's datagrams
      sock.bind({ port, address: group }, () => {
        try {
          sock.addMembership(group, ifaddr);
          if (ifaddr) sock.setMulticastInterface(ifaddr);
          sock.setMulticastTTL(1);
          sock.setMulticastLoopback(false);
        } catch (e) {
          fail(e as Error);
          return;
        }
        adoptSocket(sock, fail, this.host);
        this.sock = sock;
        this.opening = undefined;
        this.host.log('info', 'multicast heartbeat joined', { group, port, intf, ifaddr });
        resolve();
      });
    });
    return this.opening;
  }

  async beat(message: Buffer): Promise<void> {
    await this.ensureOpen();
    const sock = this.sock;
    if (!sock) return;
    const err = await new Promise<string | undefined>((resolve) => {
      sock.send(message, this.cfg.port, this.cfg.group, (e) => resolve(e ? e.message : undefined));
    });
    this.host.sent(err);
  }

  async stop(): Promise<void> {
    const sock = this.sock;
    this.sock = undefined;
    if (sock) await new Promise<void>((r) => sock.close(() => r()));
  }
}
