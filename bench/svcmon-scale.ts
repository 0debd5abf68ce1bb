// svcmon at scale (issue 9, "Scale": 3 nodes x 5000 services, svcmon <= 500 ms; issue 11:
// the text no slower than the JSON), against `node -e 0` in the same run. The input is a
// synthetic daemon view of the scale soak's cluster (bench/svcmon-view.ts), served by a real
// unix socket server speaking the control protocol (one request line, one answer line, built
// per request by the daemon's own src/daemon/view-text.ts: the peers' items serialized once,
// this node's afresh; `lean` as asked). Times, medians of SVCMON_RUNS (default 9):
//   (0) the daemon's answer: JSON.stringify of the whole answer (before) against viewAnswerText,
//       whole and lean (what svcmon's text asks for), utf8-encoded; the CLI's parse of either,
//   (a) the model build (modelOfView of the parsed view),
//   (b) the text render (node table, notes and heartbeats included),
//   (c) the JSON output (stringify, the live payloads copied from the answer, write to /dev/null),
//   (d) the whole CLI, `svcmon` and `svcmon --format json`, its stdout read through a pipe,
//       interleaved with `node -e 0`.
// Each output is checked against the in-process render of the same view (byte for byte).
//
//   npm run build && flock /tmp/ferry-heavy.lock node dist/bench/run.js svcmon-scale
//   # SVCMON_RUNS=n  SVCMON_NODES=n (default 3)  SVCMON_SERVICES=n (default 5000)
//   # SVCMON_REF=<another build's dist/src/cli/svcmon.js>: timed too, interleaved (before/after)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { benchRoot, cli, median } from './common.js';
import { syntheticView, svcName } from './svcmon-view.js';
import { controlSocketPath, type ClusterView, type PayloadSpans } from '../src/daemon/control-protocol.js';
import { ferryPaths } from '../src/paths.js';
import { modelOfView } from '../src/daemon/svcmon-model.js';
import { svcmonJson, svcmonText } from '../src/cli/svcmon-output.js';
import { viewAnswerText } from '../src/daemon/view-text.js';

const RUNS = Number(process.env.SVCMON_RUNS ?? 9);
const NODES = Number(process.env.SVCMON_NODES ?? 3);
const SERVICES = Number(process.env.SVCMON_SERVICES ?? 5000);
const REF = process.env.SVCMON_REF;

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (x: number): number => Math.round(x * 10) / 10;

/** A control socket answering every `view` request with the view as the daemon does (anything else: an error). */
function serveView(socketPath: string, view: ClusterView): Promise<net.Server> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  const server = net.createServer((conn) => {
    conn.on('error', () => undefined);
    let buf = '';
    conn.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const req = JSON.parse(buf.slice(0, nl)) as { op?: string; lean?: boolean; spans?: boolean };
      conn.end((req.op === 'view' ? viewAnswerText(view, view.nodename, { lean: req.lean === true, spans: req.spans === true }) : JSON.stringify({ ok: false, error: `unknown request ${req.op}` })) + '\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/** One run of a command, its stdout read through a pipe; wall time and the output. */
function run(argv: string[], env: Record<string, string>): Promise<{ ms: number; out: Buffer }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => err.push(c));
    p.on('error', reject);
    p.on('close', (code) => {
      const t = ms(t0);
      if (code !== 0) reject(new Error(`${argv.join(' ')}: exit ${code}: ${Buffer.concat(err).toString().trim()}`));
      else resolve({ ms: t, out: Buffer.concat(out) });
    });
  });
}

/** median wall time of f over RUNS runs */
function inProcess(f: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    f();
    times.push(ms(t0));
  }
  return round(median(times));
}

