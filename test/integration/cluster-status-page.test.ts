// The metrics listener and the live status page in a 2-node lab: every node serves
// `metrics_listen = 127.0.0.1:<port>` on its own loopback (each lab node is a network
// namespace), the page of n1 is opened in Debian's headless Chromium running inside n1's
// network namespace (playwright drives it over a pipe, so a wrapper that nsenters is enough),
// and it follows a relocate to n2 and n2's death without a reload. /metrics of the nodes,
// fetched inside them and read by the strict text parser, agrees with their svcmon.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Locator } from 'playwright-core';
import type { Lab } from '../../src/lab/lab.js';
import { requireRoot } from '../helpers/env.js';
import { cli, daemonEvents, sleep, startCluster, waitFor, waitRunning } from '../helpers/cluster-lab.js';
import { parsePromText, samplesOf, sampleValue, type Family } from '../helpers/prom-text.js';
import { countColor, decodePng, distinctColors } from '../helpers/png.js';
import type { SvcmonJson } from '../helpers/http-daemon.js';

const CHROMIUM = '/usr/bin/chromium';
/** the same port on every node: each has a loopback of its own */
const PORT = 9470;
const BASE = `http://127.0.0.1:${PORT}`;
/** the page's colours of an up and a down status cell (src/daemon/http/page.ts) */
const UP: [number, number, number] = [0xc8, 0xf0, 0xc8];
const DOWN: [number, number, number] = [0xf4, 0xc4, 0xc4];
const STALE: [number, number, number] = [0xdd, 0xdd, 0xdd];

type Fams = Map<string, Family>;

