// What the engine needs from a heartbeat medium. The engine seals; a transport only moves
// bytes and reports what came in, so crypto, replay and liveness rules live in one place.
import type dgram from 'node:dgram';

export interface Inbound {
  /** disk: node owning the slot the bytes were read from; the sealed sender must match */
  owner?: string;
  /** disk: first read of a slot since start; authentic but maybe stale, so not a sign of life */
  baseline?: boolean;
  /** network: the source address of the datagram (where the sender's state channel is, on multicast) */
  from?: string;
}

export interface TransportHost {
  receive(buf: Buffer, info: Inbound): void;
  /** outcome of one send/write: undefined = ok */
  sent(error: string | undefined, stalled?: boolean): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
}

export interface Transport {
  /** open sockets/devices; failures are reported through host.sent and retried on the next beat */
  start(): Promise<void>;
  /** send (network) or write and then read the slots (disk) */
  beat(message: Buffer): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A UDP socket that finished opening: the one-shot start-up error handler goes, later errors
 * are logged (a heartbeat keeps going), datagrams go to the engine.
 */
export function adoptSocket(sock: dgram.Socket, startupError: (e: Error) => void, host: TransportHost): void {
  sock.off('error', startupError);
  sock.on('error', (e) => host.log('warn', 'socket error', { error: e.message }));
  sock.on('message', (msg, rinfo) => host.receive(msg, { from: rinfo.address }));
}
