// Generates the man pages and bash completions of svcmgr, svcmon and nodemgr from their
// commander definitions (`npm run man`, part of `npm run build`):
//   <out>/man/man8/<prog>.8   and   <out>/completion/<prog>
// <out> is dist/ of this checkout unless given with --out.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { commandTree } from './command-tree.js';
import { isMainModule, type CliContext } from './main.js';
import { buildProgram as buildNodemgr } from './nodemgr.js';
import { buildProgram as buildSvcmgr } from './svcmgr-program.js';
import { buildProgram as buildSvcmon } from './svcmon-program.js';
import { renderCompletion, type CompletionExtras } from './render-completion.js';
import { renderManPage, type ManExtras } from './render-man.js';
import { ferryPaths } from '../paths.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/ of this checkout or package (this file runs from dist/src/cli) */
export const defaultOutDir = path.resolve(here, '..', '..');

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(here, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0';
  } catch {
    return '0';
  }
}

const environment: [string, string][] = [
  ['FERRY_ROOT', 'relocate every file under this directory: etc/, etc/services/, var/, log/, run/'],
  ['FERRY_NODENAME', 'the name of this node (default: the host name)'],
  ['FERRY_LOG_LEVEL', 'level of the JSON log lines: trace, debug, info (default), warn, error, fatal'],
];
const files: [string, string][] = [
  ['/etc/ferry/cluster.conf', 'the cluster file: nodes, heartbeats, STONITH, arbitrators'],
  ['/etc/ferry/services/<svc>.env', 'the service files (OpenSVC v1 dialect)'],
  ['/var/lib/ferry', 'state: frozen flags, action locks'],
  ['/var/log/ferry/<svc>.log', 'JSON log lines, one file per service; reopened on SIGHUP by the daemon'],
  ['/run/ferry', 'the daemon control socket'],
];

interface Page {
  build: (ctx: CliContext) => Command;
  man: Omit<ManExtras, 'version' | 'section' | 'seeAlso'>;
  completion: CompletionExtras;
}

const pages: Page[] = [
  {
    build: (ctx) => buildSvcmgr(ctx).program,
    man: {
      synopsis: ['\\-s \\fIsvc\\fR[,\\fIsvc\\fR...] [\\fIoptions\\fR] \\fIcommand\\fR [\\fIargs\\fR]', '\\fIsvc\\fR \\fIcommand\\fR [\\fIargs\\fR]'],
      description: [
        'A service is an INI file listing its nodes, an orchestrate mode and its resources (ip, vg, fs, container, app, sync). The OpenSVC v1 forms "svcmgr <svc> <command>" and "<svc> <command>" through a symlink named after the service also work.',
      ],
      exitStatus: [
        ['0', 'success; for print status: the service is up'],
        ['1', 'an error, a failed action; for print status: down'],
        ['2', 'print status: warn'],
        ['3', 'print status: n/a'],
      ],
      environment,
      files,
    },
    completion: { serviceOptions: ['--service'], servicesAsCommand: true },
  },
  {
    build: () => buildSvcmon(),
    man: {
      description: ['With the daemon running on this node the table covers every node of the cluster (with the node table: quorum, fencing, heartbeats); without it, the services of this node only. --format json has one shape either way.'],
      environment,
      files,
    },
    completion: { serviceOptions: ['--service'] },
  },
  {
    build: (ctx) => buildNodemgr(ctx).program,
    man: {
      description: [
        '"nodemgr daemon run" is the agent in the foreground, as the ferry-agent systemd unit runs it. Under systemd (JOURNAL_STREAM or INVOCATION_ID set) or with --log-stdout its JSON log lines are copied to stdout for the journal; on SIGHUP it reopens its log files (logrotate).',
      ],
      environment: [...environment, ['FERRY_LOG_STDOUT', '1: copy the log lines to stdout, 0: never (default: under systemd)']],
      files,
    },
    completion: {},
  },
];

export interface Generated {
  man: string[];
  completion: string[];
}

export function generateManAndCompletion(outDir: string): Generated {
  // the programs only read these to run commands; the definitions do not depend on them
  const ctx: CliContext = { paths: ferryPaths(), nodename: 'node' };
  const progs = pages.map((p) => ({ page: p, tree: commandTree(p.build(ctx)) }));
  const names = progs.map((p) => p.tree.name);
  const manDir = path.join(outDir, 'man', 'man8');
  const compDir = path.join(outDir, 'completion');
  fs.mkdirSync(manDir, { recursive: true });
  fs.mkdirSync(compDir, { recursive: true });
  const r: Generated = { man: [], completion: [] };
  for (const { page, tree } of progs) {
    const seeAlso = names.filter((n) => n !== tree.name).map((n) => `${n}(8)`);
    const man = path.join(manDir, `${tree.name}.8`);
    writeAtomic(man, renderManPage(tree, { ...page.man, section: '8', version: version(), seeAlso }));
    const comp = path.join(compDir, tree.name);
    writeAtomic(comp, renderCompletion(tree, page.completion));
    r.man.push(man);
    r.completion.push(comp);
  }
  return r;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

if (isMainModule(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? process.argv[i + 1] : defaultOutDir;
  if (!out) {
    process.stderr.write('gen-man: --out needs a directory\n');
    process.exit(2);
  }
  const r = generateManAndCompletion(path.resolve(out));
  process.stdout.write(`gen-man: wrote ${[...r.man, ...r.completion].join(' ')}\n`);
}
