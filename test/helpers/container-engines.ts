// Plumbing for the container driver tests: a loud check that the engine really works here,
// a ResourceContext built from plain keyword values, and direct engine calls (not through the
// driver) to observe and clean up what the driver did.
import os from 'node:os';
import type { KeywordValue } from '../../src/vocab/keywords.js';
import { TableValues } from '../../src/config/values.js';
import { defaultKeywords } from '../../src/config/keywords.js';
import { silentLogger } from '../../src/log.js';
import { ferryPaths } from '../../src/paths.js';
import { driver } from '../../src/resources/container-driver.js';
import type { Resource } from '../../src/resources/types.js';
import { sh, testImage } from './env.js';

export type Cli = 'docker' | 'podman';
export const engines: readonly Cli[] = ['docker', 'podman'];

/** the ferry paths of the driver tests (the private engines' run directories live under it) */
export const testPaths = ferryPaths({ FERRY_ROOT: os.tmpdir() });

const checked = new Map<Cli, Promise<void>>();

/** Throws unless `cli` answers and holds the test image: never a silent skip. */
export function requireEngine(cli: Cli): Promise<void> {
  let p = checked.get(cli);
  if (!p) {
    p = (async () => {
      const info = await sh('timeout', ['30', cli, 'info'], { reject: false });
      if (info.exitCode !== 0) {
        const why = info.stderr.trim().split('\n').at(-1) ?? `exit ${info.exitCode}`;
        throw new Error(`${cli} engine is not usable (${why}): run scripts/setup.sh as root`);
      }
      const img = await sh('timeout', ['30', cli, 'image', 'inspect', testImage], { reject: false });
      if (img.exitCode !== 0) throw new Error(`${cli} has no image ${testImage}: run scripts/build-test-image.sh as root`);
    })();
    checked.set(cli, p);
  }
  return p;
}

/** A container resource as the service layer would create it; `service`: [DEFAULT] values. */
export function makeContainer(cli: Cli, svcname: string, rid: string, kw: Record<string, KeywordValue>, service?: Record<string, KeywordValue>): Resource {
  return driver.create({
    rid,
    svcname,
    nodename: os.hostname(),
    type: cli,
    kw: TableValues.from(driver.keywords, kw),
    ...(service ? { service: TableValues.from(defaultKeywords, service) } : {}),
    log: silentLogger(),
    paths: testPaths,
  });
}

export interface Observed {
  id: string;
  running: boolean;
  cmd: string[];
}

/** What the engine itself says of a container; undefined if it does not exist. */
export async function observe(cli: Cli, name: string): Promise<Observed | undefined> {
  const r = await sh(cli, ['inspect', '--type', 'container', name], { reject: false });
  if (r.exitCode !== 0) return undefined;
  const [c] = JSON.parse(r.stdout) as { Id: string; State: { Running: boolean }; Config: { Cmd: string[] | null } }[];
  return c ? { id: c.Id, running: c.State.Running, cmd: c.Config.Cmd ?? [] } : undefined;
}

/** Teardown: remove whatever the test may have left, whether it passed or not. */
export async function removeContainers(cli: Cli, ...names: string[]): Promise<void> {
  // podman's rm -f would wait each container's stop timeout first: kill at once instead
  const force = cli === 'podman' ? ['rm', '-f', '-t', '0'] : ['rm', '-f'];
  await Promise.all(names.map((n) => sh(cli, [...force, n], { reject: false })));
}
