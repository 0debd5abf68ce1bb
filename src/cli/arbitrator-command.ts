// `nodemgr arbitrator --listen <host:port> --cluster <name> --secret-file <file>`: run a quorum
// arbitrator (src/arbitrator/server.ts) in the foreground until SIGTERM/SIGINT. Logs go to
// <log>/arbitrator.log like every ferry component; one line on stdout says where it listens.
import net from 'node:net';
import type { Command } from 'commander';
import { RESTART_HOLD_DEFAULT_MS, startArbitrator, type ArbitratorHandle } from '../arbitrator/server.js';
import { MIN_SECRET_BYTES, readSecretText } from '../cluster/config.js';
import { copyLogsTo, nodeLogger, reopenLogsOnSighup } from '../log.js';
import { stdoutLogDestination } from '../log-stdout.js';
import { UserError } from '../vocab/errors.js';
import type { CliContext } from './main.js';

export interface ArbitratorCommandOptions {
  listen: string;
  cluster: string;
  secretFile: string;
  path: string;
  /** seconds, as given on the command line */
  restartHold: string;
}

/** "host:port", "[v6]:port", ":port" or "port" → host and port (default host 0.0.0.0). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  if (!m) throw new UserError(`bad --listen "${s}": expected host:port, [ipv6]:port or port`);
  const host = m[1] || m[2] || '0.0.0.0';
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`bad --listen "${s}": port ${m[3]} is not in 0-65535`);
  if (m[1] !== undefined && m[1] !== '' && net.isIPv6(m[1]) === false) throw new UserError(`bad --listen "${s}": ${m[1]} is not an IPv6 address`);
  return { host, port };
}

/** The cluster secret from a file: hex, even length, >= 32 bytes (as `[cluster] secret_file`). */
export function readSecretFile(file: string): { secret: string; warning?: string } {
  const r0 = readSecretText(file, 'secret file');
  if ('error' in r0) throw new UserError(r0.error);
  const text = r0.text.trim();
  const mode = r0.mode;
  // never echo the secret itself
  if (!/^[0-9a-fA-F]*$/.test(text) || text.length % 2 !== 0) throw new UserError(`bad secret in ${file}: expected an even number of hex digits`);
  if (text.length < MIN_SECRET_BYTES * 2) throw new UserError(`bad secret in ${file}: ${text.length / 2} bytes, at least ${MIN_SECRET_BYTES} required`);
  const r: { secret: string; warning?: string } = { secret: text.toLowerCase() };
  if ((mode & 0o077) !== 0) r.warning = `secret file ${file} is readable by group or others: chmod 600 it`;
  return r;
}

/** Run until SIGTERM/SIGINT; resolves with the exit code. */
export async function runArbitrator(ctx: CliContext, o: ArbitratorCommandOptions): Promise<number> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(o.cluster)) throw new UserError(`bad --cluster "${o.cluster}": letters, digits, '.', '_' and '-' only`);
  if (!o.path.startsWith('/')) throw new UserError(`bad --path "${o.path}": must start with /`);
  const { host, port } = parseListen(o.listen);
  const holdS = Number(o.restartHold);
  if (!/^\d+(\.\d+)?$/.test(o.restartHold) || !Number.isFinite(holdS)) throw new UserError(`bad --restart-hold "${o.restartHold}": expected seconds, e.g. 10`);
  const { secret, warning } = readSecretFile(o.secretFile);
  if (warning) process.stderr.write(`nodemgr: warning: ${warning}\n`);
  // under systemd the log lines go to the journal too; SIGHUP reopens the file (logrotate)
  const copy = stdoutLogDestination();
  copyLogsTo(copy);
  const log = nodeLogger(ctx.paths, ctx.nodename, 'arbitrator');
  reopenLogsOnSighup(log);
  let handle: ArbitratorHandle;
  try {
    handle = await startArbitrator({ host, port, path: o.path, restartHoldMs: Math.round(holdS * 1000), secrets: new Map([[o.cluster, secret]]), log });
  } catch (e) {
    throw new UserError(`cannot listen on ${o.listen}: ${(e as Error).message}`);
  }
  const shown = handle.host.includes(':') ? `[${handle.host}]` : handle.host;
  log.info({ event: 'arbitrator-listening', host: handle.host, port: handle.port, path: o.path, cluster: o.cluster }, 'arbitrator listening');
  if (!copy) process.stdout.write(`nodemgr: arbitrator for cluster ${o.cluster} listening on ${shown}:${handle.port}${o.path} (pid ${process.pid})\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      log.info({ signal: sig }, 'arbitrator stopping');
      void handle.close().then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  if (!copy) process.stdout.write('nodemgr: arbitrator stopped\n');
  return 0;
}

/** Register `arbitrator` on nodemgr's program; `setCode` receives the exit code. */
export function registerArbitratorCommand(program: Command, ctx: CliContext, setCode: (code: number) => void): void {
  program
    .command('arbitrator')
    .description('run a quorum arbitrator in the foreground: grants its vote to one partition of the cluster at a time (docs/arbitrator.md)')
    .requiredOption('--cluster <name>', 'name of the cluster it votes for ([cluster] name)')
    .requiredOption('--secret-file <file>', 'file holding the cluster secret (hex, as [cluster] secret_file)')
    .option('--listen <host:port>', 'address and port to listen on', '0.0.0.0:1215')
    .option('--path <path>', 'HTTP path of the vote endpoint', '/vote')
    .option('--restart-hold <seconds>', 'grant no vote for this long after start (longer than nodes count a grant: 4 s)', String(RESTART_HOLD_DEFAULT_MS / 1000))
    .action(async (o: ArbitratorCommandOptions) => {
      setCode(await runArbitrator(ctx, o));
    });
}
