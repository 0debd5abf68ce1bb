// Runs a CLI bundle (dist/src/cli/<name>.bundle.js, built by scripts/bundle-cli.mjs: the
// command and everything it imports, node_modules included, as one CommonJS body) with V8's
// code cache of it (<name>.bundle.cache, written by the build's warm-up run): no compile of
// the ~280 KB on each start. Node 20 has no compile cache for ES modules, hence one script.
// A cache of another build (its first line names the bundle's build id) or one V8 refuses
// (another node, other flags) is not used: the bundle is compiled as usual.
import { createRequire } from 'node:module';

// required, not imported: an ES import of node:fs makes its whole facade (fs streams loaded)
const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof import('node:fs');
const path = require('node:path') as typeof import('node:path');
const vm = require('node:vm') as typeof import('node:vm');
const { fileURLToPath } = require('node:url') as typeof import('node:url');

/** The build id of a bundle, from its first line `// ferry-bundle <id>`. */
export function bundleId(source: string): string | undefined {
  return /^\/\/ ferry-bundle ([0-9a-f]{16,})\n/.exec(source)?.[1];
}

/** The V8 data of a cache file written for the bundle of build `id`, or undefined. */
export function cacheFor(id: string | undefined, file: Buffer | undefined): Buffer | undefined {
  if (!id || !file) return undefined;
  const head = `${id}\n`;
  return file.length > head.length && file.subarray(0, head.length).toString('latin1') === head ? file.subarray(head.length) : undefined;
}

/** The bundle as one script: the CommonJS wrapper on its first line, so that its lines keep their numbers. */
export function bundleScript(file: string, source: string, cachedData: Buffer | undefined): import('node:vm').Script {
  return new vm.Script(`(function (exports, require, module, __filename, __dirname, __ferryImportMetaUrl) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
}

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Run <name>.bundle.js beside `launcherUrl` (the command's file: import.meta.url in the bundle,
 * so it knows itself as the program node runs). FERRY_BUNDLE_CACHE_OUT=<file>: write the code
 * cache of this run there at exit (the build's warm-up, scripts/bundle-cli.mjs).
 */
export function runBundle(name: string, launcherUrl: string): void {
  const dir = path.dirname(fileURLToPath(launcherUrl));
  const file = path.join(dir, `${name}.bundle.js`);
  const source = fs.readFileSync(file, 'utf8');
  const id = bundleId(source);
  const cachedData = cacheFor(id, readOrUndefined(path.join(dir, `${name}.bundle.cache`)));
  const script = bundleScript(file, source, cachedData);
  const out = process.env.FERRY_BUNDLE_CACHE_OUT;
  if (out && id) {
    delete process.env.FERRY_BUNDLE_CACHE_OUT;
    process.on('exit', () => fs.writeFileSync(out, Buffer.concat([Buffer.from(`${id}\n`, 'latin1'), script.createCachedData()])));
  }
  const body = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string, url: string) => void;
  const mod = { exports: {} };
  body(mod.exports, createRequire(file), mod, file, dir, launcherUrl);
}