/** GET a path of the node's own listener, from inside the node. */
async function get(lab: Lab, node: string, p: string): Promise<string> {
  const r = await lab.exec(node, 'curl', ['-sS', '--fail', '--max-time', '5', `${BASE}${p}`], { timeout: 10_000 });
  if (!r.ok) throw new Error(`GET ${p} on ${node}: exit ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout;
}

const scrape = async (lab: Lab, node: string): Promise<Fams> => parsePromText(await get(lab, node, '/metrics'));

async function svcmonOf(lab: Lab, node: string): Promise<SvcmonJson> {
  const r = await cli(lab, node, 'svcmon', ['--format', 'json'], 15_000);
  if (!r.ok) throw new Error(`svcmon on ${node}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as SvcmonJson;
}

/** the one status of an instance whose ferry_service_<kind> sample is 1 */
function current(fams: Fams, kind: 'avail' | 'overall', svc: string, node: string): string {
  const on = samplesOf(fams, `ferry_service_${kind}`).filter((s) => s.labels.service === svc && s.labels.node === node && s.value === 1);
  return on.length === 1 ? on[0]!.labels.status! : `${on.length} current statuses`;
}

/** the service statuses svcmon shows, in a form to compare two reads */
const statusesOf = (sm: SvcmonJson) =>
  JSON.stringify(Object.entries(sm.services).map(([s, v]) => [s, v.runningOn, Object.entries(v.instances).map(([n, i]) => [n, i.stale, i.avail, i.overall, i.frozen])]));

/**
 * /metrics of a node against its `svcmon --format json`, for every service and instance. The
 * two are read at different instants: read svcmon before and after the scrape and retry while
 * they differ (a state changing under the reads), then compare.
 */
async function metricsMatchSvcmon(t: ExecutionContext, lab: Lab, node: string): Promise<{ fams: Fams; sm: SvcmonJson }> {
  let fams: Fams | undefined;
  let sm: SvcmonJson | undefined;
  await waitFor(`a steady svcmon around a scrape of ${node}`, async () => {
    const before = await svcmonOf(lab, node);
    fams = await scrape(lab, node);
    sm = await svcmonOf(lab, node);
    return statusesOf(before) === statusesOf(sm);
  }, 15_000, 300);
  const f = fams!;
  const m = sm!;
  t.is(sampleValue(f, 'ferry_info', { node }), 1);
  t.true(Object.keys(m.services).length > 0);
  for (const [svc, sv] of Object.entries(m.services)) {
    t.is(sampleValue(f, 'ferry_service_running_nodes', { service: svc }), sv.runningOn.length, `${node}: ${svc} running nodes`);
    for (const [n, inst] of Object.entries(sv.instances)) {
      if (inst.stale) {
        // a dead node's last word is no current fact: no series
        t.is(samplesOf(f, 'ferry_service_avail').filter((s) => s.labels.service === svc && s.labels.node === n).length, 0, `${node}: stale ${svc}@${n} has no series`);
        continue;
      }
      t.is(current(f, 'avail', svc, n), inst.avail ?? 'no avail', `${node}: ${svc}@${n} avail`);
      t.is(current(f, 'overall', svc, n), inst.overall ?? 'no overall', `${node}: ${svc}@${n} overall`);
      t.is(sampleValue(f, 'ferry_service_frozen', { service: svc, node: n }), inst.frozen ? 1 : 0);
    }
  }
  for (const [n, e] of Object.entries(m.nodes)) if (n !== node) t.is(sampleValue(f, 'ferry_peer_up', { peer: n }), e.state === 'up' ? 1 : 0, `${node}: peer ${n}`);
  return { fams: f, sm: m };
}

/** ferry_actions_total of a service (0 when the series does not exist yet) */
function actions(fams: Fams, svc: string, kind: string, result = 'ok'): number {
  const s = samplesOf(fams, 'ferry_actions_total').filter((x) => x.labels.service === svc && x.labels.kind === kind && x.labels.result === result);
  return s.length ? s[0]!.value : 0;
}

/** A screenshot of one element, decoded. */
const shot = async (l: Locator) => decodePng(await l.screenshot());

test.serial('2-node lab: the page of n1, in chromium inside n1, follows a relocate and a failover live; /metrics agrees with svcmon', async (t) => {
  requireRoot();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh installs it)`);
  const cl = await startCluster(t, { nodes: 2, clusterLines: [`metrics_listen = 127.0.0.1:${PORT}`] });
  const { lab, svc } = cl;

  // each node listens on its own loopback
  for (const n of ['n1', 'n2']) {
    await waitFor(`http.listening on ${n}`, async () => (await daemonEvents(lab, n, { event: 'http.listening', port: PORT })).length > 0, 10_000);
    t.regex(await get(lab, n, '/'), /<table id="services">/);
  }

  // chromium inside n1's network namespace: 127.0.0.1 there is n1's loopback
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-${lab.id}-chromium-`));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const wrapper = path.join(tmp, 'chromium-in-n1');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/run/netns/${lab.netns('n1')} -- ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  const browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox', '--disable-gpu'], env: { ...process.env, TMPDIR: tmp } as Record<string, string> });
  // teardowns run last-registered first: the browser is closed before the lab goes
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const external: string[] = [];
  page.on('request', (r) => !r.url().startsWith(BASE) && external.push(r.url()));
  let navigations = 0;
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);
  await page.goto(`${BASE}/`);

  const row = page.locator(`#services tr[data-service="${svc}"]`);
  const cellOf = (n: string) => row.locator(`td[data-node="${n}"]`);
  await cellOf('n1').filter({ hasText: /^up/ }).waitFor({ timeout: 15_000 });
  await cellOf('n2').filter({ hasText: /^down/ }).waitFor({ timeout: 15_000 });
  t.regex(await page.locator('#title').innerText(), new RegExp(`ferry ${lab.id} — n1`), 'the page is n1\'s');
  t.regex(await page.locator('#nodes tr[data-node="n2"]').innerText(), /\bup\b/);
  const runningOn = row.locator('td').nth(2);
  t.is(await runningOn.innerText(), 'n1', 'running on: n1');
  const full = decodePng(await page.screenshot({ fullPage: true }));
  t.true(full.width >= 1100 && full.height >= 300, `${full.width}x${full.height}`);
  t.true(distinctColors(full) > 20, 'the screenshot is not blank');
  let n1Shot = await shot(cellOf('n1'));
  let n2Shot = await shot(cellOf('n2'));
  t.true(countColor(n1Shot, UP) > 100 && countColor(n1Shot, DOWN) === 0, 'n1 cell green');
  t.true(countColor(n2Shot, DOWN) > 100 && countColor(n2Shot, UP) === 0, 'n2 cell red');

  // metrics before the move
  const n2Before = (await metricsMatchSvcmon(t, lab, 'n2')).fams;
  const n1Before = (await metricsMatchSvcmon(t, lab, 'n1')).fams;
  t.is(current(n1Before, 'avail', svc, 'n1'), 'up');
  t.true(actions(n1Before, svc, 'start') >= 1, 'n1 counted its start');

  // relocate: the page follows by polling, no reload
  const rel = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'relocate', '--to', 'n2', '--wait', '60'], 90_000);
  t.is(rel.exitCode, 0, rel.stderr);
  t.log(`relocate: ${rel.stdout.trim()}`);
  await cellOf('n2').filter({ hasText: /^up/ }).waitFor({ timeout: 15_000 });
  await cellOf('n1').filter({ hasText: /^down/ }).waitFor({ timeout: 15_000 });
  t.is(await runningOn.innerText(), 'n2', 'running on: n2');
  n1Shot = await shot(cellOf('n1'));
  n2Shot = await shot(cellOf('n2'));
  t.true(countColor(n2Shot, UP) > 100 && countColor(n2Shot, DOWN) === 0, 'n2 cell green after the relocate');
  t.true(countColor(n1Shot, DOWN) > 100 && countColor(n1Shot, UP) === 0, 'n1 cell red after the relocate');
  t.true(distinctColors(decodePng(await page.screenshot({ fullPage: true }))) > 20, 'still not blank');
  t.regex(await page.locator('#events').innerText(), /relocate|daemon\.action\.end/);

  // metrics after the move: n2 agrees with its svcmon, its start was counted, n1's stop too
  await waitRunning(cl, 'n2', 10_000);
  const n2After = (await metricsMatchSvcmon(t, lab, 'n2')).fams;
  t.is(current(n2After, 'avail', svc, 'n2'), 'up');
  t.is(current(n2After, 'avail', svc, 'n1'), 'down');
  t.is(actions(n2After, svc, 'start'), actions(n2Before, svc, 'start') + 1, 'n2 counted one more start');
  t.true(sampleValue(n2After, 'ferry_action_duration_seconds_count', { kind: 'start', result: 'ok' }) >= 1);
  const n1After = (await metricsMatchSvcmon(t, lab, 'n1')).fams;
  t.is(actions(n1After, svc, 'stop'), actions(n1Before, svc, 'stop') + 1, 'n1 counted one more stop');
  t.true(samplesOf(n2After, 'ferry_heartbeat_rx_total').some((s) => s.labels.peer === 'n1' && s.value > 0), 'n2 hears n1');
  t.is(samplesOf(n2After, 'ferry_last_failover_duration_seconds').length, 0, 'a relocate is no failover');

  // n2, the owner now, dies: n1 takes the service over; the page (in n1) shows it, and n1's
  // metrics time the takeover
  const tKill = Date.now();
  await lab.killNode('n2');
  await waitRunning(cl, 'n1', 60_000);
  t.log(`n1 took ${svc} over ${Date.now() - tKill} ms after n2 was killed`);
  await cellOf('n1').filter({ hasText: /^up/ }).waitFor({ timeout: 15_000 });
  await cellOf('n2').filter({ hasText: /^stale/ }).waitFor({ timeout: 15_000 });
  t.regex(await page.locator('#nodes tr[data-node="n2"]').innerText(), /\bdown\b/);
  n1Shot = await shot(cellOf('n1'));
  n2Shot = await shot(cellOf('n2'));
  t.true(countColor(n1Shot, UP) > 100 && countColor(n1Shot, DOWN) === 0, 'n1 cell green after the failover');
  t.true(countColor(n2Shot, STALE) > 100 && countColor(n2Shot, UP) === 0, 'n2 cell grey (stale)');
  const { fams: fo } = await metricsMatchSvcmon(t, lab, 'n1');
  t.is(sampleValue(fo, 'ferry_peer_up', { peer: 'n2' }), 0);
  t.is(sampleValue(fo, 'ferry_peer_state', { peer: 'n2', state: 'down' }), 1);
  t.is(sampleValue(fo, 'ferry_failovers_total', { service: svc }), 1);
  const dur = sampleValue(fo, 'ferry_last_failover_duration_seconds', { service: svc });
  t.log(`ferry_last_failover_duration_seconds{service="${svc}"} ${dur}`);
  t.true(dur > 0 && dur < 60, `failover duration ${dur} s`);
  t.true(dur * 1000 <= Date.now() - tKill, 'no longer than since the kill');
  t.is(actions(fo, svc, 'start'), actions(n1After, svc, 'start') + 1);

  await sleep(1_500); // one more poll at least: still no reload and no error
  t.is(navigations, 1, 'never reloaded');
  t.deepEqual(external, [], 'no external resource');
  t.deepEqual(errors, []);
  t.regex(await page.locator('#updated').innerText(), /^updated /);
});
