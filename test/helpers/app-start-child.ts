// Runs one app start in a separate node process, then exits: lets a test prove that what the
// app left running survives ferry's own exit. argv[2]: JSON {ferryRoot, svcname, kw}.
import type { KeywordValue } from '../../src/vocab/keywords.js';
import { driver } from '../../src/resources/app.js';
import { appContext } from './app-context.js';
import type { AppPlace } from './app-context.js';

const job = JSON.parse(process.argv[2] ?? '{}') as AppPlace & { kw: Record<string, KeywordValue> };
try {
  await driver.create(appContext(job, job.kw)).start();
  process.stdout.write('started\n');
  process.exit(0);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
