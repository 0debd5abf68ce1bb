// Who an app command runs as and with which environment: the `user`, `environment` and
// `ocf_params` keywords turned into uid/gid and variables, with errors as plain messages.
import { run } from '../util/exec.js';
import { shlexSplit } from '../util/shlex.js';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * Resolve a user name (or numeric uid) through NSS (`getent passwd`), so LDAP/sssd users
 * work as well as /etc/passwd ones. Throws "unknown user x" when it does not exist.
 * Note: the command gets the user's primary group only (libuv drops supplementary groups).
 */
export async function resolveUser(user: string): Promise<RunAs> {
  const r = await run('getent', ['passwd', '--', user], { timeout: 10_000 });
  if (r.exitCode === 2) throw new Error(`unknown user ${user}`);
  if (!r.ok) throw new Error(`cannot resolve user ${user}: ${r.stderr.trim() || `getent exit ${r.exitCode ?? r.signal}`}`);
  const fields = r.stdout.split('\n')[0]!.split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (fields.length < 7 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`cannot resolve user ${user}: unexpected passwd entry`);
  }
  return { name: fields[0]!, uid, gid, home: fields[5]! };
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parse a shlex list of NAME=VALUE (`environment`, `ocf_params`). Throws with the keyword
 * name and the offending word.
 */
export function parseAssignments(raw: string | undefined, keyword: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw.trim() === '') return out;
  for (const word of shlexSplit(raw)) {
    const eq = word.indexOf('=');
    const name = eq > 0 ? word.slice(0, eq) : '';
    if (!envName.test(name)) throw new Error(`${keyword}: expected NAME=VALUE, got "${word}"`);
    out[name] = word.slice(eq + 1);
  }
  return out;
}

/** ferry's environment as a plain record, without variables matching `drop`. */
export function baseEnv(drop?: RegExp): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !(drop?.test(k) ?? false)) env[k] = v;
  }
  return env;
}

/** Variables every app command sees, so launchers can tell which service called them. */
export function serviceEnv(svcname: string, rid: string, nodename: string): Record<string, string> {
  return {
    FERRY_SVCNAME: svcname,
    FERRY_RID: rid,
    FERRY_NODENAME: nodename,
    // v1 launchers read these
    OPENSVC_SVCNAME: svcname,
    OPENSVC_RID: rid,
  };
}
