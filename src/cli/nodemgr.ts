#!/usr/bin/env -S node --max-semi-space-size=4
// nodemgr: the node agent. `daemon run` is the daemon in the foreground; start/stop/status
// drive it through its control socket.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { Daemon } from '../daemon/daemon.js';
import { clusterConfigPath, parseClusterConfig, readClusterText } from '../cluster/config.js';
import { askDaemon, DaemonUnreachable, streamDaemon } from '../daemon/control-client.js';
import { eventLine, isEventRecord } from './render-events.js';
import { copyLogsTo, nodeLogger, reopenLogsOnSighup } from '../log.js';
import { stdoutLogDestination } from '../log-stdout.js';
import { EXIT, UserError } from '../vocab/errors.js';
import { formatOption, writeJson, type Format } from './format.js';
import { ConfigInvalid } from '../config/errors.js';
import { cliContext, isMainModule, runMain, type CliContext } from './main.js';
import { renderHeartbeats } from './render-heartbeats.js';
import { agoText, isLive, lastSeenOf } from '../cluster/view.js';
import { stonithCommand } from './stonith.js';
import { registerArbitratorCommand } from './arbitrator-command.js';
import { clusterFileMismatch } from './render-config.js';
import { startWebOf } from './daemon-web.js';
import { startVolumePluginOf } from './daemon-volumes.js';
import { drainCommand, type DrainOptions } from './drain.js';
import { DRAIN_TIMEOUT_DEFAULT_S } from '../daemon/drain.js';
import { DAEMON_NODE_FLAGS } from '../util/daemon-node-flags.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ping(ctx: ReturnType<typeof cliContext>): Promise<boolean> {
  try {
    return (await askDaemon(ctx.paths, { op: 'ping' }, 2_000)).ok;
  } catch (e) {
    if (e instanceof DaemonUnreachable) return false;
    throw e;
  }
}

