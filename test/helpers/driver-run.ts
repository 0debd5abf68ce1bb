// Runs one driver action in this process and prints a JSON result on stdout. Tests start it
// as a child process, typically under `ip netns exec <ns>`, because drivers act on the
// namespaces (network, mount) of the process that runs them.
//   node dist/test/helpers/driver-run.js '<json>'     (or the JSON on stdin)
// JSON: { section, type?, kw, action: 'start'|'stop'|'status', rid?, svcname?, nodename? }
// Prints { ok: true, status? } or { ok: false, error }; exits 0 when ok, 1 otherwise.
import fs from 'node:fs';
import { findDriver } from '../../src/resources/registry.js';
import { TableValues } from '../../src/config/values.js';
import type { KeywordValue } from '../../src/vocab/keywords.js';
import { ferryPaths } from '../../src/paths.js';
import { silentLogger } from '../../src/log.js';
import type { StatusReport } from '../../src/resources/types.js';

export interface DriverRunRequest {
  section: string;
  type?: string;
  kw: Record<string, KeywordValue>;
  action: 'start' | 'stop' | 'status';
  rid?: string;
  svcname?: string;
  nodename?: string;
}

export type DriverRunResult = { ok: true; status?: StatusReport } | { ok: false; error: string };

async function main(): Promise<DriverRunResult> {
  const raw = process.argv[2] ?? fs.readFileSync(0, 'utf8');
  const req = JSON.parse(raw) as DriverRunRequest;
  const spec = findDriver(req.section);
  if (!spec) return { ok: false, error: `no driver for section ${req.section}` };
  const res = spec.create({
    rid: req.rid ?? `${req.section}#1`,
    svcname: req.svcname ?? 'test',
    nodename: req.nodename ?? 'node1',
    type: req.type ?? spec.types[0] ?? '',
    kw: TableValues.from(spec.keywords, req.kw),
    log: silentLogger(),
    paths: ferryPaths(),
  });
  if (req.action === 'status') return { ok: true, status: await res.status() };
  await res[req.action]();
  return { ok: true };
}

main()
  .catch((e: unknown): DriverRunResult => ({ ok: false, error: e instanceof Error ? e.message : String(e) }))
  .then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exitCode = r.ok ? 0 : 1;
  });
