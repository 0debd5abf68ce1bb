// Runs one driver action in this process and prints a JSON result on stdout. Tests start it
// as a child process, typically under `ip netns exec <ns>`, because drivers act on the
// namespaces (network, mount) of the process that runs them.
//   node dist/test/helpers/driver-run.js '<json>'     (or the JSON on stdin)
// JSON: { section, type?, kw, action: 'start'|'stop'|'status'|'prepared-start', rid?, svcname?, nodename?, prepareMs? }
// prepared-start: the driver's prepareStart, prepareMs later its start, in this one process;
// the result also carries the records with an `event` the driver logged and the prepared probes
// still running after the start (src/resources/ip-prepared-probe.ts).
// Prints { ok: true, status? } or { ok: false, error }; exits 0 when ok, 1 otherwise.
import fs from 'node:fs';
import { findDriver } from '../../src/resources/registry.js';
import { TableValues } from '../../src/config/values.js';
import type { KeywordValue } from '../../src/vocab/keywords.js';
import { ferryPaths } from '../../src/paths.js';
import { silentLogger } from '../../src/log.js';
import type { StatusReport } from '../../src/resources/types.js';
import { pino } from 'pino';
import { runningProbes } from '../../src/resources/ip-prepared-probe.js';

export interface DriverRunRequest {
  section: string;
  type?: string;
  kw: Record<string, KeywordValue>;
  action: 'start' | 'stop' | 'status' | 'prepared-start';
  prepareMs?: number;
  rid?: string;
  svcname?: string;
  nodename?: string;
}

export interface PreparedFacts {
  prepared?: string;
  events?: Record<string, unknown>[];
  left?: number[];
}
export type DriverRunResult = ({ ok: true; status?: StatusReport } | { ok: false; error: string }) & PreparedFacts;

async function main(): Promise<DriverRunResult> {
  const raw = process.argv[2] ?? fs.readFileSync(0, 'utf8');
  const req = JSON.parse(raw) as DriverRunRequest;
  const events: Record<string, unknown>[] = [];
  const log = req.action === 'prepared-start' ? pino({ level: 'info' }, { write: (line: string) => void (((r) => r.event && events.push(r))(JSON.parse(line) as Record<string, unknown>)) }) : silentLogger();
  const spec = findDriver(req.section);
  if (!spec) return { ok: false, error: `no driver for section ${req.section}` };
  const res = spec.create({
    rid: req.rid ?? `${req.section}#1`,
    svcname: req.svcname ?? 'test',
    nodename: req.nodename ?? 'node1',
    type: req.type ?? spec.types[0] ?? '',
    kw: TableValues.from(spec.keywords, req.kw),
    log,
    paths: ferryPaths(),
  });
  if (req.action === 'status') return { ok: true, status: await res.status() };
  if (req.action === 'prepared-start') {
    const p = await res.prepareStart?.(30_000);
    await new Promise((r) => setTimeout(r, req.prepareMs ?? 0));
    const facts = (): PreparedFacts => ({ ...(p ? { prepared: p.what } : {}), events, left: runningProbes() });
    try {
      await res.start();
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e), ...facts() };
    } finally {
      p?.cancel();
    }
    return { ok: true, ...facts() };
  }
  await res[req.action]();
  return { ok: true };
}

main()
  .catch((e: unknown): DriverRunResult => ({ ok: false, error: e instanceof Error ? e.message : String(e) }))
  .then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exitCode = r.ok ? 0 : 1;
  });
