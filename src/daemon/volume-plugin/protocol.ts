// Docker's volume plugin protocol (docs/volume-plugin.md), the pure part: which endpoints
// exist, what a well-formed request of each looks like, the rules of a volume name. No I/O:
// the requests are checked here before anything touches a disk.
import { volumeNameProblem } from '../../util/volume-name.js';

export { VOLUME_NAME_MAX, VOLUME_NAME_RE, volumeNameProblem } from '../../util/volume-name.js';

export const CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';

/** The plugin's name ([cluster] volume_plugin): the socket /run/docker/plugins/<name>.sock. */
export const PLUGIN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** The metadata file inside each volume directory. */
export const VOLUME_META = '.ferry-volume.json';

export function pluginNameProblem(name: string): string | undefined {
  return PLUGIN_NAME_RE.test(name) ? undefined : `"${name.slice(0, 80)}" is not a plugin name (1-64 characters of A-Z a-z 0-9 _ . -, not starting with _ . -)`;
}

export type PluginRequest =
  | { op: 'activate' }
  | { op: 'capabilities' }
  | { op: 'list' }
  | { op: 'create'; name: string; opts: Record<string, string> }
  | { op: 'remove'; name: string }
  | { op: 'get'; name: string }
  | { op: 'path'; name: string }
  | { op: 'mount'; name: string; id: string }
  | { op: 'unmount'; name: string; id: string };

const ENDPOINTS: Record<string, PluginRequest['op']> = {
  '/Plugin.Activate': 'activate',
  '/VolumeDriver.Capabilities': 'capabilities',
  '/VolumeDriver.List': 'list',
  '/VolumeDriver.Create': 'create',
  '/VolumeDriver.Remove': 'remove',
  '/VolumeDriver.Get': 'get',
  '/VolumeDriver.Path': 'path',
  '/VolumeDriver.Mount': 'mount',
  '/VolumeDriver.Unmount': 'unmount',
};

/** Options `docker volume create -o` may give. */
export const CREATE_OPTIONS = ['service'] as const;
const ID_MAX = 256;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The request of an endpoint from its URL path and body text, or the one-line Err to answer.
 * `status` 404 for an unknown endpoint (Docker then knows the plugin does not implement it).
 */
export function parseRequest(url: string, body: string): { req: PluginRequest } | { err: string; status: number } {
  const op = Object.hasOwn(ENDPOINTS, url) ? ENDPOINTS[url] : undefined;
  if (!op) return { err: `unknown endpoint ${JSON.stringify(url.slice(0, 80))}`, status: 404 };
  if (op === 'activate' || op === 'capabilities' || op === 'list') return { req: { op } };
  let v: unknown;
  try {
    v = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return { err: 'request body is not JSON', status: 400 };
  }
  if (!isObject(v)) return { err: 'request body is not a JSON object', status: 400 };
  const name = v.Name;
  if (typeof name !== 'string') return { err: 'missing volume Name', status: 400 };
  const bad = volumeNameProblem(name);
  if (bad) return { err: bad, status: 400 };
  if (op === 'create') {
    const opts: Record<string, string> = {};
    if (v.Opts !== undefined && v.Opts !== null) {
      if (!isObject(v.Opts)) return { err: 'Opts is not an object', status: 400 };
      for (const [k, o] of Object.entries(v.Opts)) {
        if (!(CREATE_OPTIONS as readonly string[]).includes(k)) return { err: `unknown option ${JSON.stringify(k.slice(0, 40))} (known: ${CREATE_OPTIONS.join(', ')})`, status: 400 };
        if (typeof o !== 'string') return { err: `option ${k} is not a string`, status: 400 };
        opts[k] = o;
      }
    }
    return { req: { op, name, opts } };
  }
  if (op === 'mount' || op === 'unmount') {
    const id = v.ID ?? '';
    if (typeof id !== 'string' || id.length > ID_MAX) return { err: 'bad mount ID', status: 400 };
    return { req: { op, name, id } };
  }
  return { req: { op, name } };
}

export const ACTIVATE_ANSWER = { Implements: ['VolumeDriver'] };
/** global: the volume is known cluster-wide (it follows its service), docker does not keep it per node */
export const CAPABILITIES_ANSWER = { Capabilities: { Scope: 'global' } };

/** Where a service runs, as the daemon sees it. */
export interface ServicePlace {
  /** its configuration exists on this node */
  known: boolean;
  /** it runs (or is starting/stopping) here */
  here: boolean;
  /** the other nodes it is seen running on */
  elsewhere: string[];
}

/** The refusal for a volume whose service does not run here, or undefined when it does. */
export function notHereProblem(svc: string, place: ServicePlace): string | undefined {
  if (!place.known) return `unknown service ${JSON.stringify(svc.slice(0, 80))}`;
  if (place.here) return undefined;
  const on = place.elsewhere.length ? ` (it runs on ${place.elsewhere.join(', ')})` : ' (it runs nowhere)';
  return `service ${svc} does not run on this node${on}`;
}
