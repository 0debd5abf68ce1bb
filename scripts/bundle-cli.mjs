#!/usr/bin/env node
// Builds svcmgr and svcmon each into one file, dist/src/cli/svcmgr.js and svcmon.js, from
// tsc's output of their entries (dist/src/cli/svcmgr-main.js, svcmon-main.js) and everything
// they import, node_modules included: Node loads one file instead of ~150 ESM and CommonJS
// modules (docs/benchmarks.md, "CLI"). Those are the files package.json's bin, the Debian
// package, the lab, the tests and the benches run. Part of `npm run build`, after tsc.
import fs from 'node:fs';
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

const names = ['svcmgr', 'svcmon'];
const entryPoints = Object.fromEntries(names.map((n) => [n, path.join(cliDir, `${n}-main.js`)]));
for (const e of Object.values(entryPoints)) if (!fs.existsSync(e)) throw new Error(`bundle-cli: ${e} is missing: run tsc first`);
// the chunks of an older build have other hashes
fs.rmSync(path.join(cliDir, 'chunks'), { recursive: true, force: true });
await build({
  entryPoints,
  outdir: cliDir,
  entryNames: '[name]',
  // what a path imports lazily (the service layer, commander's program) is a chunk of its own,
  // loaded only by the path that needs it: `print status` from the daemon loads neither
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // the CommonJS dependencies (commander, pino) require node's built-in modules
  banner: { js: "import { createRequire as __ferryRequire } from 'node:module';\nconst require = __ferryRequire(import.meta.url);" },
  legalComments: 'none',
  plugins: [bundledPino],
  logLevel: 'warning',
});
for (const n of names) {
  fs.chmodSync(path.join(cliDir, `${n}.js`), 0o755);
  // tsc's map of an older svcmgr.js would describe another file
  fs.rmSync(path.join(cliDir, `${n}.js.map`), { force: true });
}
