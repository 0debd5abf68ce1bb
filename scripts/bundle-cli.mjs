#!/usr/bin/env node
// Builds svcmgr and svcmon each into one file, from tsc's output of their entries
// (dist/src/cli/svcmgr-main.js, svcmon-main.js) and everything they import, node_modules
// included: Node loads one script instead of ~150 ES and CommonJS modules (docs/benchmarks.md,
// "CLI"). Part of `npm run build`, after tsc. For each <name>:
//   dist/src/cli/<name>.cjs        the command (package.json bin, the Debian package):
//                                  src/cli/run-bundle.ts bundled, CommonJS
//   dist/src/cli/<name>.js         a symlink to <name>.cjs (the lab, the tests and the benches
//                                  run it; Node runs the file it points to, as CommonJS)
//   dist/src/cli/<name>.bundle.js  the bundle, CommonJS (what an ES module imports lazily is
//                                  evaluated lazily still), first line `// ferry-bundle <id>`
//   dist/src/cli/<name>.bundle.cache  V8's code cache of the bundle after a warm-up run (a
//                                  read of one service without a daemon, in a scratch root)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli');

/**
 * src/log-pino.ts requires pino from node_modules when the first logger is made; here the
 * same function requires the bundled copy, which esbuild evaluates only at that call: a
 * command that logs nothing (print status, svcmon) never runs pino's code.
 */
const bundledPino = {
  name: 'bundled-pino',
  setup(b) {
    const file = path.join(path.dirname(cliDir), 'log-pino.js');
    b.onLoad({ filter: /[\\/]log-pino\.js$/ }, (args) => {
      if (args.path !== file) return undefined;
      return { contents: 'let lib;\nexport function loadPino() {\n  return (lib ??= require("pino"));\n}\n', loader: 'js', resolveDir: path.dirname(file) };
    });
  },
};

/**
 * A default import of a Node module (`import fs from 'node:fs'`) is bundled as a copy of every
 * property of the module onto an interop object, made again in each module that imports it: ~60
 * copies of fs and path, 4-8 ms of a `print status`. Here each such import is of one ES module
 * per Node module, `export default require(...)`, evaluated once, which the importers bind to
 * without a copy. Named imports (`import { spawn } from 'node:child_process'`) have no copy.
 */
const defaultImportRe = /^import ([A-Za-z_$][\w$]*) from '(node:[a-z_/]+)';$/gm;
const nodeDefaults = {
  name: 'node-defaults',
  setup(b) {
    b.onResolve({ filter: /^ferry-node-default:/ }, (args) => ({ path: args.path.slice('ferry-node-default:'.length), namespace: 'ferry-node-default' }));
    b.onLoad({ filter: /.*/, namespace: 'ferry-node-default' }, (args) => ({ contents: `export default require(${JSON.stringify(args.path)});\n`, loader: 'js' }));
    b.onLoad({ filter: /[\\/]dist[\\/](src|bench|test)[\\/].*\.js$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8');
      if (!text.includes("from 'node:")) return undefined;
      return { contents: text.replace(defaultImportRe, "import $1 from 'ferry-node-default:$2';"), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

// an earlier layout of this build (ES module chunks) is not left behind
fs.rmSync(path.join(cliDir, 'chunks'), { recursive: true, force: true });

// a scratch root for the warm-up: one node, one service of one app check
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bundle-'));
try {
  fs.mkdirSync(path.join(scratch, 'etc', 'services'), { recursive: true });
  fs.writeFileSync(path.join(scratch, 'etc', 'cluster.conf'), '[cluster]\nname = warmup\nnodes = warm1\n');
  fs.writeFileSync(path.join(scratch, 'etc', 'services', 'warm.env'), '[DEFAULT]\nnodes = warm1\n\n[app#1]\nstart = /bin/true\nstop = /bin/true\ncheck = /bin/true\n');
  const warmups = { svcmgr: ['-s', 'warm', 'print', 'status'], svcmon: ['--service', 'warm'] };

  for (const [name, warmArgs] of Object.entries(warmups)) {
    const entry = path.join(cliDir, `${name}-main.js`);
    if (!fs.existsSync(entry)) throw new Error(`bundle-cli: ${entry} is missing: run tsc first`);
    const bundle = path.join(cliDir, `${name}.bundle.js`);
    const cache = path.join(cliDir, `${name}.bundle.cache`);
    const launcher = path.join(cliDir, `${name}.js`);
    const cjsLauncher = path.join(cliDir, `${name}.cjs`);
    // V8 checks a cache against the length of the source only: never keep one of another build
    fs.rmSync(cache, { force: true });
    const id = crypto.randomBytes(12).toString('hex');
    await build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // the bundle knows the command's file as its own URL (src/cli/run-bundle.ts)
      define: { 'import.meta.url': '__ferryImportMetaUrl' },
      banner: { js: `// ferry-bundle ${id}` },
      minify: process.env.BUNDLE_NO_MINIFY !== '1',
      // node --enable-source-maps shows the TypeScript lines of a stack (FERRY_DEBUG=1 prints stacks)
      sourcemap: 'linked',
      legalComments: 'none',
      plugins: [bundledPino, nodeDefaults],
      logLevel: 'warning',
    });
    const first = fs.readFileSync(bundle, 'utf8').split('\n', 1)[0];
    if (first !== `// ferry-bundle ${id}`) throw new Error(`bundle-cli: ${bundle} does not start with its build id (${first.slice(0, 60)})`);
    // the command is CommonJS (<name>.cjs, run-bundle.js bundled in): an ES module entry costs
    // Node its ES loader, ~20 ms of a ~100 ms start (docs/benchmarks.md, "CLI"); <name>.js is a
    // symlink to it (the tests, benches and the lab run that path; npm pack drops symlinks:
    // package.json "bin" and scripts/build-deb.sh name the .cjs)
    await build({
      stdin: { contents: `import { runBundle } from './run-bundle.js';\nrunBundle(${JSON.stringify(name)}, __ferryLauncherUrl);\n`, resolveDir: cliDir, sourcefile: `${name}-launcher.js` },
      outfile: cjsLauncher,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      define: { 'import.meta.url': '__ferryLauncherUrl' },
      banner: { js: `#!/usr/bin/env node\n// ${name}: runs ${name}.bundle.js (scripts/bundle-cli.mjs, src/cli/run-bundle.ts)\nconst __ferryLauncherUrl = require('node:url').pathToFileURL(__filename).href;` },
      legalComments: 'none',
      logLevel: 'warning',
    });
    fs.chmodSync(cjsLauncher, 0o755);
    fs.rmSync(launcher, { force: true });
    fs.symlinkSync(path.basename(cjsLauncher), launcher);
    fs.rmSync(`${launcher}.map`, { force: true });
    const env = { ...process.env, FERRY_ROOT: scratch, FERRY_NODENAME: 'warm1', FERRY_BUNDLE_CACHE_OUT: cache };
    execFileSync(process.execPath, [cjsLauncher, ...warmArgs], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (!fs.existsSync(cache)) throw new Error(`bundle-cli: the warm-up of ${name} wrote no code cache`);
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