/** The command tree (also walked by gen-man for the man page and the completion). */
export function buildProgram(ctx: CliContext): { program: Command; exitCode: () => number } {
  let code = 0;
  const program = new Command('nodemgr')
    .description('The ferry node agent')
    .configureOutput({ outputError: (str, write) => write(`nodemgr: ${str.replace(/^error: /, '')}`) })
    .exitOverride();
  program.command('nodename').description('print the name of this node').addOption(formatOption()).action((o: { format: Format }) => {
    if (o.format === 'json') writeJson({ nodename: ctx.nodename });
    else process.stdout.write(`${ctx.nodename}\n`);
  });

  program
    .command('validate')
    .description('validate the cluster file: every problem as file:line: message (exit 1 on an error)')
    .addOption(formatOption())
    .action((o: { format: Format }) => {
      const file = clusterConfigPath(ctx.paths);
      let text: string;
      try {
        text = readClusterText(file);
      } catch (e) {
        if (e instanceof ConfigInvalid) {
          // not a regular file, too large: a problem of the file like the others, on stdout
          for (const err of e.errors) process.stdout.write(`${String(err)}\n`);
          code = 1;
          return;
        }
        throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
      }
      const r = parseClusterConfig(text, file, ctx.nodename, ctx.paths.etc);
      const failed = r.errors.some((e) => e.severity === 'error') || !r.config;
      if (failed) code = EXIT.failed;
      if (o.format === 'json') {
        writeJson({ file, ok: !failed, problems: r.errors.map((e) => ({ line: e.line, severity: e.severity, message: e.message })) });
        return;
      }
      for (const e of r.errors) process.stdout.write(`${String(e)}\n`);
      if (!failed && r.errors.length === 0) process.stdout.write(`${file}: ok\n`);
    });

  const daemon = program.command('daemon').description('the agent daemon');
  daemon
    .command('run')
    .description('run the daemon in the foreground; under systemd (or with --log-stdout) its log lines go to stdout too')
    .option('--log-stdout', 'copy the JSON log lines to stdout (FERRY_LOG_STDOUT=1)')
    .action(async (o: { logStdout?: boolean }) => {
      const copy = stdoutLogDestination(Boolean(o.logStdout));
      copyLogsTo(copy);
      const log = nodeLogger(ctx.paths, ctx.nodename, 'daemon');
      const d = new Daemon({ paths: ctx.paths, nodename: ctx.nodename, log, tickMs: Number(process.env.FERRY_TICK_MS ?? 1000) });
      const onSignal = () => void d.stop(true);
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      reopenLogsOnSighup(log);
      await d.start();
      const web = await startWebOf(d, log);
      const volumes = await startVolumePluginOf(d, ctx.paths, ctx.nodename, log);
      // stdout carries JSON lines only when it is the log's copy
      if (!copy) process.stdout.write(`nodemgr: daemon running on ${ctx.nodename} (pid ${process.pid})\n`);
      await d.wait();
      await web?.close();
      await volumes?.close();
    });
  // start/stop --format json: docs/schemas/nodemgr-daemon-start.schema.json, -stop.schema.json
  const say = (format: Format, json: Record<string, unknown>, text: string): void => (format === 'json' ? writeJson(json) : void process.stdout.write(`nodemgr: ${text}\n`));
  daemon.command('start').description('start the daemon in the background').addOption(formatOption()).action(async (o: { format: Format }) => {
    if (await ping(ctx)) {
      say(o.format, { running: true, started: false }, 'the daemon is already running');
      return;
    }
    fs.mkdirSync(ctx.paths.log, { recursive: true });
    const out = fs.openSync(path.join(ctx.paths.log, 'daemon.out'), 'a');
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, fileURLToPath(import.meta.url), 'daemon', 'run'], { detached: true, stdio: ['ignore', out, out], env: process.env });
    child.unref();
    for (let i = 0; i < 150; i++) {
      await sleep(100);
      if (await ping(ctx)) {
        say(o.format, { running: true, started: true, pid: child.pid }, `daemon started (pid ${child.pid})`);
        return;
      }
      if (child.exitCode !== null) break;
    }
    throw new UserError(`the daemon did not start: see ${path.join(ctx.paths.log, 'daemon.out')}`);
  });
  daemon.command('stop').description('stop the daemon: the node leaves, peers are told and take nothing over (its services stay as they are); to move them away first, see nodemgr drain').addOption(formatOption()).action(async (o: { format: Format }) => {
    if (!(await ping(ctx))) {
      say(o.format, { running: false, stopped: false }, 'the daemon is not running');
      return;
    }
    await askDaemon(ctx.paths, { op: 'shutdown' });
    for (let i = 0; i < 150; i++) {
      await sleep(100);
      if (!(await ping(ctx))) {
        say(o.format, { running: false, stopped: true }, 'daemon stopped');
        return;
      }
    }
    throw new UserError('the daemon did not stop within 15 s');
  });
  daemon.command('status').description('is the daemon running; heartbeats (exit 1 when it is not running)').addOption(formatOption()).action(async (o: { format: Format }) => {
    let r;
    try {
      r = await askDaemon(ctx.paths, { op: 'view' });
    } catch (e) {
      if (e instanceof DaemonUnreachable) {
        if (o.format === 'json') writeJson({ running: false, message: e.message });
        else process.stdout.write(`nodemgr: ${e.message}\n`);
        code = EXIT.failed;
        return;
      }
      throw e;
    }
    if (!r.ok || !r.view) throw new UserError(r.ok ? 'empty answer' : r.error);
    const v = r.view;
    if (o.format === 'json') {
      // a node not live: its frozen flag is its old word, so only when it was last heard
      const node = (n: string, nv: (typeof v.nodes)[string]) =>
        isLive(nv.state) ? { state: nv.state, stale: false, frozen: nv.payload?.frozen ?? false, cluster_conf_differs: clusterFileMismatch(v, n) } : { state: nv.state, stale: true, lastSeen: lastSeenOf(v.hb.heartbeats, n) };
      process.stdout.write(JSON.stringify({ running: true, cluster: v.cluster, nodename: v.nodename, nodes: Object.fromEntries(Object.entries(v.nodes).map(([n, nv]) => [n, node(n, nv)])), hb: v.hb, ...(v.control ? { control: v.control } : {}) }, null, 2) + '\n');
      return;
    }
    process.stdout.write(`cluster ${v.cluster}, node ${v.nodename}: daemon running\n`);
    const now = Date.now();
    for (const [n, nv] of Object.entries(v.nodes)) {
      const state = isLive(nv.state) ? `${nv.state}${nv.payload?.frozen ? ' (frozen)' : ''}` : `${nv.state}, last seen ${agoText(lastSeenOf(v.hb.heartbeats, n), now)}`;
      const cf = clusterFileMismatch(v, n) ? ` (cluster.conf differs from ${v.nodename}'s)` : '';
      process.stdout.write(`  ${n.padEnd(20)} ${state}${cf}\n`);
    }
    process.stdout.write(renderHeartbeats(v.hb).join('\n') + '\n');
  });

  program
    .command('drain')
    .description('planned maintenance: freeze this node and move each failover service it runs to its next candidate node; report each (exit 75 when some could not be moved); nodemgr thaw ends it')
    .option('--wait', 'wait until every service moved, failed or timed out')
    .option('--timeout <seconds>', 'how long the moves may take', String(DRAIN_TIMEOUT_DEFAULT_S))
    .addOption(formatOption())
    .action(async (o: DrainOptions) => {
      code = await drainCommand(ctx, o);
    });
  for (const verb of ['freeze', 'thaw'] as const) {
    program.command(verb).description(`${verb} this node: the daemon ${verb === 'freeze' ? 'stops' : 'resumes'} orchestrating here`).action(async () => {
      const r = await askDaemon(ctx.paths, { op: verb === 'freeze' ? 'freeze-node' : 'thaw-node' });
      if (!r.ok) throw new UserError(r.error);
    });
  }
  program
    .command('events')
    .description("the daemon's recent events (every state change it made, docs/events.md), one per line; --follow: then each new one as it happens")
    .option('--follow', 'keep the connection open and print new events as they come')
    .addOption(new Option('--format <format>', 'text (one human line per event) or json (one JSON object per line)').choices(['text', 'json']).default('text'))
    .action(async (o: { follow?: boolean; format: string }) => {
      const print = (v: unknown): void => {
        if (isEventRecord(v)) process.stdout.write((o.format === 'json' ? JSON.stringify(v) : eventLine(v)) + '\n');
      };
      if (!o.follow) {
        const r = await askDaemon(ctx.paths, { op: 'events' });
        if (!r.ok) throw new UserError(r.error);
        for (const e of r.events ?? []) print(e);
        return;
      }
      let refused: string | undefined;
      await streamDaemon(
        ctx.paths,
        { op: 'events', follow: true },
        (r) => {
          if (!r.ok) refused = r.error;
          else for (const e of r.events ?? []) print(e);
        },
        print,
      );
      throw new UserError(refused ?? 'the daemon closed the event stream (it stopped, or dropped this client for not reading)');
    });
  program
    .command('stonith')
    .description('fence a node by hand with its [stonith#<node>] agent: off (then confirmed with status), reboot, or status')
    .requiredOption('--node <node>', 'node to fence')
    .option('--action <action>', 'off, reboot or status', 'off')
    .option('--force', 'allow fencing this node itself')
    .addOption(formatOption())
    .action(async (o: { node: string; action: string; force?: boolean; format: Format }) => {
      code = await stonithCommand(ctx, o);
    });
  registerArbitratorCommand(program, ctx, (c) => (code = c));
  return { program, exitCode: () => code };
}

async function main(): Promise<number> {
  const { program, exitCode } = buildProgram(cliContext());
  await program.parseAsync(process.argv);
  return exitCode();
}

if (isMainModule(import.meta.url)) runMain('nodemgr', main);
