// The live status page (GET /) in Debian's headless Chromium: the service row is in the DOM,
// screenshots are decoded and checked (not blank, the row's cell green while up), and the page
// follows a stop and a start of the service by itself, without a reload.
import test from 'ava';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { requireRoot, runCli } from '../helpers/env.js';
import { startHttpDaemon, until } from '../helpers/http-daemon.js';
import { countColor, decodePng, distinctColors } from '../helpers/png.js';

const CHROMIUM = '/usr/bin/chromium';
/** the page's colours of an up and a down status cell (src/daemon/http/page.ts) */
const UP: [number, number, number] = [0xc8, 0xf0, 0xc8];
const DOWN: [number, number, number] = [0xf4, 0xc4, 0xc4];

test('the status page shows the service and follows its stop and start live', async (t) => {
  requireRoot();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh installs it)`);
  const h = await startHttpDaemon('mp');
  t.teardown(() => h.close());
  await until('the daemon to start the service', async () => (await h.svcmon()).services[h.svc]?.instances.a?.avail === 'up');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const external: string[] = [];
  page.on('request', (r) => !r.url().startsWith(h.base) && external.push(r.url()));
  let navigations = 0;
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);
  await page.goto(`${h.base}/`);
  const row = page.locator(`#services tr[data-service="${h.svc}"]`);
  const cell = row.locator('td[data-node="a"]');
  await cell.filter({ hasText: /^up/ }).waitFor({ timeout: 15_000 });
  t.regex(await page.locator('#title').innerText(), /ferry single — a/);
  t.regex(await page.locator('#nodes tr[data-node="a"]').innerText(), /self/);
  t.true((await page.locator('#events tbody tr').count()) > 0, 'recent events listed');

  const full = decodePng(await page.screenshot({ fullPage: true }));
  t.true(full.width >= 1000 && full.height >= 300, `${full.width}x${full.height}`);
  t.true(distinctColors(full) > 20, 'the screenshot is not blank');
  const upShot = decodePng(await row.screenshot());
  t.true(countColor(upShot, UP) > 100, 'the service row has its green up cell');
  t.is(countColor(upShot, DOWN), 0);

  // a state change: the page follows by polling, no reload
  const stop = await runCli('svcmgr', ['-s', h.svc, 'stop'], h.d.root.env);
  t.is(stop.exitCode, 0, stop.stderr);
  await cell.filter({ hasText: /^down/ }).waitFor({ timeout: 15_000 });
  const downShot = decodePng(await row.screenshot());
  t.true(countColor(downShot, DOWN) > 100, 'the row turned red');
  t.is(countColor(downShot, UP), 0);
  const start = await runCli('svcmgr', ['-s', h.svc, 'start'], h.d.root.env);
  t.is(start.exitCode, 0, start.stderr);
  await cell.filter({ hasText: /^up/ }).waitFor({ timeout: 15_000 });
  t.true(countColor(decodePng(await row.screenshot()), UP) > 100, 'green again');
  t.regex(await page.locator('#events').innerText(), /daemon\.action\.end|service\.status/);

  t.is(navigations, 1, 'never reloaded');
  t.deepEqual(external, [], 'no external resource');
  t.deepEqual(errors, []);
  t.regex(await page.locator('#updated').innerText(), /^updated /);
});
