// `svcmgr create`, `delete`, `edit config`: the service file's whole life on this node. Each
// writes atomically under the file's lock (the same as `set`), so the daemon's replication
// (docs/config-replication.md) sees either the old or the new file, and carries it to the
// other nodes of the service. A delete leaves a tombstone generation, replicated too, so a
// node that comes back with the old file does not bring the service back.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { FerryPaths } from '../paths.js';
import { ConfigInvalid } from '../config/errors.js';
import { setKeywords, EditError } from '../config/edit.js';
import { configSum, DELETED_SUM, nextGen, readGen, writeGen } from '../config/generation.js';
import { readServiceText, serviceFile } from '../config/load.js';
import { validateText } from '../config/validate.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { LockTimeout, withFileLock } from '../util/file-lock.js';
import { serviceLogger } from '../log.js';
import { parseAssignment } from './config-commands.js';
import { UserError } from '../vocab/errors.js';
import type { CliContext } from './main.js';
import { drivers } from '../resources/registry.js';

export interface LifecycleOptions {
  waitLockMs: number;
}

async function locked<T>(paths: FerryPaths, svc: string, nodename: string, file: string, verb: string, opts: LifecycleOptions, fn: () => T): Promise<T> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    return await withFileLock(file, { waitMs: opts.waitLockMs, purpose: `svcmgr ${verb}`, log: serviceLogger(paths, svc, nodename) }, fn);
  } catch (e) {
    if (e instanceof LockTimeout) throw new UserError(`${file}: another writer holds it (pid ${e.holder.pid}, ${e.holder.purpose}, since ${e.holder.since}); nothing changed; retry later or raise --waitlock`);
    throw e;
  }
}

/** Refuse a text with errors, naming `file:line` for each. */
function checkValid(text: string, file: string, svc: string, nodename: string): void {
  const { errors } = validateText(text, file, { svcname: svc, nodename, drivers });
  if (errors.length > 0) throw new ConfigInvalid(errors);
}

/** The text of a new service: a file's bytes as they are, or `[DEFAULT]` keywords from assignments. */
export function createText(from: { config?: string | undefined; kw?: readonly string[] | undefined }): { text: string; file: string } {
  if (from.config !== undefined && from.kw?.length) throw new UserError('create: --config and --kw do not go together');
  if (from.config !== undefined) {
    const file = path.resolve(from.config);
    return { text: readServiceText(file, path.basename(file)), file };
  }
  const changes = (from.kw ?? []).map(parseAssignment);
  try {
    return { text: setKeywords('[DEFAULT]\n', changes), file: '<--kw>' };
  } catch (e) {
    if (e instanceof EditError) throw new UserError(e.message);
    throw e;
  }
}

export async function cmdCreate(paths: FerryPaths, svc: string, nodename: string, from: { config?: string | undefined; kw?: readonly string[] | undefined }, opts: LifecycleOptions): Promise<void> {
  const file = serviceFile(paths, svc);
  const { text, file: origin } = createText(from);
  checkValid(text, origin, svc, nodename);
  await locked(paths, svc, nodename, file, 'create', opts, () => {
    if (fs.existsSync(file)) throw new UserError(`service ${svc} already exists (${file}); nothing changed`);
    writeFileAtomic(file, text);
  });
}

export async function cmdDelete(paths: FerryPaths, svc: string, nodename: string, opts: LifecycleOptions): Promise<void> {
  const file = serviceFile(paths, svc);
  readServiceText(file, svc); // a missing service is an operator error
  await locked(paths, svc, nodename, file, 'delete', opts, () => {
    if (!fs.existsSync(file)) throw new UserError(`service ${svc} does not exist (no ${file})`);
    // the tombstone first: a daemon that sees the file gone reads it, and replicates the delete
    const prev = readGen(paths, svc) ?? { updated: Math.floor(fs.statSync(file).mtimeMs), sum: configSum(fs.readFileSync(file)), hist: [] };
    writeGen(paths, svc, nextGen(prev, DELETED_SUM, Date.now()));
    fs.rmSync(file);
  });
}

/**
 * $EDITOR (then $VISUAL, then vi) on a temporary copy; the result is validated and installed
 * only if it has no error and the file did not change meanwhile. Refused: nothing changed,
 * the copy is kept for the operator and named.
 */
export async function cmdEditConfig(paths: FerryPaths, svc: string, nodename: string, opts: LifecycleOptions, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = serviceFile(paths, svc);
  const before = readServiceText(file, svc);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-edit-${svc}-`));
  const tmp = path.join(dir, `${svc}.env`);
  fs.writeFileSync(tmp, before, { mode: 0o600 });
  const editor = env.EDITOR || env.VISUAL || 'vi';
  const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', tmp], { stdio: 'inherit' });
  if (r.status !== 0) throw new UserError(`editor ${editor} exited with ${r.status ?? r.signal}; nothing changed (your copy: ${tmp})`);
  const after = readServiceText(tmp, svc);
  if (after === before) {
    fs.rmSync(dir, { recursive: true, force: true });
    return 'no change';
  }
  checkValid(after, tmp, svc, nodename);
  await locked(paths, svc, nodename, file, 'edit config', opts, () => {
    if (readServiceText(file, svc) !== before) throw new UserError(`${file} changed while you edited it; nothing changed (your copy: ${tmp})`);
    writeFileAtomic(file, after);
  });
  fs.rmSync(dir, { recursive: true, force: true });
  return 'installed';
}

/** Register create, delete, edit on svcmgr's program. */
export function registerLifecycleCommands(program: Command, ctx: CliContext, services: () => string[], opts: () => LifecycleOptions): void {
  program
    .command('create')
    .description('create the service from --config <file>, or from --kw <kw>=<value> ... ([DEFAULT] keywords)')
    .option('--config <file>', 'service file to install as is (validated first)')
    .option('--kw <assignment...>', 'keyword of [DEFAULT], e.g. --kw nodes="n1 n2" --kw orchestrate=ha')
    .action(async (o: { config?: string; kw?: string[] }) => {
      if (o.config === undefined && !o.kw?.length) throw new UserError('create: give --config <file> or --kw <kw>=<value>');
      for (const name of services()) await cmdCreate(ctx.paths, name, ctx.nodename, o, opts());
    });
  program
    .command('delete')
    .description('delete the service configuration here and, through the daemons, on its other nodes (stop it first)')
    .action(async () => {
      for (const name of services()) await cmdDelete(ctx.paths, name, ctx.nodename, opts());
    });
  const edit = program.command('edit').description('edit config: $EDITOR on a copy, validated before it is installed');
  edit.command('config').description('$EDITOR on a copy of the service file; installed only if valid').action(async () => {
    for (const name of services()) {
      const r = await cmdEditConfig(ctx.paths, name, ctx.nodename, opts());
      if (r === 'no change') process.stdout.write(`${name}: no change\n`);
    }
  });
}
