// SCSI-3 persistent reservations through `sg_persist` (sg3-utils): read the registered keys
// and the reservation of a device, register, reserve (type 5, Write Exclusive – Registrants
// Only), preempt (or preempt-and-abort), release, unregister. One job: speak to the tool and
// read its output; what to do with a reservation is pr-disks.ts's business.
//
// Output formats (sg3-utils 1.46, `-n` = no INQUIRY header), as captured from LIO in the VM
// lane (test/unit/scsi-pr.test.ts keeps the captures):
//   -i -k   "  PR generation=0x3, 2 registered reservation keys follow:\n    0x123456789abcdef\n ..."
//           "  PR generation=0x0, there are NO registered reservation keys"
//   -i -r   "  PR generation=0x3, Reservation follows:\n    Key=0x123456789abcdef\n    scope: LU_SCOPE,  type: Write Exclusive, registrants only"
//           "  PR generation=0x0, there is NO reservation held"
// Keys are printed without leading zeros, so keys are compared as numbers (sameKey).
// Exit codes: 0 ok, 6 unit attention (e.g. "Registrations preempted": the command after it
// works, so every command is retried on it), 24 reservation conflict.
import type { Logger } from '../log.js';
import { run, type RunResult } from '../util/exec.js';

/** sg_persist's own SCSI command timeout is 60 s; ours is a bit longer. */
const SG_TIMEOUT = 90_000;
/** Unit attentions are reported once per condition: a few retries drain them. */
const UA_RETRIES = 3;
export const EXIT_UNIT_ATTENTION = 6;
export const EXIT_RESERVATION_CONFLICT = 24;

/** Reservation type 5: Write Exclusive – Registrants Only. */
export const PR_TYPE = 5;

export interface PrKeys {
  generation: number | undefined;
  /** normalized (see normalizeKey), in the device's order */
  keys: string[];
}

export interface PrReservation {
  generation: number | undefined;
  /** undefined when no reservation is held */
  holder: { key: string; type: string; scope: string } | undefined;
}

export class ScsiPrError extends Error {
  constructor(
    message: string,
    readonly device: string,
    readonly result: RunResult | undefined,
  ) {
    super(message);
    this.name = 'ScsiPrError';
  }

  get conflict(): boolean {
    return this.result?.exitCode === EXIT_RESERVATION_CONFLICT;
  }
}

/** "0x0123abc" / "123ABC" / "0X00ff" → "0x123abc": lower case hex without leading zeros. Throws on a non-key. */
export function normalizeKey(key: string): string {
  const s = key.trim();
  const hex = /^0x/i.test(s) ? s.slice(2) : s;
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new Error(`not a reservation key (up to 16 hex digits): "${key}"`);
  return `0x${BigInt(`0x${hex}`).toString(16)}`;
}

export function sameKey(a: string, b: string): boolean {
  try {
    return normalizeKey(a) === normalizeKey(b);
  } catch {
    return false;
  }
}

