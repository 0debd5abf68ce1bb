// Pure parse of a listen address `host:port` ([cluster] metrics_listen): an IPv4 literal,
// a bracketed IPv6 literal ([::1]:9470) or a host name, and a port 1-65535. No name lookup.
import net from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(text: string): HostPort | { error: string } {
  const s = text.trim();
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(s);
  if (!m) return { error: `bad listen address "${s}": expected host:port (IPv6 as [addr]:port), e.g. 127.0.0.1:9470` };
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return { error: `bad port ${m[3]} in "${s}": 1-65535` };
  if (m[1] !== undefined) {
    if (net.isIP(m[1]) !== 6) return { error: `bad IPv6 address "${m[1]}" in "${s}"` };
    return { host: m[1], port };
  }
  const host = m[2]!;
  if (/^[\d.]+$/.test(host) && net.isIP(host) !== 4) return { error: `bad IPv4 address "${host}" in "${s}"` };
  if (net.isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) return { error: `bad host "${host}" in "${s}"` };
  return { host, port };
}