export async function svcmonScale(): Promise<Record<string, number>> {
  const view = syntheticView(NODES, SERVICES);
  const wire = JSON.stringify({ ok: true, view });
  const parsed = () => (JSON.parse(wire) as { view: ClusterView }).view;
  const out: Record<string, number> = { runs: RUNS, nodes: NODES, services: SERVICES, view_bytes: wire.length, load1_before: os.loadavg()[0]! };
  // the daemon's side: the answer as one stringify (before), as built from cached parts (the
  // first build fills the cache), and lean; the same bytes
  if (viewAnswerText(view, view.nodename) !== wire) throw new Error('viewAnswerText differs from JSON.stringify of the answer');
  out.view_lean_bytes = viewAnswerText(view, view.nodename, { lean: true }).length;
  // utf8-encoded as the socket write does (a built string is flattened then)
  out.answer_stringify_ms = inProcess(() => Buffer.byteLength(JSON.stringify({ ok: true, view })));
  out.answer_cached_ms = inProcess(() => Buffer.byteLength(viewAnswerText(view, view.nodename)));
  out.answer_lean_ms = inProcess(() => Buffer.byteLength(viewAnswerText(view, view.nodename, { lean: true })));

  // in process, on the parsed answer (what the CLI has once the daemon answered)
  const v = parsed();
  const devnull = fs.openSync('/dev/null', 'w');
  out.parse_ms = inProcess(parsed);
  const leanWire = viewAnswerText(view, view.nodename, { lean: true });
  out.parse_lean_ms = inProcess(() => JSON.parse(leanWire));
  out.model_ms = inProcess(() => modelOfView(v));
  out.text_ms = inProcess(() => svcmonText(v));
  // as the CLI does: the live payloads copied from the answer line (its spans)
  const spansLine = viewAnswerText(view, view.nodename, { spans: true });
  const sp = JSON.parse(spansLine) as { view: ClusterView; spans: PayloadSpans };
  out.json_ms = inProcess(() => fs.writeSync(devnull, svcmonJson(sp.view, [], { text: spansLine, spans: sp.spans })));
  fs.closeSync(devnull);

  // the whole CLI against a socket serving the view
  const b = benchRoot();
  let server: net.Server | undefined;
  try {
    // the service files svcmon lists (names only: it reads none of them with a daemon)
    for (let i = 0; i < SERVICES; i++) fs.writeFileSync(path.join(b.services, `${svcName(i)}.env`), '');
    const env = { ...b.env, FERRY_NODENAME: view.nodename };
    server = await serveView(controlSocketPath(ferryPaths({ FERRY_ROOT: b.root })), view);
    const cmds: Record<string, string[]> = { node: ['-e', '0'], svcmon: [cli('svcmon')], svcmon_json: [cli('svcmon'), '--format', 'json'] };
    if (REF) Object.assign(cmds, { ref_svcmon: [REF], ref_svcmon_json: [REF, '--format', 'json'] });
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
    const outputs: Record<string, Buffer> = {};
    await run(cmds.svcmon!, env); // warm the page cache
    for (let i = 0; i < RUNS; i++) {
      for (const [k, argv] of Object.entries(cmds)) {
        const r = await run(argv, env);
        times[k]!.push(r.ms);
        outputs[k] = r.out;
      }
    }
    // the same bytes as the in-process render (the text's clock: only the "ago" columns move)
    const json = svcmonJson(v);
    if (outputs.svcmon_json!.toString() !== json) throw new Error('svcmon --format json differs from the in-process render of the view');
    // the same document (a build before 2026-12-03 pretty-printed it)
    if (REF && JSON.stringify(JSON.parse(outputs.ref_svcmon_json!.toString())) + '\n' !== json) throw new Error(`${REF} --format json differs from this build's`);
    const strip = (s: string) => s.replace(/\d+\.\d s ago|\d+\.\ds ago|\d+ s ago/g, 'T');
    if (strip(outputs.svcmon!.toString()) !== strip(svcmonText(v))) throw new Error('svcmon differs from the in-process render of the view');
    out.text_bytes = outputs.svcmon!.length;
    out.json_bytes = outputs.svcmon_json!.length;
    for (const [k, t] of Object.entries(times)) {
      out[`${k}_ms`] = round(median(t));
      out[`${k}_max_ms`] = round(Math.max(...t));
    }
    for (const k of Object.keys(cmds)) if (k !== 'node') out[`${k}_ratio`] = round(out[`${k}_ms`]! / out.node_ms!);
    out.load1_after = os.loadavg()[0]!;
    return out;
  } finally {
    server?.close();
    b.cleanup();
  }
}