function generation(text: string): number | undefined {
  const m = /PR generation=0x([0-9a-f]+)/i.exec(text);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/** Parse `sg_persist -n -i -k` stdout. Throws when the text is not a key list. */
export function parseKeys(stdout: string): PrKeys {
  const gen = generation(stdout);
  if (/there are NO registered reservation keys/i.test(stdout)) return { generation: gen, keys: [] };
  const head = /registered reservation keys? follows?:/i.exec(stdout);
  if (!head) throw new Error(`unexpected sg_persist read-keys output: ${oneLine(stdout) || '(empty)'}`);
  const keys: string[] = [];
  for (const line of stdout.slice(head.index + head[0].length).split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    if (!/^0x[0-9a-f]+$/i.test(t)) break;
    keys.push(normalizeKey(t));
  }
  const count = /(\d+) registered reservation keys? follows?/i.exec(stdout);
  if (count && Number(count[1]) !== keys.length) {
    throw new Error(`sg_persist announced ${count[1]} keys but listed ${keys.length}: ${oneLine(stdout)}`);
  }
  return { generation: gen, keys };
}

/** Parse `sg_persist -n -i -r` stdout. Throws when the text is not a reservation report. */
export function parseReservation(stdout: string): PrReservation {
  const gen = generation(stdout);
  if (/there is NO reservation held/i.test(stdout)) return { generation: gen, holder: undefined };
  if (!/Reservation follows/i.test(stdout)) throw new Error(`unexpected sg_persist read-reservation output: ${oneLine(stdout) || '(empty)'}`);
  const key = /Key\s*=\s*(0x[0-9a-f]+)/i.exec(stdout);
  if (!key) throw new Error(`sg_persist reported a reservation without a key: ${oneLine(stdout)}`);
  const scope = /scope:\s*([^,\n]+?)\s*,/i.exec(stdout)?.[1] ?? '';
  const type = /type:\s*([^\n]+?)\s*$/im.exec(stdout)?.[1] ?? '';
  return { generation: gen, holder: { key: normalizeKey(key[1]!), type, scope } };
}

/** Is the reservation type 5 (as sg_persist names it)? */
export function isType5(type: string): boolean {
  return /write exclusive,\s*registrants only/i.test(type);
}

function oneLine(text: string): string {
  return text.trim().replace(/\s+/g, ' ').slice(0, 200);
}

/** The telling part of sg_persist's stderr: its lines minus the generic "sg_persist failed:" trailer. */
export function stderrSummary(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const useful = lines.filter((l) => !/^sg_persist failed:/.test(l) && !/^Persistent reservation (in|out):$/.test(l));
  return (useful.length ? useful : lines).join('; ');
}

/**
 * Run sg_persist, retrying on unit attention. Resolves with the last result; throws a
 * ScsiPrError naming the device, the command and sg_persist's stderr when it failed.
 * Also guards against a caller stuck in the kernel (PREEMPT AND ABORT with tcm_loop: the
 * process cannot even be killed, so `run` would never see it exit).
 */
async function sgPersist(what: string, device: string, args: string[], log?: Logger): Promise<RunResult> {
  // `--`: the device is an operand even if a configuration names it "-V"
  const argv = ['-n', ...args, '--', device];
  let r: RunResult | undefined;
  for (let attempt = 0; attempt <= UA_RETRIES; attempt++) {
    let guard: NodeJS.Timeout | undefined;
    const stuck = new Promise<undefined>((resolve) => {
      guard = setTimeout(() => resolve(undefined), SG_TIMEOUT + 10_000);
      guard.unref();
    });
    r = await Promise.race([run('sg_persist', argv, { timeout: SG_TIMEOUT, log }), stuck]);
    clearTimeout(guard);
    if (!r) {
      throw new ScsiPrError(`${what} on ${device} failed: sg_persist ${argv.join(' ')} did not return after ${(SG_TIMEOUT + 10_000) / 1000} s (stuck in the kernel?)`, device, undefined);
    }
    if (r.ok) return r;
    if (r.exitCode !== EXIT_UNIT_ATTENTION) break;
    log?.debug({ device, cmd: r.command }, `unit attention: ${stderrSummary(r.stderr)}; retrying`);
  }
  const why = r!.timedOut ? 'timed out' : r!.exitCode === undefined ? `killed by ${r!.signal ?? 'signal'}` : `exit ${r!.exitCode}`;
  const detail = stderrSummary(r!.stderr) || oneLine(r!.stdout);
  throw new ScsiPrError(`${what} on ${device} failed: ${r!.command}: ${why}${detail ? `: ${detail}` : ''}`, device, r);
}

export async function readKeys(device: string, log?: Logger): Promise<PrKeys> {
  const r = await sgPersist('reading the registered keys', device, ['-i', '-k'], log);
  try {
    return parseKeys(r.stdout);
  } catch (e) {
    throw new ScsiPrError(`reading the registered keys on ${device}: ${(e as Error).message}`, device, r);
  }
}

export async function readReservation(device: string, log?: Logger): Promise<PrReservation> {
  const r = await sgPersist('reading the reservation', device, ['-i', '-r'], log);
  try {
    return parseReservation(r.stdout);
  } catch (e) {
    throw new ScsiPrError(`reading the reservation on ${device}: ${(e as Error).message}`, device, r);
  }
}

/** REGISTER AND IGNORE EXISTING KEY: registers `key` for this I_T nexus (idempotent). */
export async function register(device: string, key: string, log?: Logger): Promise<void> {
  await sgPersist(`registering key ${key}`, device, ['-o', '-I', '-S', key], log);
}

/** RESERVE type 5 with `key` (must be registered). Reserving again as the holder is a no-op. */
export async function reserve(device: string, key: string, log?: Logger): Promise<void> {
  await sgPersist(`reserving with key ${key}`, device, ['-o', '-R', '-T', String(PR_TYPE), '-K', key], log);
}

/**
 * PREEMPT (abort = false) or PREEMPT AND ABORT (abort = true) the registrations of `victim`;
 * when the victim holds the reservation it moves to `key` (type 5).
 */
export async function preempt(device: string, key: string, victim: string, opts: { abort: boolean }, log?: Logger): Promise<void> {
  const flag = opts.abort ? '-A' : '-P';
  await sgPersist(`${opts.abort ? 'preempting and aborting' : 'preempting'} key ${victim}`, device, ['-o', flag, '-T', String(PR_TYPE), '-K', key, '-S', victim], log);
}

/** RELEASE the reservation held with `key`. */
export async function release(device: string, key: string, log?: Logger): Promise<void> {
  await sgPersist(`releasing the reservation of key ${key}`, device, ['-o', '-L', '-T', String(PR_TYPE), '-K', key], log);
}

/** Unregister `key` (REGISTER with service action key 0). */
export async function unregister(device: string, key: string, log?: Logger): Promise<void> {
  await sgPersist(`unregistering key ${key}`, device, ['-o', '-G', '-K', key, '-S', '0'], log);
}
